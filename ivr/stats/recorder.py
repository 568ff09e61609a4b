"""Counting on the request thread, writing on a background thread.

`record(event)` only adds one to a count in memory, under a lock: a call never waits for the
database. A writer thread, started explicitly with `start()` (gunicorn's post_fork hook), flushes
the counts every second in one transaction, under a random flush id stored in that transaction.
When the database is down, locked or full, the batch that failed is retried as it is, under the
same id, so that a batch whose commit happened unseen (the connection dropped during it) is found
stored and never stored twice; new counts wait in memory meanwhile, up to `max_pending` distinct
counts; past that, events are counted as dropped (stored later as `stats.dropped`, logged as a
number) and the calls go on as ever.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from .events import CallEnded, Event, MenuReached
from .store import CALL_TTL, FLUSH_ID_TTL, Batch, Cell, Store

log = logging.getLogger(__name__)

#: How long after its taking a batch that failed can still be checked against the stored flush
#: ids: while they are surely kept, with an hour's margin for hosts whose clocks differ.
CHECKABLE = FLUSH_ID_TTL - 3600


class Recorder(Protocol):
    """What the webhooks use; Statistics and NoStatistics both provide it."""

    threshold: int  # reports hide counts under it

    def call_key(self, call_sid: str) -> str: ...
    def record(self, event: Event) -> None: ...
    def start(self) -> None: ...
    def stop(self, timeout: float = 10.0) -> None: ...
    def flush(self, final: bool = False) -> bool: ...
    def report(self, start: date, end: date, by: str = "month") -> list: ...


class NoStatistics:
    """Statistics switched off: the same interface, and nothing is counted or kept."""

    threshold = 5
    running = False
    dropped = 0

    def call_key(self, call_sid: str) -> str:
        return ""

    def record(self, event: Event) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self, timeout: float = 10.0) -> None:
        pass

    def flush(self, final: bool = False) -> bool:
        return True

    def report(self, start: date, end: date, by: str = "month") -> list:
        return []


def months_before(moment: datetime, months: int) -> datetime:
    """The first hour of the month `months` before `moment`'s month."""
    index = moment.year * 12 + moment.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1)


def reason(exc: BaseException) -> str:
    """Why a write failed, for the log: the error's kind and first line. The engines are built with
    hide_parameters, and the first line of a database's message names no row."""
    cause = getattr(exc, "orig", None) or exc
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first[:200]}"


