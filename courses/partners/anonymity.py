"""Counts of people that are safe to show a partner: small cells suppressed, and no cell
recoverable by subtraction from the totals shown beside it.

Primary suppression hides every count from 1 to ``K - 1``. Secondary (complementary)
suppression then works line by line — a line is a row or column of cells together with
its total — until, in every line whose total is shown:

* no single cell is hidden alone (the total minus the others would give it back), and
* the hidden cells together hold 0 or at least ``K`` people (else their sum is a small
  group of its own).

This is the classic cell-suppression rule of official statistics (e.g. Hundepool et al.,
*Statistical Disclosure Control*, 2012, §5.5), kept deliberately simple: for tables of
a few rows it hides a little more than an optimal solver would, never less. Zero is
shown: it stands for nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The fewest people that may stand behind a number a partner sees.
K = 5


@dataclass(frozen=True)
class Cell:
    value: int
    shown: bool

    @property
    def text(self) -> str:
        return str(self.value) if self.shown else "fewer than 5"


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
            if hidden[tr][tc]:
                # The total is unknown too: one unknown member would still follow from a
                # crossing line only, which that line's own check covers.
                continue
            hidden_sum = sum(grid[r][c] for r, c in hidden_members)
            if len(hidden_members) != 1 and not 0 < hidden_sum < k:
                continue
            candidates = sorted(
                ((grid[r][c], r, c) for r, c in members if not hidden[r][c] and grid[r][c] > 0),
            )
            if candidates:
                _, r, c = candidates[0]
                hidden[r][c] = True
            else:
                hidden[tr][tc] = True
            changed = True

    def cell(r: int, c: int) -> Cell:
        return Cell(grid[r][c], not hidden[r][c])

    return ProtectedTable(
        cells=[[cell(r, c) for c in range(cols)] for r in range(rows)],
        row_totals=[cell(r, cols) for r in range(rows)],
        column_totals=[cell(rows, c) for c in range(cols)],
        total=cell(rows, cols),
    )


def protect_count(value: int, k: int = K) -> Cell:
    """A number shown alone, with nothing to subtract it from."""
    return Cell(value, value == 0 or value >= k)
