"""Partners see how their courses are used, across hospitals, without learners being
identifiable: small groups are hidden and no hidden number follows from the shown ones."""

from __future__ import annotations

import itertools
import random
import re
from fractions import Fraction
from typing import Any

import pytest
from flask import Flask

from courses.partners.anonymity import K, ProtectedTable, protect
from lms_core.models import Role
from tests.partners.conftest import NORTHBRIDGE, as_author, main_text, make_attempt

STATS = f"/partner/{NORTHBRIDGE}/courses/four-minute-reset/statistics"
CHECK = "why-pause/what-is-a-reset"  # a knowledge check of four-minute-reset 1.0.0


def attacker(table: ProtectedTable) -> dict[tuple[int, int], int]:
    """Every hidden cell that the shown ones determine through the table's sums: exact
    linear algebra over all rows and columns together, not just one line at a time.
    Cells are keyed by grid position; the margins are row ``rows`` and column ``cols``."""
    rows, cols = len(table.cells), len(table.column_totals)
    grid = {(r, c): table.cells[r][c] for r in range(rows) for c in range(cols)}
    grid |= {(r, cols): table.row_totals[r] for r in range(rows)}
    grid |= {(rows, c): table.column_totals[c] for c in range(cols)}
    grid[(rows, cols)] = table.total
    unknown = [key for key, cell in grid.items() if not cell.shown]
    index = {key: i for i, key in enumerate(unknown)}
    lines = [([(r, c) for c in range(cols)], (r, cols)) for r in range(rows + 1)]
    lines += [([(r, c) for r in range(rows)], (rows, c)) for c in range(cols + 1)]
    equations = []  # coefficients over the unknowns, then the constant
    for members, total in lines:
        row = [Fraction(0)] * (len(unknown) + 1)
        for key, sign in [*((m, 1) for m in members), (total, -1)]:
            if key in index:
                row[index[key]] += sign
            else:
                row[-1] -= sign * grid[key].value
        equations.append(row)
    # Reduced row echelon form.
    pivots: list[int] = []
    r = 0
    for col in range(len(unknown)):
        pivot = next((i for i in range(r, len(equations)) if equations[i][col] != 0), None)
        if pivot is None:
            continue
        equations[r], equations[pivot] = equations[pivot], equations[r]
        equations[r] = [v / equations[r][col] for v in equations[r]]
        for i in range(len(equations)):
            if i != r and equations[i][col] != 0:
                factor = equations[i][col]
                equations[i] = [
                    a - factor * b for a, b in zip(equations[i], equations[r], strict=True)
                ]
        pivots.append(col)
        r += 1
    found = {}
    for row_index, col in enumerate(pivots):
        row = equations[row_index]
        if all(row[j] == 0 for j in range(len(unknown)) if j != col):
            found[unknown[col]] = int(row[-1])
    return found


def assert_safe(values: list[list[int]]) -> None:
    table = protect(values)
    cells = [c for row in table.cells for c in row] + table.row_totals + table.column_totals
    cells.append(table.total)
    assert all(c.value == 0 or c.value >= K for c in cells if c.shown), values
    recovered = attacker(table)
    assert not recovered, f"{values}: subtraction recovers {recovered}"
    # Hidden cells of a line whose total is shown hold 0 or at least K people together.
    rows, cols = len(values), len(values[0])
    for r in range(rows):
        if table.row_totals[r].shown:
            hidden = sum(c.value for c in table.cells[r] if not c.shown)
            assert hidden == 0 or hidden >= K, (values, r)
    for c in range(cols):
        if table.column_totals[c].shown:
            hidden = sum(
                table.cells[r][c].value for r in range(rows) if not table.cells[r][c].shown
            )
            assert hidden == 0 or hidden >= K, (values, c)


def test_a_small_cell_is_hidden_with_a_complement_so_totals_do_not_give_it_away() -> None:
    table = protect([[0, 0, 10], [0, 0, 3]])  # versions by (in progress, not passed, passed)
    assert not table.cells[1][2].shown
    assert not table.cells[0][2].shown  # else 13 - 10 = 3
    assert table.total.shown and table.total.value == 13
    assert_safe([[0, 0, 10], [0, 0, 3]])


@pytest.mark.parametrize("seed", range(40))
def test_no_table_leaks_a_small_group_by_subtraction(seed: int) -> None:
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 4), 3
    values = [
        [rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 12, 30]) for _ in range(cols)] for _ in range(rows)
    ]
    assert_safe(values)


