"""Counting calls: exact totals per local hour, where calls end, nothing kept about a call after it,
and a writer that outlives a database that is down, locked or full. Each runs on SQLite and on a
real PostgreSQL server."""
from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from ivr.stats import (CallAnswered, CallEnded, DirectorySearch, KeyMissed, LanguageChosen,
                       MenuReached, NoStatistics, Statistics, TextMessage, TransferEnded,
                       TransferTried)
from ivr.stats.store import CALL_TTL, FLUSH_ID_TTL, Store, engine_for

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
    stats = statistics(url, flush_seconds=0.02)  # the writer flushes: the stop may come mid-commit
    call_sid = "CA" + "6" * 32
    key = stats.call_key(call_sid)
    stats.start()
    stats.record(CallAnswered())
    assert wait_until(lambda: totals(stats) == {("call.answered", "", "", ""): 1})
    postgres_server.stop()
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(100):
                stats.record(CallAnswered())
            stats.record(MenuReached("main", "en", call=key))
            stats.record(CallEnded.after(90, call=key))
            assert wait_until(lambda: "kept in memory for retry" in caplog.text)
        assert stats.running
    finally:
        postgres_server.start()
    expected = {("call.answered", "", "", ""): 101, ("menu", "en", "main", ""): 1,
                ("call.ended", "en", "main", "1-3 min"): 1}
    assert wait_until(lambda: totals(stats) == expected)
    stats.stop()
    assert totals(stats) == expected
    assert stats.dropped == 0
    assert call_sid not in caplog.text and key not in caplog.text


@pytest.mark.parametrize("retried", ["at once", "a day later"])
def test_a_flush_whose_commit_went_unconfirmed_is_retried_as_it_is_and_never_stored_twice(
        postgres_server, caplog, office_hours, retried):
    url = postgres_server.new_database(synchronous_commit=True)
    stats = statistics(url)
    key = stats.call_key("CA" + "7" * 32)
    stats.record(CallAnswered())
    assert stats.flush()
    for _ in range(10):
        stats.record(CallAnswered())
    stats.record(MenuReached("main", "en", call=key))
    stats.record(CallEnded.after(90, call=key))
    postgres_server.hold_commits()
    try:
        result: list[bool] = []
        flushing = threading.Thread(target=lambda: result.append(stats.flush()))
        flushing.start()
        assert wait_until(lambda: postgres_server.held_commits() == 1)
        # The server stops after the flush's commit is written, before the writer is told.
        postgres_server.stop()
        flushing.join(10)
        assert result == [False]
        stats.record(CallAnswered())  # counted since: never added to the batch of unknown fate
        assert stats.flush() is False  # the server is down: the batch waits, as it is
    finally:
        postgres_server.start()
        postgres_server.release_commits()
    if retried == "a day later":  # past FLUSH_ID_TTL less an hour: only looked up, never written
        office_hours.shift(timedelta(seconds=FLUSH_ID_TTL - 3600 + 60))
    with caplog.at_level(logging.WARNING):
        assert stats.flush()
    assert totals(stats) == {("call.answered", "", "", ""): 12, ("menu", "en", "main", ""): 1,
                             ("call.ended", "en", "main", "1-3 min"): 1}
    assert "had been stored: not stored again" in caplog.text
    assert stats.store.calls_in_progress() == 0
    assert stats.dropped == 0