class Statistics:
    """Counts events in memory and writes them to a Store from a background thread.

    zone: the line's IANA time zone (counts are per local hour); secret: the deployment's key for
    call_key (16 bytes or more); threshold: reports hide counts under it; retention_months: whole
    months kept before the current one; flush_seconds: how often the writer stores; settle_seconds:
    how long an ended call waits for other workers' menus; prune_seconds: how often old counts and
    expired calls are deleted; max_pending: distinct counts held while the database is unavailable.
    """

    def __init__(self, store: Store, zone: str, secret: bytes, *, threshold: int = 5,
                 retention_months: int = 24, flush_seconds: float = 1.0,
                 settle_seconds: float = 10.0, prune_seconds: float = 300.0,
                 max_pending: int = 50_000):
        if len(secret) < 16:
            raise ValueError("the statistics secret must be at least 16 bytes")
        if threshold < 3:
            raise ValueError("the suppression threshold must be at least 3 (see docs/statistics.md)")
        if retention_months < 1:
            raise ValueError("the retention must be at least one month")
        self.store = store
        self.zone = ZoneInfo(zone)  # an unknown zone name stops start-up here, with its name
        self.threshold = threshold
        self.retention_months = retention_months
        self.flush_seconds = flush_seconds
        # An ended call waits this long before its last menu is read, so that every worker has
        # flushed the menus it saw first (the webhooks of one call may reach different workers).
        self.settle_seconds = settle_seconds
        self.prune_seconds = prune_seconds
        self.max_pending = max_pending
        self._secret = bytes(secret)
        self._lock = threading.Lock()  # guards the pending state below; held for microseconds
        self._counts: dict[Cell, int] = {}
        self._progress: dict[str, tuple[str, str, float]] = {}
        self._ends: list[tuple[str, str, datetime, float]] = []  # key, band, hour, monotonic time
        self._dropped: dict[datetime, int] = {}
        self._dropped_unlogged = 0
        self.dropped = 0  # events lost for good since start (the database was down too long)
        self._flush_lock = threading.Lock()  # one flush at a time: the writer's or a direct one
        # A batch whose write failed, perhaps after its commit: retried as it is, same id.
        self._unconfirmed: Batch | None = None
        self._hour_span = (0.0, 0.0, datetime.min)
        self._migrated = False
        self._failing_since: float | None = None
        self._last_failure_log = 0.0
        self._next_prune = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_url(cls, url: str, zone: str, secret: bytes, *, lock_timeout: float = 5.0,
                 call_ttl: float = CALL_TTL, **options) -> Statistics:
        """Statistics kept at `url` (sqlite:///path or postgresql://...). Touches no database and
        starts no thread: `start()` does both."""
        return cls(Store.from_url(url, lock_timeout, call_ttl), zone, secret, **options)

    # -- the request thread ------------------------------------------------------------------

    def call_key(self, call_sid: str) -> str:
        """The opaque key of a call: an HMAC of Twilio's CallSid with the deployment's secret.
        Without the secret, the key cannot be matched to a call in Twilio's logs."""
        if not call_sid:
            return ""
        return hmac.new(self._secret, call_sid.encode(), hashlib.sha256).hexdigest()[:32]

    def hour(self, now: float | None = None) -> datetime:
        """The current hour's start in the line's time zone (naive: its zone is the line's)."""
        now = time.time() if now is None else now
        start, end, hour = self._hour_span
        if start <= now < end:
            return hour
        local = datetime.fromtimestamp(now, self.zone).replace(minute=0, second=0, microsecond=0)
        # Cached until the local hour ends (zones with half-hour offsets included).
        start = local.timestamp()
        self._hour_span = (start, start + 3600, local.replace(tzinfo=None))
        return self._hour_span[2]

    def record(self, event: Event) -> None:
        """Count one event. Only touches memory; never raises into the call."""
        try:
            hour = event.hour or self.hour()
            with self._lock:
                if isinstance(event, CallEnded) and event.call:
                    if len(self._ends) < self.max_pending:
                        self._ends.append((event.call, event.band, hour, time.monotonic()))
                    else:
                        self._drop(hour, 1)
                    return
                self._add((hour, *event.cell), 1)
                if isinstance(event, MenuReached) and event.call and (
                        event.call in self._progress or len(self._progress) < self.max_pending):
                    self._progress[event.call] = (event.node, event.lang, time.time())
        except Exception:  # noqa: BLE001 - statistics must never break a call
            log.exception("could not count a statistics event")

    def _add(self, cell: Cell, n: int) -> None:
        """Add to a pending count (the lock is held); past the bound, count the events as dropped."""
        if cell in self._counts:
            self._counts[cell] += n
        elif len(self._counts) < self.max_pending:
            self._counts[cell] = n
        else:
            self._drop(cell[0], n)

    def _drop(self, hour: datetime, n: int) -> None:
        self._dropped[hour] = self._dropped.get(hour, 0) + n
        self._dropped_unlogged += n
        self.dropped += n

    # -- the writer --------------------------------------------------------------------------

    def flush(self, final: bool = False) -> bool:
        """Write what is pending, in one transaction. `final` also takes the calls that ended too
        recently to have settled. True when everything taken was stored.

        A batch that failed is retried first, as it is and under its id; nothing new is taken
        until it is settled, so no count is ever added to a batch that may be stored already."""
        with self._flush_lock:
            if not self._migrated:
                try:
                    self.store.migrate()
                    self._migrated = True
                except Exception as exc:  # noqa: BLE001 - the database may come back later
                    self._failed(exc, "could not prepare the statistics tables")
                    return False
            if self._unconfirmed is not None and not self._write(self._unconfirmed):
                return False
            batch = self._take(final)
            if len(batch) and not self._write(batch):
                return False
            if self._failing_since is not None:
                log.warning("statistics stored again after %.0f s of failures",
                            time.monotonic() - self._failing_since)
                self._failing_since = None
            return True

    def _write(self, batch: Batch) -> bool:
        """Store a batch, unless its id shows an earlier attempt did. When it fails (down, locked,
        full, or the connection lost during the commit, which may then have happened), it is kept
        as it is to be retried. True when the batch is settled."""
        try:
            if time.time() - batch.taken < CHECKABLE:
                stored_before = not self.store.write(batch, retry=batch is self._unconfirmed)
            else:
                stored_before = self.store.stored(batch.id)
                if not stored_before:
                    self._unknowable(batch)
        except Exception as exc:  # noqa: BLE001 - down, locked, full: keep and retry
            self._unconfirmed = batch
            self._failed(exc, f"{len(batch)} statistics rows kept in memory for retry")
            return False
        if stored_before:
            log.warning("a statistics flush whose commit was not confirmed had been stored: "
                        "not stored again")
        self._unconfirmed = None
        return True

    def _take(self, final: bool) -> Batch:
        settled = time.monotonic() - self.settle_seconds
        with self._lock:
            batch = Batch(self._counts, self._progress)
            self._counts, self._progress = {}, {}
            waiting = []
            for key, band, hour, at in self._ends:
                if final or at <= settled:
                    batch.ends.append((key, band, hour))
                else:
                    waiting.append((key, band, hour, at))
            self._ends = waiting
            for hour, n in self._dropped.items():
                cell = (hour, "stats.dropped", "", "", "")
                batch.counts[cell] = batch.counts.get(cell, 0) + n
            self._dropped = {}
        return batch

    def _unknowable(self, batch: Batch) -> None:
        """A batch that failed longer ago than its id is surely kept (the database unreachable
        from this worker for most of a day): whether it was stored can no longer be known. Its
        events are counted as dropped rather than risk storing them twice: the totals may miss
        them, never count them twice, and the report tells how many may be missing."""
        with self._lock:
            for cell, n in batch.counts.items():
                if cell[1] == "stats.dropped":  # already counted and logged as dropped
                    self._dropped[cell[0]] = self._dropped.get(cell[0], 0) + n
                else:
                    self._drop(cell[0], n)
            for _key, _band, hour in batch.ends:
                self._drop(hour, 1)
            for key, value in batch.progress.items():  # storing a last menu twice is harmless
                if key not in self._progress and len(self._progress) < self.max_pending:
                    self._progress[key] = value

    def _failed(self, exc: BaseException, what: str) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._last_failure_log >= 60:  # a line while failing, not one per second
            self._last_failure_log = now
            log.warning("%s (%s)", what, reason(exc))

    def prune(self, now: float | None = None) -> tuple[int, int]:
        """Delete counts older than the retention, and calls' last menus past their expiry."""
        now = time.time() if now is None else now
        cutoff = months_before(datetime.fromtimestamp(now, self.zone), self.retention_months)
        return self.store.prune(cutoff, now)

    def _cycle(self, final: bool = False) -> None:
        """One turn of the writer: flush, now and then prune, report drops. Never raises."""
        try:
            self.flush(final)
            if self._migrated and time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + self.prune_seconds
                self.prune()
        except Exception as exc:  # noqa: BLE001 - the writer must outlive any failure
            self._failed(exc, "statistics writer error")
        if self._dropped_unlogged:
            with self._lock:
                n, self._dropped_unlogged = self._dropped_unlogged, 0
            log.error("%d statistics events dropped: the database has been unavailable too long "
                      "(bound: %d pending counts)", n, self.max_pending)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self._cycle()
        self._cycle(final=True)

    def start(self) -> None:
        """Start the writer thread (in each gunicorn worker: call it from post_fork)."""
        if self._thread is not None and self._thread.is_alive():
            return
        # Database connections inherited through a fork belong to the parent: never reuse them.
        self.store.engine.dispose(close=False)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ivr-stats-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the writer after a last flush (gunicorn's worker_exit hook; tests)."""
        if self._thread is None:
            self._cycle(final=True)
            return
        self._stop.set()
        self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def report(self, start: date, end: date, by: str = "month") -> list:
        """The report's tables for the days start to end, already suppressed (report.build)."""
        from .report import build

        return build(self.store, start, end, by, self.threshold)

