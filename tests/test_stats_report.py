"""The report: tables over a date range with small numbers hidden, as text, CSV and from Python."""
from __future__ import annotations

import csv
import itertools
from datetime import date, datetime

from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ivr.stats import (CallAnswered, CallEnded, DirectorySearch, LanguageChosen, MenuReached,
                       Statistics, TransferEnded)
from ivr.stats.cli import report
from ivr.stats.report import TRANSFERS, build, periods, render
from ivr.stats.suppress import Grid, Table, protect

SECRET = b"a deployment secret, 32 bytes.."


def fits(text: str, n: int) -> bool:
    """Whether a count n agrees with how a value is shown: "12", "<5" or "40–52"."""
    if text.isdigit():
        return n == int(text)
    if text.startswith("<"):
        return n < int(text[1:])
    low, high = text.split("–")
    return int(low) <= n <= int(high)


def worked_out(table: Table, threshold: int, listed_if_counted: bool = True) -> set[tuple[int, int]]:
    """The hidden counts a reader could work out exactly from the table alone: every table of
    counts consistent with what is shown is tried. Rows and columns listed only when something was
    counted in them tell the reader that their counts add up to at least 1."""
    total_column = table.columns[-1] == "Total"
    body = [row[1:len(row) - total_column] for row in table.rows if row[0] != "Total"]
    totals_row = next((row[1:] for row in table.rows if row[0] == "Total"), None)
    width = len(body[0])
    hidden = [(i, j) for i, row in enumerate(body) for j, text in enumerate(row) if not text.isdigit()]
    possible: dict[tuple[int, int], set[int]] = {cell: set() for cell in hidden}
    for guess in itertools.product(range(threshold), repeat=len(hidden)):
        counts = [[int(t) if t.isdigit() else 0 for t in row] for row in body]
        for (i, j), n in zip(hidden, guess):
            counts[i][j] = n
        rows = [sum(row) for row in counts]
        columns = [sum(row[j] for row in counts) for j in range(width)]
        if listed_if_counted and (min(rows) < 1 or min(columns) < 1):
            continue
        if total_column and not all(fits(row[-1], n) for row, n in zip(table.rows, rows)):
            continue
        if totals_row and not all(fits(t, n) for t, n in zip(totals_row, columns + [sum(rows)])):
            continue
        for cell, n in zip(hidden, guess):
            possible[cell].add(n)
    return {cell for cell, values in possible.items() if len(values) < 2}