class Callers:
    """Threads recording calls as the webhooks do, while a test does things to the database; the
    counts they recorded, by hour, are in `expected` once the `with` block ends. With `spread`,
    each call also misses a key at one of many menus in one of many hours, so that every flush
    has new rows to write (and a full database refuses it)."""

    def __init__(self, stats: Statistics, threads: int = 4, spread: bool = False):
        self.stats, self.spread = stats, spread
        self.expected: Counter = Counter()
        self._tallies = [Counter() for _ in range(threads)]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._call, args=(n,)) for n in range(threads)]

    def _call(self, n: int) -> None:
        tally, rng, i = self._tallies[n], random.Random(n), 0
        while not self._stop.is_set():
            key = self.stats.call_key(f"CA{n:02d}{i:030d}")
            lang = ("en", "es")[i % 2]
            self.stats.record(CallAnswered(hour=H10))
            self.stats.record(MenuReached("main", lang, call=key, hour=H10))
            tally[(H10, "call.answered", "", "", "")] += 1
            tally[(H10, "menu", lang, "main", "")] += 1
            if self.spread:
                node, hour = f"node{rng.randrange(200)}", H10 - timedelta(hours=rng.randrange(720))
                self.stats.record(KeyMissed(node, "silence", hour=hour))
                tally[(hour, "miss", "", node, "silence")] += 1
            self.stats.record(CallEnded.after(30, call=key, hour=H10))
            tally[(H10, "call.ended", lang, "main", "<1 min")] += 1
            i += 1
            time.sleep(0.001)

    def __enter__(self) -> "Callers":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for tally in self._tallies:
            self.expected.update(tally)


def failures(stats: Statistics) -> list[str]:
    """The database errors the writer meets from now on, as they come (SQLAlchemy's own hook)."""
    seen: list[str] = []
    event.listen(stats.store.engine, "handle_error",
                 lambda context: seen.append(str(context.original_exception)))
    return seen


def test_totals_are_exact_when_postgres_stops_again_and_again_even_during_a_commit(
        postgres_server, caplog):
    # Commits confirmed only once written, as in production: a crash ("immediate") then loses
    # none that the writer was told of (with the test server's asynchronous commits it could).
    url = postgres_server.new_database(synchronous_commit=True)
    stats = statistics(url, flush_seconds=0.005, prune_seconds=0.02)
    assert stats.flush()  # the tables
    seed = random.randrange(1 << 32)
    rng, held = random.Random(seed), 0
    stats.start()
    with caplog.at_level(logging.WARNING), Callers(stats) as callers:
        try:
            for cycle in range(10):
                if cycle % 2 == 0:  # during a commit, surely: it is written, its writer not told
                    postgres_server.hold_commits()
                    assert wait_until(lambda: postgres_server.held_commits() > 0)
                    held += 1
                else:  # at any moment: between flushes, in a transaction, in a commit, a prune
                    time.sleep(rng.uniform(0, 0.05))
                postgres_server.stop(rng.choice(["fast", "immediate"]))
                time.sleep(rng.uniform(0, 0.05))
                postgres_server.start()
                postgres_server.release_commits()
                time.sleep(rng.uniform(0, 0.05))
        finally:
            if not postgres_server.running:
                postgres_server.start()
            postgres_server.release_commits()
    stats.stop()
    assert totals(stats, by_hour=True) == callers.expected, f"random seed {seed}"
    assert caplog.text.count("had been stored: not stored again") >= held
    assert stats.store.calls_in_progress() == 0
    assert stats.dropped == 0


def test_totals_are_exact_when_sqlite_is_locked_or_full_again_and_again(tmp_path, caplog):
    path = tmp_path / "stats.sqlite3"
    engine = engine_for(f"sqlite:///{path}", lock_timeout=0.01)
    cap: list[int | None] = [None]

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record):  # the disk is full: the file may not grow past its size
        if cap[0] is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {cap[0]}")

    stats = Statistics(Store(engine), ZONE, SECRET, settle_seconds=0, flush_seconds=0.005,
                       prune_seconds=0.02)
    assert stats.flush()  # the tables
    seen = failures(stats)
    other = sqlite3.connect(path, isolation_level=None, timeout=10)
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    stats.start()
    with caplog.at_level(logging.WARNING), Callers(stats, spread=True) as callers:
        for cycle in range(30):
            time.sleep(rng.uniform(0, 0.03))
            if cycle % 2:  # another program takes the file's write lock for a while
                other.execute("BEGIN EXCLUSIVE")
                time.sleep(rng.uniform(0, 0.05))
                other.execute("COMMIT")
            else:  # the disk is full for a while: the writer's new connections see it
                cap[0] = other.execute("PRAGMA page_count").fetchone()[0]
                engine.dispose()
                time.sleep(rng.uniform(0.01, 0.05))
                cap[0] = None
                engine.dispose()
    other.close()
    stats.stop()
    assert totals(stats, by_hour=True) == callers.expected, f"random seed {seed}"
    assert any("locked" in text for text in seen) and any("full" in text for text in seen)
    assert stats.store.calls_in_progress() == 0
    assert stats.dropped == 0


