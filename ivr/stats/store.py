"""Where the counts are kept: SQLite by default, PostgreSQL for several hosts, one SQLAlchemy Core
schema for both, created and upgraded by the Alembic migrations shipped in `migrations/`."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import (BigInteger, Column, DateTime, Engine, Float, MetaData, String, Table,
                        create_engine, event, func, select, text)
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "stats_alembic_version"  # its own, so the app can use Alembic for other things
# Any fixed number: the PostgreSQL advisory lock that lets one host at a time run the migrations.
MIGRATION_LOCK = 4_242_013
#: Alembic's migration context is one per process (`alembic.context`): two stores migrating at
#: once in one process (two apps, as tests and rehearsals make) would run in each other's.
_MIGRATING = threading.Lock()

metadata = MetaData()

#: The counts, and nothing else that outlives a call: one row per local hour and label.
counts = Table(
    "stats_counts", metadata,
    # The hour's start in the line's time zone, without the zone: reports group by local day.
    Column("hour", DateTime(), primary_key=True),
    Column("event", String(32), primary_key=True),
    # '' rather than NULL where a label does not apply, so that ON CONFLICT finds the row.
    Column("lang", String(64), primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("detail", String(64), primary_key=True),
    Column("n", BigInteger(), nullable=False),
)

#: The last menu of each call in progress, keyed by an HMAC of its CallSid: deleted when the call
#: ends, or at `expires` (the longest a call can last, plus a grace period) if that never comes.
calls_in_progress = Table(
    "stats_calls_in_progress", metadata,
    Column("call_key", String(32), primary_key=True),
    Column("node", String(64), nullable=False),
    Column("lang", String(64), nullable=False),
    Column("seen", Float(), nullable=False),  # Unix time of this menu: a later one replaces it
    Column("expires", Float(), nullable=False),  # Unix time: set once, when the call is first seen
)

#: The id of every batch stored, written in the batch's own transaction: a writer that cannot tell
#: whether its commit happened (the connection dropped during it) retries the same batch under
#: the same id, and finds it here if it was stored. Only the hour is kept, never a finer time:
#: a row holds no label, no count and nothing that links it to a call or to another row.
flushes = Table(
    "stats_flushes", metadata,
    Column("flush_id", String(32), primary_key=True),  # random: uuid4
    Column("hour", BigInteger(), nullable=False),  # Unix time of the hour the batch was taken
)

#: Seconds a call's last menu is kept when its end is never reported: Twilio ends a call after
#: 4 hours at most, and 15 minutes more covers a late status callback.
CALL_TTL = 4 * 3600 + 15 * 60

#: Seconds a flush id is kept at least, from the moment its batch was taken (pruned an hour
#: later at most, as only the hour is stored). A writer relies on the ids only for batches taken
#: less than FLUSH_ID_TTL minus an hour ago (recorder.CHECKABLE), so hosts' clocks may differ by
#: up to an hour.
FLUSH_ID_TTL = 24 * 3600

Cell = tuple[datetime, str, str, str, str]  # hour, event, lang, subject, detail


@dataclass
class Batch:
    """What one flush writes, in one transaction, under its own random id. A batch whose write
    failed is retried as it is, under the same id: never merged with later counts."""

    counts: dict[Cell, int] = field(default_factory=dict)
    progress: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # key: node, lang, seen
    ends: list[tuple[str, str, datetime]] = field(default_factory=list)  # key, band, hour
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    taken: float = field(default_factory=time.time)  # Unix time

    def __len__(self) -> int:
        return len(self.counts) + len(self.progress) + len(self.ends)


def engine_for(url: str, lock_timeout: float = 5.0) -> Engine:
    """An engine for a `sqlite:///file` or `postgresql://` URL (spoken through psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # hide_parameters: a failed statement's message (which the writer logs) never shows its values.
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, hide_parameters=True, connect_args={"timeout": lock_timeout})
        _sqlite_transactions(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"statistics need a sqlite:/// or postgresql:// URL, not {parsed.drivername}://")
    return create_engine(parsed, hide_parameters=True, pool_pre_ping=True, pool_size=2,
                         connect_args={"connect_timeout": max(1, int(lock_timeout))})