@settings(max_examples=120, deadline=None)
@given(shape=st.sampled_from([(1, 1), (1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (2, 3), (3, 2)]),
       data=st.data(), threshold=st.integers(3, 5), row_totals=st.booleans(),
       column_totals=st.booleans())
def test_no_hidden_count_can_be_worked_out_from_what_a_table_shows(shape, data, threshold,
                                                                 row_totals, column_totals):
    height, width = shape
    cells = [data.draw(st.lists(st.integers(0, 9), min_size=width, max_size=width))
             for _ in range(height)]
    # As in the report: a category is listed only when something was counted in it.
    cells = [row for row in cells if any(row)]
    assume(cells)
    keep = [j for j in range(width) if any(row[j] for row in cells)]
    cells = [[row[j] for j in keep] for row in cells]
    grid = Grid("t", "label", tuple(f"r{i}" for i in range(len(cells))),
                tuple(f"c{j}" for j in keep), tuple(map(tuple, cells)), row_totals, column_totals)
    table = protect(grid, threshold)
    assert worked_out(table, threshold) == set()
    for row, counts in zip(table.rows, cells):  # and every count under the threshold is hidden
        assert all((text == f"<{threshold}") == (n < threshold) for text, n in zip(row[1:], counts))


def test_the_check_finds_a_count_that_an_exact_total_gives_away():
    naive = Table("t", ("label", "a", "b", "Total"), (("r", "<5", "7", "9"),))
    assert worked_out(naive, 5) == {(0, 0)}
    # Two hidden counts and their exact sum: 8 can only be 4 + 4.
    pinned = Table("t", ("label", "a", "b", "Total"), (("r", "<5", "<5", "8"),))
    assert worked_out(pinned, 5) == {(0, 0), (0, 1)}


def test_totals_are_exact_only_when_nothing_in_them_is_hidden():
    grid = Grid("Languages", "Month", ("2026-10", "2026-11"), ("en", "es"), ((40, 2), (51, 12)))
    table = protect(grid, 5)
    assert table.columns == ("Month", "en", "es", "Total")
    assert table.rows == (("2026-10", "40", "<5", "40–44"),
                          ("2026-11", "51", "12", "63"),
                          ("Total", "91", "12–16", "103–107"))


def recorded(url: str) -> Statistics:
    stats = Statistics.from_url(url, "America/New_York", SECRET, settle_seconds=0)
    november, october = datetime(2026, 11, 18, 10), datetime(2026, 10, 5, 22)
    for i in range(23):
        hour = october if i < 3 else november
        stats.record(CallAnswered(hour=hour))
        stats.record(LanguageChosen("fr" if i < 2 else "en", hour=hour))
        key = stats.call_key(f"CA{i:032d}")
        stats.record(MenuReached("naloxone" if i % 2 else "main", "en", call=key, hour=hour))
        stats.record(CallEnded.after(30 if i < 8 else 300, call=key, hour=hour))
    for outcome, n in (("connected", 12), ("busy", 6), ("no-answer", 2)):
        for _ in range(n):
            stats.record(TransferEnded("maine_211", outcome, hour=november))
    for _ in range(7):
        stats.record(DirectorySearch("naloxone", "Penobscot", hour=november))
    stats.record(DirectorySearch("naloxone", "York", hour=november))
    stats.stop()
    return stats


def test_the_report_counts_by_month_and_hides_small_numbers(database_url):
    stats = recorded(database_url)
    tables = {t.title: t for t in build(stats.store, date(2026, 10, 1), date(2026, 11, 30), "month")}
    assert tables["Calls answered"].rows == (("2026-10", "<5"), ("2026-11", "20"),
                                             ("Total", "20–24"))
    assert tables["Languages chosen"].rows == (("2026-10", "<5", "<5", "0–8"),
                                               ("2026-11", "20", "<5", "20–24"),
                                               ("Total", "20–24", "0–8", "20–32"))
    transfers = tables["Transfers by destination and how they ended"]
    assert transfers.columns == ("Destination", "connected", "busy", "no-answer", "Total",
                                 "Connect rate")
    assert transfers.rows[0] == ("maine_211", "12", "6", "<5", "18–22", "–")
    assert tables["Directory searches, by county and kind of service"].rows == (
        ("Penobscot", "7"), ("York", "<5"), ("Total", "7–11"))
    ended = tables["Where calls ended (last menu reached), by length of call"]
    assert ended.rows == (("main", "<5", "8", "8–12"), ("naloxone", "<5", "7", "7–11"),
                          ("Total", "0–8", "15", "15–23"))
    assert stats.report(date(2026, 10, 1), date(2026, 11, 30), "month") == list(tables.values())


def test_a_rate_is_shown_only_from_exact_numbers(tmp_path):
    stats = Statistics.from_url(f"sqlite:///{tmp_path / 's.sqlite3'}", "UTC", SECRET)
    for outcome, n in (("connected", 15), ("busy", 5)):
        for _ in range(n):
            stats.record(TransferEnded("maine_211", outcome, hour=datetime(2026, 11, 2, 9)))
    stats.stop()
    table = next(t for t in build(stats.store, date(2026, 11, 1), date(2026, 11, 30))
                 if t.title == TRANSFERS)
    assert table.rows[0] == ("maine_211", "15", "5", "20", "75%")


def test_periods_by_day_week_and_month():
    assert periods(date(2026, 11, 29), date(2026, 12, 1), "day") == ("2026-11-29", "2026-11-30",
                                                                       "2026-12-01")
    assert periods(date(2026, 11, 29), date(2026, 12, 1), "week") == ("2026-W48", "2026-W49")
    assert periods(date(2026, 10, 31), date(2026, 12, 1), "month") == ("2026-10", "2026-11",
                                                                        "2026-12")


def test_ivr_report_prints_tables_and_writes_csv_for_grant_reports(tmp_path):
    url = f"sqlite:///{tmp_path / 'stats.sqlite3'}"
    recorded(url)
    result = CliRunner().invoke(report, ["--database", url, "--from", "2026-11-01", "--to",
                                         "2026-11-30", "--by", "week", "--csv", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    assert "Calls answered\n  Week      Calls\n  2026-W44     <5\n  2026-W45     <5\n" in result.output
    assert "Transfers by destination and how they ended" in result.output
    with (tmp_path / "csv" / "calls-answered.csv").open(encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [["Week", "Calls"], ["2026-W44", "<5"],
                                            ["2026-W45", "<5"], ["2026-W46", "<5"],
                                            ["2026-W47", "20"], ["2026-W48", "<5"],
                                            ["2026-W49", "<5"], ["Total", "20–40"]]
    assert render(build_for(url)) in result.output


def build_for(url: str) -> list[Table]:
    return Statistics.from_url(url, "UTC", SECRET).report(date(2026, 11, 1), date(2026, 11, 30), "week")


def test_ivr_report_prune_deletes_counts_past_the_retention(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'stats.sqlite3'}"
    stats = Statistics.from_url(url, "UTC", SECRET)
    stats.record(CallAnswered(hour=datetime(2025, 9, 30, 12)))
    stats.record(CallAnswered(hour=datetime(2025, 10, 1, 0)))
    stats.stop()
    monkeypatch.setenv("IVR_STATS_RETENTION_MONTHS", "13")  # today is 2026-11-18
    result = CliRunner().invoke(report, ["prune", "--database", url])
    assert result.exit_code == 0, result.output
    assert "deleted 1 hourly counts from before 2025-10-01" in result.output
    assert [row[0] for row in stats.store.read(datetime(2000, 1, 1), datetime(2100, 1, 1))] == [
        datetime(2025, 10, 1, 0)]


def test_ivr_report_migrate_and_a_bad_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    result = CliRunner().invoke(report, ["migrate", "--database", url])
    assert result.exit_code == 0 and "up to date" in result.output
    bad = CliRunner().invoke(report, ["--database", "mysql://nowhere/x"])
    assert bad.exit_code == 1 and "cannot open the statistics database" in bad.output
