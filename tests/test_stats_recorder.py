"""Counting calls: exact totals per local hour, where calls end, nothing kept about a call after it,
and a writer that outlives a database that is down, locked or full. Each runs on SQLite and on a
real PostgreSQL server."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import datetime

from sqlalchemy import event

from ivr.stats import (CallAnswered, CallEnded, DirectorySearch, KeyMissed, LanguageChosen,
                       MenuReached, NoStatistics, Statistics, TextMessage, TransferEnded,
                       TransferTried)
from ivr.stats.store import CALL_TTL, Store, engine_for

ZONE = "America/New_York"
SECRET = b"a deployment secret, 32 bytes.."
H10 = datetime(2026, 11, 18, 10)  # the conftest's frozen clock: 10:00 in Maine
EVER = (datetime(2000, 1, 1), datetime(2100, 1, 1))


def statistics(url: str, **options) -> Statistics:
    options.setdefault("settle_seconds", 0)
    return Statistics.from_url(url, ZONE, SECRET, **options)


def totals(stats: Statistics, by_hour: bool = False) -> dict[tuple, int]:
    """What the database holds, summed over hours unless `by_hour`."""
    found: dict[tuple, int] = {}
    for hour, *cell, n in stats.store.read(*EVER):
        key = (hour, *cell) if by_hour else tuple(cell)
        found[key] = found.get(key, 0) + n
    return found


def wait_until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # noqa: BLE001 - e.g. the tables are not there yet: keep waiting
            pass
        time.sleep(0.02)
    return False


def test_every_event_is_counted_exactly_in_the_lines_local_hour(database_url):
    stats = statistics(database_url)
    for _ in range(3):
        stats.record(CallAnswered())
    stats.record(LanguageChosen("es"))
    stats.record(MenuReached("main", "es"))
    stats.record(MenuReached("main", "es", hour=datetime(2026, 11, 18, 9)))
    stats.record(KeyMissed("main", "silence"))
    stats.record(TransferTried("maine_211", "main"))
    stats.record(TransferEnded("maine_211", "connected"))
    stats.record(DirectorySearch("naloxone", "Penobscot"))
    stats.record(TextMessage("sent"))
    stats.record(CallEnded.after(200))  # no per-call key: the last menu is unknown
    assert stats.flush() is True
    assert totals(stats, by_hour=True) == {
        (H10, "call.answered", "", "", ""): 3,
        (H10, "language", "es", "", ""): 1,
        (H10, "menu", "es", "main", ""): 1,
        (datetime(2026, 11, 18, 9), "menu", "es", "main", ""): 1,
        (H10, "miss", "", "main", "silence"): 1,
        (H10, "transfer.tried", "", "maine_211", "main"): 1,
        (H10, "transfer.ended", "", "maine_211", "connected"): 1,
        (H10, "search", "", "naloxone", "Penobscot"): 1,
        (H10, "text", "", "", "sent"): 1,
        (H10, "call.ended", "", "", "3-10 min"): 1,
    }
    stats.record(CallAnswered())
    stats.flush()
    assert totals(stats)[("call.answered", "", "", "")] == 4  # added to, never overwritten


def test_the_hour_is_the_lines_local_hour_across_daylight_saving(tmp_path):
    stats = statistics(f"sqlite:///{tmp_path / 's.sqlite3'}")
    # 2026-11-01: clocks go back at 2:00 in New York; both 1 o'clock hours are local 01:00.
    assert stats.hour(datetime.fromisoformat("2026-11-01T05:30+00:00").timestamp()) == datetime(2026, 11, 1, 1)
    assert stats.hour(datetime.fromisoformat("2026-11-01T06:30+00:00").timestamp()) == datetime(2026, 11, 1, 1)
    assert stats.hour(datetime.fromisoformat("2026-11-01T07:30+00:00").timestamp()) == datetime(2026, 11, 1, 2)
    india = Statistics.from_url(f"sqlite:///{tmp_path / 'i.sqlite3'}", "Asia/Kolkata", SECRET)
    assert india.hour(datetime.fromisoformat("2026-11-18T04:20+00:00").timestamp()) == datetime(2026, 11, 18, 9)
    assert india.hour(datetime.fromisoformat("2026-11-18T04:40+00:00").timestamp()) == datetime(2026, 11, 18, 10)


def test_calls_are_counted_where_they_ended_and_then_forgotten(database_url):
    stats = statistics(database_url)
    first, second = stats.call_key("CA" + "1" * 32), stats.call_key("CA" + "2" * 32)
    assert first != second and "CA" not in first and len(first) == 32
    stats.record(MenuReached("main", "en", call=first))
    stats.record(MenuReached("main", "fr", call=second))
    stats.flush()  # the menus may reach the database long before the end, even from another host
    stats.record(MenuReached("naloxone", "en", call=first))
    assert stats.store.calls_in_progress() == 2
    stats.record(CallEnded.after(400, call=first))
    stats.record(CallEnded.after(20, call=second))
    stats.record(CallEnded.after(20, call=stats.call_key("CA" + "3" * 32)))  # never reached a menu
    stats.flush()
    ended = {cell: n for cell, n in totals(stats).items() if cell[0] == "call.ended"}
    assert ended == {("call.ended", "en", "naloxone", "3-10 min"): 1,
                     ("call.ended", "fr", "main", "<1 min"): 1,
                     ("call.ended", "", "", "<1 min"): 1}
    assert stats.store.calls_in_progress() == 0  # nothing about either call outlives it


def test_an_ended_call_waits_for_other_workers_menus(tmp_path):
    stats = statistics(f"sqlite:///{tmp_path / 's.sqlite3'}", settle_seconds=3600)
    key = stats.call_key("CA" + "4" * 32)
    stats.record(MenuReached("main", "en", call=key))
    stats.record(CallEnded.after(30, call=key))
    stats.flush()
    assert "call.ended" not in {cell[0] for cell in totals(stats)}  # not settled yet
    assert stats.store.calls_in_progress() == 1
    stats.stop()  # the last flush takes every ended call
    assert totals(stats)[("call.ended", "en", "main", "<1 min")] == 1
    assert stats.store.calls_in_progress() == 0


def test_a_call_whose_end_never_comes_is_deleted_after_its_longest_possible_life(database_url):
    stats = statistics(database_url)
    stats.record(MenuReached("main", "en", call=stats.call_key("CA" + "5" * 32)))
    stats.flush()
    now = time.time()
    assert stats.prune(now + CALL_TTL - 60) == (0, 0)
    assert stats.store.calls_in_progress() == 1
    assert stats.prune(now + CALL_TTL + 60) == (0, 1)
    assert stats.store.calls_in_progress() == 0


def test_counts_older_than_the_retention_are_deleted(database_url):
    stats = statistics(database_url, retention_months=24)
    for hour in (datetime(2024, 10, 31, 23), datetime(2024, 11, 1, 0), H10):
        stats.record(CallAnswered(hour=hour))
    stats.flush()
    assert stats.prune() == (1, 0)  # today is 2026-11-18: whole months from 2024-11 are kept
    assert sorted(cell[0] for cell in totals(stats, by_hour=True)) == [datetime(2024, 11, 1, 0), H10]


def test_nothing_starts_at_construction_and_stop_flushes(tmp_path):
    path = tmp_path / "stats.sqlite3"
    before = {thread.name for thread in threading.enumerate()}
    stats = statistics(f"sqlite:///{path}", flush_seconds=3600)
    stats.record(CallAnswered())
    assert not path.exists() and not stats.running
    assert {thread.name for thread in threading.enumerate()} == before
    stats.start()
    assert stats.running and "ivr-stats-writer" in {t.name for t in threading.enumerate()}
    stats.record(CallAnswered())
    stats.stop()
    assert not stats.running
    assert totals(stats) == {("call.answered", "", "", ""): 2}


def test_statistics_off_counts_nothing():
    off = NoStatistics()
    off.start()
    off.record(CallAnswered())
    assert off.call_key("CA1") == "" and off.flush() and off.report(H10.date(), H10.date()) == []
    off.stop()


def test_recording_never_raises_into_a_call(tmp_path, caplog):
    stats = statistics(f"sqlite:///{tmp_path / 's.sqlite3'}")
    with caplog.at_level(logging.ERROR):
        stats.record(None)  # type: ignore[arg-type] - a programming error must not drop the call
    assert "could not count" in caplog.text


def test_the_writer_survives_postgres_stopping_under_it(postgres_server, caplog):
    url = postgres_server.new_database()
    # The writer runs, but flushes are made by the test, so that the server never stops in the
    # middle of a commit (whose outcome the writer cannot know: see docs/statistics.md).
    stats = statistics(url, flush_seconds=3600)
    call_sid = "CA" + "6" * 32
    key = stats.call_key(call_sid)
    stats.start()
    stats.record(CallAnswered())
    assert stats.flush()
    postgres_server.stop()
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(100):
                stats.record(CallAnswered())
            stats.record(MenuReached("main", "en", call=key))
            stats.record(CallEnded.after(90, call=key))
            assert stats.flush() is False
            stats._cycle()  # the writer's turn: pruning fails too, and the thread goes on
        assert "kept in memory for retry" in caplog.text and stats.running
    finally:
        postgres_server.start()
    assert stats.flush()
    assert totals(stats) == {("call.answered", "", "", ""): 101,
                             ("menu", "en", "main", ""): 1,
                             ("call.ended", "en", "main", "1-3 min"): 1}
    stats.stop()
    assert stats.dropped == 0
    assert call_sid not in caplog.text and key not in caplog.text


def test_a_locked_sqlite_file_delays_only_the_writer(tmp_path, caplog):
    path = tmp_path / "stats.sqlite3"
    stats = statistics(f"sqlite:///{path}", lock_timeout=0.05)
    stats.record(CallAnswered())
    assert stats.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the file's write lock
    with caplog.at_level(logging.WARNING):
        for _ in range(10):
            stats.record(LanguageChosen("fr"))
        assert stats.flush() is False
    assert "database is locked" in caplog.text
    other.execute("COMMIT")
    other.close()
    assert stats.flush() is True
    assert totals(stats) == {("call.answered", "", "", ""): 1, ("language", "fr", "", ""): 10}


def test_a_full_sqlite_file_keeps_the_counts_until_there_is_room(tmp_path, caplog):
    path = tmp_path / "stats.sqlite3"
    engine = engine_for(f"sqlite:///{path}")
    store = Store(engine)
    store.migrate()
    engine.dispose()
    cap: list[int | None] = [None]

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record):  # the disk is full: the file may not grow past its size
        if cap[0] is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {cap[0]}")

    cap[0] = sqlite3.connect(path).execute("PRAGMA page_count").fetchone()[0]
    stats = Statistics(store, ZONE, SECRET, settle_seconds=0)
    nodes = [f"node{i}" for i in range(3000)]  # enough rows to need new pages
    for node in nodes:
        stats.record(MenuReached(node, "en"))
    with caplog.at_level(logging.WARNING):
        assert stats.flush() is False
    assert "full" in caplog.text
    cap[0] = None
    engine.dispose()  # connections opened from now on have room again
    assert stats.flush() is True
    assert totals(stats) == {("menu", "en", node, ""): 1 for node in nodes}


def test_past_the_bound_events_are_dropped_counted_and_logged_without_caller_data(tmp_path, caplog):
    path = tmp_path / "stats.sqlite3"
    stats = statistics(f"sqlite:///{path}", lock_timeout=0.05, max_pending=5)
    assert stats.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    for node in ("a", "b", "c", "d", "e", "f", "g", "h"):
        stats.record(MenuReached(node, "en"))
    stats.record(MenuReached("a", "en"))  # a count already held still grows
    with caplog.at_level(logging.WARNING):
        stats._cycle()  # the writer's turn: the flush fails, and the drops are reported
    assert stats.dropped == 3
    assert "3 statistics events dropped" in caplog.text
    other.execute("COMMIT")
    other.close()
    assert stats.flush()
    found = totals(stats)
    assert found.pop(("stats.dropped", "", "", "")) == 3
    assert found == {("menu", "en", "a", ""): 2, **{("menu", "en", n, ""): 1 for n in "bcde"}}
