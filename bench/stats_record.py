"""What statistics cost a call, and how fast the writer stores counts, on SQLite and PostgreSQL.

    .venv/bin/python bench/stats_record.py [--events 200000]

1. record() on the calling thread: each call timed alone (perf_counter_ns), with the writer thread
   flushing every second as in production; p50 and p99 in microseconds, and the timer's own cost.
2. The writer: a flush of many distinct counts in one transaction, in rows per second; and the
   same events spread over few counts (a busy hour), in events per second.
PostgreSQL is a throwaway server from Debian's package (tests/postgres.py), durable (fsync on).
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics as stat
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ivr.stats import (CallAnswered, DirectorySearch, LanguageChosen,  # noqa: E402
                       MenuReached, Statistics, TransferEnded)

SECRET = b"benchmark secret, 32 bytes long."


def mix(stats: Statistics, n: int) -> list:
    """A call's events in the proportions a call produces them."""
    events = []
    for i in range(n // 6):
        key = stats.call_key(f"CA{i:032d}")
        events += [CallAnswered(), LanguageChosen("en"), MenuReached("main", "en", call=key),
                   MenuReached("naloxone", "en", call=key), DirectorySearch("naloxone", "York"),
                   TransferEnded("maine_211", "connected")]
    return events


def record_cost(url: str, n: int) -> str:
    stats = Statistics.from_url(url, "America/New_York", SECRET, flush_seconds=1.0)
    stats.start()
    events = mix(stats, n)
    clock = time.perf_counter_ns
    empty = []
    for _ in range(len(events)):
        start = clock()
        empty.append(clock() - start)
    costs = []
    for event in events:
        start = clock()
        stats.record(event)
        costs.append(clock() - start)
    stats.stop()
    q = stat.quantiles(costs, n=100)
    return (f"record(): p50 {q[49] / 1000:.2f} µs, p99 {q[98] / 1000:.2f} µs over {len(costs)} "
            f"events (the timer alone: p50 {stat.median(empty) / 1000:.2f} µs)")


def flush_rate(url: str, cells: int, events: int) -> str:
    stats = Statistics.from_url(url, "America/New_York", SECRET, max_pending=cells + 10)
    stats.flush()  # create the tables first: not part of the measure
    hours = [datetime(2026, 11, 1 + d, h) for d in range(28) for h in range(24)]
    for i in range(events):
        stats.record(MenuReached(f"n{i % cells // len(hours)}", "en", hour=hours[i % len(hours)]))
    start = time.perf_counter()
    assert stats.flush()
    seconds = time.perf_counter() - start
    return (f"flush of {events} events in {cells} counts: {seconds * 1000:.0f} ms, "
            f"{cells / seconds:,.0f} rows/s, {events / seconds:,.0f} events/s")


def run(name: str, url: str, events: int) -> None:
    print(f"\n{name}")
    print("  " + record_cost(url, events))
    print("  " + flush_rate(url, cells=20_000, events=20_000))
    print("  " + flush_rate(url, cells=672, events=events))  # one count per hour of a month


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    events = parser.parse_args().events
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite (a file, WAL)", f"sqlite:///{folder}/stats.sqlite3", events)
    from postgres import PostgresServer

    server = PostgresServer(fast=False)
    server.start()
    try:
        run("PostgreSQL (unix socket, fsync on)", server.new_database(), events)
    finally:
        server.remove()


if __name__ == "__main__":
    main()
