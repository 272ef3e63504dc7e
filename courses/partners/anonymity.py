"""Counts of people that are safe to show a partner: small cells suppressed, and no cell
recoverable by subtraction from the totals shown beside it.

Primary suppression hides every count from 1 to ``K - 1``. Secondary (complementary)
suppression then works line by line — a line is a row or column of cells together with
its total — until, in every line whose total is shown:

* no single cell is hidden alone (the total minus the others would give it back),
* the hidden cells together hold 0 or at least ``K`` people (else their sum is a small
  group of its own), and
* a hidden total has a hidden member (else adding the members gives it back).

This is the classic cell-suppression rule of official statistics (e.g. Hundepool et al.,
*Statistical Disclosure Control*, 2012, §5.5). Lines alone can miss what several lines
give away together, so the whole table is then solved as a linear system and more is
hidden until no small hidden cell is determined by what is shown. For tables of a few
rows this hides a little more than an optimal solver would, never less. Zero is shown:
it stands for nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

#: The fewest people that may stand behind a number a partner sees.
K = 5


@dataclass(frozen=True)
class Cell:
    value: int
    shown: bool

    @property
    def text(self) -> str:
        # The same words for a small cell and for one hidden to protect it: "fewer than
        # 5" would tell which is which.
        return str(self.value) if self.shown else "not shown"


@dataclass(frozen=True)
class ProtectedTable:
    """``cells[r][c]`` with row totals, column totals and the grand total, each maybe hidden."""

    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell


def protect(values: Sequence[Sequence[int]], k: int = K) -> ProtectedTable:
    """Suppress a table of counts whose rows and columns partition its people."""
    rows, cols = len(values), len(values[0]) if values else 0
    # Work on one grid: interior cells, a total column, a total row, the grand total.
    grid = [[*list(row), sum(row)] for row in values]
    grid.append([sum(values[r][c] for r in range(rows)) for c in range(cols)] + [0])
    grid[rows][cols] = sum(grid[rows][c] for c in range(cols))
    hidden = [[0 < v < k for v in row] for row in grid]

    def lines() -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
        """(member cells, total cell) of every row and column, the margins included."""
        found = [([(r, c) for c in range(cols)], (r, cols)) for r in range(rows + 1)]
        found += [([(r, c) for r in range(rows)], (rows, c)) for c in range(cols + 1)]
        return found

    changed = True
    while changed:
        changed = False
        for members, total in lines():
            tr, tc = total
            hidden_members = [(r, c) for r, c in members if hidden[r][c]]
            hidden_sum = sum(grid[r][c] for r, c in hidden_members)
            if hidden[tr][tc]:
                # An unknown total is given back by its members unless one is unknown too.
                exposed = not hidden_members
            else:
                exposed = len(hidden_members) == 1 or 0 < hidden_sum < k
            if not exposed:
                continue
            candidates = sorted(
                (grid[r][c], r, c) for r, c in members if not hidden[r][c] and grid[r][c] > 0
            )
            if candidates:
                _, r, c = candidates[0]
                hidden[r][c] = True
            elif not hidden[tr][tc]:
                hidden[tr][tc] = True
            else:
                continue  # every member is zero: the total is zero too, and never hidden
            changed = True

        if not changed:
            # The line rule misses what several lines give away together (one row's
            # total minus other columns' sums...): solve the whole table as a linear
            # system, and hide more next to any small cell it still determines.
            for r, c in _determined(grid, hidden, lines()):
                if not 0 < grid[r][c] < k:
                    continue
                near = [
                    key
                    for members, total in lines()
                    if (r, c) in members or (r, c) == total
                    for key in [*members, total]
                ]
                anywhere = [(mr, mc) for mr in range(rows + 1) for mc in range(cols + 1)]
                for keys in (near, anywhere):
                    candidates = sorted(
                        (grid[mr][mc], mr, mc)
                        for mr, mc in keys
                        if not hidden[mr][mc] and grid[mr][mc] > 0
                    )
                    if candidates:
                        _, mr, mc = candidates[0]
                        hidden[mr][mc] = True
                        changed = True
                        break
                break

    def cell(r: int, c: int) -> Cell:
        return Cell(grid[r][c], not hidden[r][c])

    return ProtectedTable(
        cells=[[cell(r, c) for c in range(cols)] for r in range(rows)],
        row_totals=[cell(r, cols) for r in range(rows)],
        column_totals=[cell(rows, c) for c in range(cols)],
        total=cell(rows, cols),
    )


Line = tuple[list[tuple[int, int]], tuple[int, int]]


def _determined(
    grid: list[list[int]], hidden: list[list[bool]], lines: list[Line]
) -> list[tuple[int, int]]:
    """Hidden cells whose value follows from the shown ones and the table's sums:
    those whose unit vector lies in the row space of the sums' equations (exact, by
    reduced row echelon form over the rationals)."""
    unknown = [(r, c) for r, row in enumerate(hidden) for c, h in enumerate(row) if h]
    index = {key: i for i, key in enumerate(unknown)}
    width = len(unknown)
    equations = []
    for members, total in lines:
        row = [Fraction(0)] * width
        for key, sign in [*((m, 1) for m in members), (total, -1)]:
            if key in index:
                row[index[key]] += sign
        if any(row):
            equations.append(row)
    pivots: list[int] = []
    top = 0
    for col in range(width):
        pivot = next((i for i in range(top, len(equations)) if equations[i][col] != 0), None)
        if pivot is None:
            continue
        equations[top], equations[pivot] = equations[pivot], equations[top]
        lead = equations[top][col]
        equations[top] = [v / lead for v in equations[top]]
        for i, row in enumerate(equations):
            if i != top and row[col] != 0:
                factor = row[col]
                equations[i] = [a - factor * b for a, b in zip(row, equations[top], strict=True)]
        pivots.append(col)
        top += 1
    return [
        unknown[col]
        for row, col in zip(equations, pivots, strict=False)
        if all(row[j] == 0 for j in range(width) if j != col)
    ]


def protect_count(value: int, k: int = K) -> Cell:
    """A number shown alone, with nothing to subtract it from."""
    return Cell(value, value == 0 or value >= k)