def _sqlite_transactions(engine: Engine) -> None:
    """Take SQLite's write lock when a transaction begins (BEGIN IMMEDIATE), so that several
    workers writing one file wait their turn instead of failing, and migrations are transactional.
    This is SQLAlchemy's documented recipe for pysqlite."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we say when transactions begin
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (reports) never block the writer
        # With WAL, NORMAL syncs at checkpoints, not at every commit: the file is never corrupted,
        # and a power cut loses at most the last seconds of counts (which it would lose from
        # memory anyway), while each worker's flush stops costing a disk sync every second.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def migration_tools():
    """Alembic's `command` module and `Config`: about 0.1 s of CPU to import, which `ivr validate`
    and the other commands need not pay. A line that counts imports them as its app is built
    (Store.from_url), which gunicorn does once in the master before it binds and forks: paid in
    each worker's first flush instead, it held up the calls in hand (bench: keypress p99 40 ms
    instead of 16)."""
    from alembic import command
    from alembic.config import Config

    return command, Config


class Store:
    """The database side: migrate, write a batch, prune, read counts."""

    def __init__(self, engine: Engine, call_ttl: float = CALL_TTL):
        self.engine = engine
        self.call_ttl = call_ttl
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        self._insert = insert

    @classmethod
    def from_url(cls, url: str, lock_timeout: float = 5.0, call_ttl: float = CALL_TTL) -> Store:
        """The store for a database URL, with the migration tools imported now (see migration_tools)."""
        migration_tools()
        return cls(engine_for(url, lock_timeout), call_ttl)

    def migrate(self) -> None:
        """Create or upgrade the tables to the newest migration; safe from several hosts at once."""
        command, Config = migration_tools()
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with _MIGRATING, self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                # Released at commit; a second host waits here, then finds nothing left to do.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def write(self, batch: Batch, retry: bool = False) -> bool:
        """Add a batch in one transaction: its id first, then calls' last menus, then ended calls
        (which consume them), then every count with `n = n + excluded.n`. Rows go in sorted
        order, so two hosts writing the same rows lock them in the same order and never deadlock.

        A `retry` is False, writing nothing, when the batch's id is already stored: an earlier
        attempt committed though its writer could not tell. (Were that attempt still in progress
        on a PostgreSQL server, the id's insert would wait for its outcome, and fail if it
        committed; the batch is then retried, and its id found.) A first attempt's id is new
        (uuid4): looking it up could find nothing, and would cost every flush a round trip."""
        found: dict[str, tuple[str, str]] = {}
        with self.engine.begin() as connection:
            if retry and connection.execute(select(flushes.c.flush_id)
                                            .where(flushes.c.flush_id == batch.id)).first() is not None:
                return False
            connection.execute(flushes.insert().values(
                flush_id=batch.id, hour=int(batch.taken) // 3600 * 3600))
            if batch.progress:
                stmt = self._insert(calls_in_progress)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[calls_in_progress.c.call_key],
                    set_={"node": stmt.excluded.node, "lang": stmt.excluded.lang,
                          "seen": stmt.excluded.seen},
                    where=calls_in_progress.c.seen <= stmt.excluded.seen)
                connection.execute(stmt, [
                    {"call_key": key, "node": node, "lang": lang, "seen": seen,
                     "expires": seen + self.call_ttl}
                    for key, (node, lang, seen) in sorted(batch.progress.items())])
            cells = dict(batch.counts)
            if batch.ends:
                keys = sorted({key for key, _, _ in batch.ends if key})
                for chunk in _chunks(keys):
                    where = calls_in_progress.c.call_key.in_(chunk)
                    rows = connection.execute(calls_in_progress.select().where(where))
                    found.update({row.call_key: (row.node, row.lang) for row in rows})
                    connection.execute(calls_in_progress.delete().where(where))
                for key, band, hour in batch.ends:
                    node, lang = found.get(key, ("", ""))
                    cell = (hour, "call.ended", lang, node, band)
                    cells[cell] = cells.get(cell, 0) + 1
            if cells:
                stmt = self._insert(counts)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[counts.c.hour, counts.c.event, counts.c.lang, counts.c.subject,
                                    counts.c.detail],
                    set_={"n": counts.c.n + stmt.excluded.n})
                connection.execute(stmt, [
                    {"hour": hour, "event": name, "lang": lang, "subject": subject, "detail": detail,
                     "n": n}
                    for (hour, name, lang, subject, detail), n in sorted(cells.items())])
        return True

    def stored(self, flush_id: str) -> bool:
        """Whether the batch with this id was stored (within FLUSH_ID_TTL of its taking)."""
        with self.engine.connect() as connection:
            query = select(flushes.c.flush_id).where(flushes.c.flush_id == flush_id)
            return connection.execute(query).first() is not None

    def prune(self, counts_before: datetime, now: float) -> tuple[int, int]:
        """Delete counts from before `counts_before` (a local hour), the last menus of calls
        that expired before `now` (Unix time), and flush ids older than FLUSH_ID_TTL. Returns
        how many counts and calls' last menus were deleted."""
        with self.engine.begin() as connection:
            old = connection.execute(counts.delete().where(counts.c.hour < counts_before))
            gone = connection.execute(
                calls_in_progress.delete().where(calls_in_progress.c.expires < now))
            # An id's hour is at most an hour before its batch was taken: keep a whole hour more.
            connection.execute(flushes.delete().where(flushes.c.hour < now - FLUSH_ID_TTL - 3600))
            return old.rowcount, gone.rowcount

    def read(self, start: datetime, end: datetime) -> Iterable[tuple]:
        """Every count with start <= hour < end, as (hour, event, lang, subject, detail, n)."""
        query = (counts.select().where(counts.c.hour >= start, counts.c.hour < end)
                 .order_by(counts.c.hour))
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]

    def calls_in_progress(self) -> int:
        """How many calls' last menus are held (for tests and monitoring: never which)."""
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(calls_in_progress)).scalar_one()

    def flush_ids(self) -> int:
        """How many flush ids are kept (for tests and monitoring)."""
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(flushes)).scalar_one()
