"""How often a call may be sent a text: once per list, a few times per call.

Held in this process's memory only, keyed by a hash of Twilio's call id, and forgotten a few hours
after the call's first text. (With several workers each keeps its own count, so the cap per call
is per worker: still a small number.)
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

PER_CALL = 3  # texts one call may be sent
KEEP_SECONDS = 6 * 3600  # longer than any call
MAX_CALLS = 20000  # calls remembered at once; the oldest are forgotten first


@dataclass
class _Call:
    until: float
    attempts: int = 0
    lists: set[str] = field(default_factory=set)  # lists sent


class TextLimits:
    """Decides whether this call may be sent this list by text."""

    def __init__(self, per_call: int = PER_CALL, keep_seconds: float = KEEP_SECONDS,
                 max_calls: int = MAX_CALLS, clock=time.monotonic):
        self.per_call, self.keep_seconds, self.max_calls, self.clock = per_call, keep_seconds, max_calls, clock
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(call_sid: str) -> str:
        return hashlib.sha256(call_sid.encode("utf-8", "replace")).hexdigest()[:24]

    def _call(self, call_sid: str) -> _Call | None:
        now = self.clock()
        while self._calls and next(iter(self._calls.values())).until < now:
            self._calls.popitem(last=False)
        return self._calls.get(self._key(call_sid))

    def already_sent(self, call_sid: str, list_key: str) -> bool:
        with self._lock:
            call = self._call(call_sid)
            return call is not None and list_key in call.lists

    def room_for_more(self, call_sid: str) -> bool:
        with self._lock:
            call = self._call(call_sid)
            return call is None or call.attempts < self.per_call

    def attempt(self, call_sid: str) -> bool:
        """Count a send about to be tried; False if the call has had its share of tries."""
        if not call_sid:
            return False
        with self._lock:
            call = self._call(call_sid)
            if call is None:
                call = self._calls[self._key(call_sid)] = _Call(self.clock() + self.keep_seconds)
                while len(self._calls) > self.max_calls:
                    self._calls.popitem(last=False)
            if call.attempts >= self.per_call:
                return False
            call.attempts += 1
            return True

    def sent(self, call_sid: str, list_key: str) -> None:
        with self._lock:
            call = self._call(call_sid)
            if call is not None:
                call.lists.add(list_key)
