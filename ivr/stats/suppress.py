"""Small numbers stay hidden: the one rule every report table goes through.

- A count under the threshold (default 5) shows as "<5", zero included.
- A total is exact only when every count it adds up is shown. A total that would include a hidden
  count shows instead the range the shown counts already imply: the shown counts' sum, up to that
  sum plus (threshold - 1) for each hidden one, e.g. "412–436" (or "<5" when even the top of the
  range is under the threshold).

So every exact number in a table is a count of at least the threshold or a sum of such counts, and
every range can be worked out from the counts shown: nothing can be subtracted from a total to
recover a hidden count. Each hidden count can still be any of 0 to threshold - 1 (1 to
threshold - 1 when it is its row's only count), which is why the threshold is at least 3.
tests/test_stats_report.py checks this by trying every table consistent with what is shown.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Table:
    """A report table as shown and exported: every value already suppressed, as text."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Grid:
    """Counts by row and column label, before suppression. `row_totals` adds a Total column
    (each row's sum), `column_totals` a Total row (each column's sum, and the grand total)."""

    title: str
    row_header: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]
    row_totals: bool = True
    column_totals: bool = True


def shown(count: int, threshold: int) -> str:
    return str(count) if count >= threshold else f"<{threshold}"


def total(counts: list[int], threshold: int) -> str:
    """A sum as the rule allows: exact when all its counts are shown, otherwise their range."""
    visible = [n for n in counts if n >= threshold]
    low = sum(visible)
    hidden = len(counts) - len(visible)
    if not hidden:
        return shown(low, threshold)
    high = low + hidden * (threshold - 1)
    return f"<{threshold}" if high < threshold else f"{low}–{high}"


def exact(text: str) -> int | None:
    """The number a shown value states exactly, or None when it is hidden or a range."""
    return int(text) if text.isdigit() else None


def protect(grid: Grid, threshold: int) -> Table:
    """The grid as a table that follows the rule. A total of a single row or column would only
    repeat it, and is left out."""
    grid = replace(grid, row_totals=grid.row_totals and len(grid.columns) > 1,
                   column_totals=grid.column_totals and len(grid.rows) > 1)
    columns = [grid.row_header, *grid.columns] + (["Total"] if grid.row_totals else [])
    rows = []
    for label, counts in zip(grid.rows, grid.cells):
        row = [label, *(shown(n, threshold) for n in counts)]
        if grid.row_totals:
            row.append(total(list(counts), threshold))
        rows.append(tuple(row))
    if grid.column_totals:
        sums = [total([counts[j] for counts in grid.cells], threshold)
                for j in range(len(grid.columns))]
        grand = [total([n for counts in grid.cells for n in counts], threshold)] if grid.row_totals else []
        rows.append(("Total", *sums, *grand))
    return Table(grid.title, tuple(columns), tuple(rows))