def test_every_small_table_of_two_versions_is_safe() -> None:
    for a, b, c, d in itertools.product([0, 1, 4, 5, 7], repeat=4):
        assert_safe([[a, b, 8], [c, d, 2]])


def learners(make_user: Any, tenant: Any, count: int, prefix: str) -> list[Any]:
    return [make_user(tenant, roles=(Role.LEARNER,), subject=f"{prefix}-{i}") for i in range(count)]


def cells_of(page: str) -> list[str]:
    table = page.split("<table", 1)[1].split("</table>", 1)[0]
    return re.findall(r"<td>(.*?)</td>", table)


def test_four_learners_show_nothing(
    app: Flask, client: Any, author: Any, tenant: Any, make_user: Any
) -> None:
    for user in learners(make_user, tenant, 4, "four"):
        make_attempt(app, tenant, user, "four-minute-reset", answers={CHECK: ["a"]})
    as_author(client, author)
    page = client.get(STATS).get_data(as_text=True)
    assert set(cells_of(page)) <= {"0", "not shown"}, main_text(page)
    assert "Fewer than 5 learners answered" in page
    overview = client.get(f"/partner/{NORTHBRIDGE}/").get_data(as_text=True)
    assert "not shown" in overview


def test_counts_across_hospitals_with_small_groups_protected(
    app: Flask, client: Any, author: Any, make_tenant: Any, make_user: Any
) -> None:
    general, clinic = make_tenant("general", "General"), make_tenant("clinic", "Clinic")
    for user in learners(make_user, general, 7, "g"):
        make_attempt(app, general, user, "four-minute-reset", state="passed")
    for user in learners(make_user, clinic, 3, "c"):
        make_attempt(app, clinic, user, "four-minute-reset", state="passed")
    for user in learners(make_user, clinic, 2, "f"):
        make_attempt(app, clinic, user, "four-minute-reset", state="failed")
    as_author(client, author)
    page = client.get(STATS).get_data(as_text=True)
    # One version: in progress 0, not passed 2 (hidden), passed 10; total 12. Hiding only
    # the 2 would give it back as 12 - 10, so the passed count is hidden with it.
    assert cells_of(page) == ["0", "not shown", "not shown", "12"] * 2, main_text(page)
    assert "from 2 hospitals" in page


def test_question_difficulty_over_first_tries(
    app: Flask, client: Any, author: Any, tenant: Any, make_user: Any
) -> None:
    people = learners(make_user, tenant, 6, "q")
    # First tries: 2 right, 3 chose b, 1 chose c. Second attempts (all right) do not count.
    for user, answer in zip(people, ["a", "a", "b", "b", "b", "c"], strict=True):
        make_attempt(
            app, tenant, user, "four-minute-reset", state="failed", answers={CHECK: [answer]}
        )
        make_attempt(app, tenant, user, "four-minute-reset", number=2, answers={CHECK: ["a"]})
    as_author(client, author)
    page = client.get(STATS).get_data(as_text=True)
    # Each learner counted once, where their first passed attempt puts them.
    assert cells_of(page) == ["0", "0", "6", "6"] * 2, main_text(page)
    row = page.split("Which statement best describes a reset", 1)[1].split("</tr>", 1)[0]
    assert '35 % <span class="muted">of 5 to 9 learners' in row, main_text(page)
    assert "A long break away from the ward, taken once per shift." in row
    assert "(50 %)" in row


def test_reflections_are_never_shown_to_partners(
    app: Flask, client: Any, author: Any, tenant: Any, make_user: Any
) -> None:
    from courses import services
    from courses.models import Attempt, StepResponse
    from lms_core.extensions import db

    for user in learners(make_user, tenant, 6, "r"):
        make_attempt(app, tenant, user, "four-minute-reset", answers={CHECK: ["a"]})
    with app.app_context():
        version = services.find_version("four-minute-reset")
        assert version is not None
        reflection = next(s for s in version.steps if s.type == "reflection")
        for attempt in db.session.scalars(Attempt.for_tenant(tenant.id)):
            db.session.add(
                StepResponse(
                    tenant_id=tenant.id,
                    attempt_id=attempt.id,
                    step_id=reflection.id,
                    response={"text": "I was exhausted after the night on ward 7"},
                    completed=True,
                )
            )
        db.session.commit()
    as_author(client, author)
    for url in (
        STATS,
        f"/partner/{NORTHBRIDGE}/",
        f"/partner/{NORTHBRIDGE}/courses/four-minute-reset/",
    ):
        assert "exhausted" not in client.get(url).get_data(as_text=True)