def test_a_batch_failing_for_most_of_a_day_is_counted_as_dropped_not_risked_twice(
        tmp_path, caplog, office_hours):
    path = tmp_path / "stats.sqlite3"
    stats = statistics(f"sqlite:///{path}", lock_timeout=0.05)
    stats.record(CallAnswered())
    assert stats.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    for _ in range(3):
        stats.record(CallAnswered())
    stats.record(CallEnded.after(20))
    assert stats.flush() is False
    # Whether a batch was stored can be known for FLUSH_ID_TTL less an hour after it was taken.
    office_hours.shift(timedelta(seconds=FLUSH_ID_TTL - 3600 - 60))
    assert stats.flush() is False
    office_hours.shift(timedelta(seconds=120))
    stats.record(CallAnswered())  # a new batch's counts are stored as ever
    other.execute("COMMIT")
    other.close()
    with caplog.at_level(logging.WARNING):
        stats._cycle()
    assert "4 statistics events dropped" in caplog.text
    assert stats.dropped == 4
    assert stats.flush()
    assert totals(stats) == {("call.answered", "", "", ""): 2, ("stats.dropped", "", "", ""): 4}


def test_flush_ids_are_kept_a_day_then_deleted(database_url):
    stats = statistics(database_url)
    for _ in range(3):
        stats.record(CallAnswered())
        assert stats.flush()
    assert stats.flush()  # nothing to store: no id either
    assert stats.store.flush_ids() == 3
    now = time.time()
    stats.prune(now + FLUSH_ID_TTL)
    assert stats.store.flush_ids() == 3
    stats.prune(now + FLUSH_ID_TTL + 2 * 3600)
    assert stats.store.flush_ids() == 0


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


def test_a_menu_event_takes_only_a_call_key_never_a_call_id():
    """The webhook gives a navigator's MenuReached its call's key (cheaply, without checking the
    rest again); a raw CallSid, or anything else that is not a key, is refused."""
    stats = Statistics(Store(engine_for("sqlite://")), "America/New_York", b"k" * 32)
    reached = MenuReached("main", "en").of_call(stats.call_key("CA" + "0" * 32))
    assert (reached.node, reached.lang, reached.call) == ("main", "en", stats.call_key("CA" + "0" * 32))
    assert reached == MenuReached("main", "en", reached.call)
    for wrong in ("CA" + "0" * 32, "+12075550199", "04101"):
        with pytest.raises(ValueError):
            MenuReached("main", "en").of_call(wrong)


def test_sqlite_counts_sync_at_checkpoints_not_every_flush(tmp_path):
    """WAL with synchronous=NORMAL: never corrupted, and no disk sync each second per worker."""
    engine = engine_for(f"sqlite:///{tmp_path / 's.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_two_stores_in_one_process_migrate_at_once(tmp_path):
    # Alembic's migration context is one per process: two lines' writers preparing their tables
    # together (two apps in one process, as the tests and the console's rehearsals make) mixed
    # each other's up ("table stats_counts already exists", KeyError 'config').
    for attempt in range(5):
        stores = [Store(engine_for(f"sqlite:///{tmp_path / f'{attempt}-{n}.sqlite3'}")) for n in range(4)]
        start, errors = threading.Barrier(len(stores)), []

        def migrate(store: Store) -> None:
            start.wait()
            try:
                store.migrate()
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(repr(exc))

        threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert all(store.flush_ids() == 0 for store in stores)  # every table is there
