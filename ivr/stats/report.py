"""The report for staff and funders: tables of counts over a date range, small numbers hidden.

`build(store, start, end, by)` returns the tables (for the CLI, a console page, a CSV download);
`render` prints them; `write_csv` writes one CSV file per table.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable

from .events import BAND_LABELS, MISSES, OUTCOMES, TEXTS
from .store import Store
from .suppress import Grid, Table, exact, protect

PERIODS: dict[str, Callable[[date], str]] = {
    "day": lambda day: day.isoformat(),
    "week": lambda day: "{0}-W{1:02d}".format(*day.isocalendar()),  # ISO weeks start on Monday
    "month": lambda day: f"{day.year}-{day.month:02d}",
}
TRANSFERS = "Transfers by destination and how they ended"
NONE = "(none)"  # a label that does not apply: a call that ended before any menu, no county


class Counts:
    """The stored counts of a date range, summed by what each table needs."""

    def __init__(self, rows: Iterable[tuple], period: Callable[[date], str]):
        self.sums: dict[str, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
        for hour, event, lang, subject, detail, n in rows:
            self.sums[event][(period(hour.date()), hour.hour, lang, subject, detail)] += n

    def by(self, event: str, row: Callable[[tuple], str], column: Callable[[tuple], str],
           keep: Callable[[tuple], bool] = lambda key: True) -> dict[tuple[str, str], int]:
        """Counts of `event` by (row label, column label); each key is (period, hour, lang,
        subject, detail)."""
        found: dict[tuple[str, str], int] = defaultdict(int)
        for key, n in self.sums[event].items():
            if keep(key):
                found[(row(key), column(key))] += n
        return found


def _labels(found: dict[tuple[str, str], int], axis: int,
            order: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The labels on one axis that have counts: in `order` when given, else the busiest first.
    A label with nothing counted is left out, as a menu nobody reached is."""
    sums: dict[str, int] = defaultdict(int)
    for key, n in found.items():
        sums[key[axis]] += n
    if order is not None:
        return tuple(label for label in order if sums.get(label))
    return tuple(sorted((label for label in sums if sums[label]), key=lambda l: (-sums[l], l)))


def _grid(title: str, row_header: str, found: dict[tuple[str, str], int], *,
          rows: tuple[str, ...] | None = None, columns: tuple[str, ...] | None = None,
          column_order: tuple[str, ...] | None = None, **totals: bool) -> Grid:
    """A grid of `found`. `rows` or `columns`, when given, are all listed (periods, a single
    measure); otherwise only labels with counts are."""
    if not any(found.values()):
        return Grid(title, row_header, (), (), (), **totals)
    rows = rows if rows is not None else _labels(found, 0)
    columns = columns if columns is not None else _labels(found, 1, column_order)
    cells = tuple(tuple(found.get((r, c), 0) for c in columns) for r in rows)
    return Grid(title, row_header, rows, columns, cells, **totals)


def periods(start: date, end: date, by: str) -> tuple[str, ...]:
    """Every period from start to end (both included), in order, empty ones too."""
    labels: list[str] = []
    day = start
    while day <= end:
        label = PERIODS[by](day)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return tuple(labels)


def _with_connect_rate(table: Table) -> Table:
    """Add each destination's share of transfers that reached a person, where the numbers it
    comes from are shown exactly (a rate of hidden numbers would give them away)."""
    if not table.rows:
        return table
    rows = []
    for row in table.rows:
        # "connected" is the first outcome when any transfer connected; "Total" is the last column.
        connected = exact(row[1]) if table.columns[1] == "connected" else 0
        ended = exact(row[-1])
        rate = f"{round(100 * connected / ended)}%" if connected is not None and ended else "–"
        rows.append((*row, rate))
    return Table(table.title, (*table.columns, "Connect rate"), tuple(rows))


def build(store: Store, start: date, end: date, by: str = "month", threshold: int = 5) -> list[Table]:
    """Every report table for the days `start` to `end` (both included), by day, week or month."""
    if by not in PERIODS:
        raise ValueError(f"by must be one of {', '.join(PERIODS)}")
    if threshold < 3:
        raise ValueError("the threshold must be at least 3")
    rows = store.read(datetime.combine(start, datetime.min.time()),
                      datetime.combine(end + timedelta(days=1), datetime.min.time()))
    counts = Counts(rows, PERIODS[by])
    span = periods(start, end, by)
    period = by.capitalize()

    def per_period(key: tuple) -> str:
        return key[0]

    def label(position: int) -> Callable[[tuple], str]:
        return lambda key: key[position] or NONE

    grids = [
        _grid("Calls answered", period, counts.by("call.answered", per_period, lambda k: "Calls"),
              rows=span, columns=("Calls",), row_totals=False),
        _grid("Languages chosen", period, counts.by("language", per_period, label(2)), rows=span),
        _grid("Menus reached, by language", "Menu", counts.by("menu", label(3), label(2))),
        _grid("Wrong keys and silence, by menu", "Menu", counts.by("miss", label(3), label(4)),
              column_order=MISSES),
        _grid("Where calls ended (last menu reached), by length of call", "Last menu",
              counts.by("call.ended", label(3), label(4)), column_order=BAND_LABELS),
        _grid(TRANSFERS, "Destination",
              counts.by("transfer.ended", label(3), label(4)), column_order=OUTCOMES),
        _grid("Transfers that did not reach a person, by destination and hour of day",
              "Destination", counts.by("transfer.ended", label(3), lambda k: f"{k[1]:02d}",
                                       keep=lambda k: k[4] != "connected"),
              column_order=tuple(f"{h:02d}" for h in range(24))),
        _grid("Transfers tried, by menu and destination", "Menu → destination",
              counts.by("transfer.tried", lambda k: f"{k[4]} → {k[3]}", lambda k: "Tried"),
              columns=("Tried",), row_totals=False),
        _grid("Directory searches, by county and kind of service", "County",
              counts.by("search", label(4), label(3))),
        _grid("Texts", period, counts.by("text", per_period, label(4)), rows=span,
              column_order=TEXTS, row_totals=False),
    ]
    dropped = counts.by("stats.dropped", per_period, lambda k: "Events")
    if dropped:  # only when the database was unavailable for too long
        grids.append(_grid("Events that could not be stored", period, dropped, rows=span,
                           columns=("Events",), row_totals=False))
    tables = [protect(grid, threshold) for grid in grids]
    return [_with_connect_rate(t) if t.title == TRANSFERS else t for t in tables]


def render(tables: list[Table]) -> str:
    """The tables as plain text, columns aligned, numbers to the right."""
    out = []
    for table in tables:
        out.append(table.title)
        if not table.rows:
            out.append("  (nothing counted)\n")
            continue
        widths = [max(len(str(row[i])) for row in (table.columns, *table.rows))
                  for i in range(len(table.columns))]
        for row in (table.columns, *table.rows):
            cells = [row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:])]
            out.append("  " + "  ".join(cells).rstrip())
        out.append("")
    return "\n".join(out)


def slug(title: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in title).split()
    return "-".join(words)


def write_csv(tables: list[Table], folder: Path) -> list[Path]:
    """One CSV file per table (UTF-8, header row first); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = folder / f"{slug(table.title)}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows(table.rows)
        written.append(path)
    return written
