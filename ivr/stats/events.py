"""What the line counts: a fixed vocabulary of events, none of which can hold caller data.

Each event is a small frozen dataclass. Its `cell` is the row it adds one to: (event, lang, subject,
detail), all short words from the line's own content (node, destination and language ids, county
names) or from the fixed tuples below. The constructors refuse anything else, so a phone number, a
ZIP code or a call id can never become a count's label: that is a programming error the webhook
tests catch, not something a caller can cause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from ..model import ID

#: How a transfer ended. `connected` only when Twilio reports the call bridged.
OUTCOMES = ("connected", "busy", "no-answer", "failed", "canceled", "declined", "closed")
#: A menu that got no usable key.
MISSES = ("wrong-key", "silence")
#: What became of the offer to text a list of services.
TEXTS = ("offered", "sent", "failed")
#: How long a call lasted, in bands, never the exact duration: (upper bound in seconds, label).
BANDS = ((60, "<1 min"), (180, "1-3 min"), (600, "3-10 min"), (1800, "10-30 min"),
         (None, "30+ min"))
BAND_LABELS = tuple(label for _, label in BANDS)

# A county is a name: letters, spaces and punctuation, never a digit (so never a ZIP code).
_COUNTY = re.compile(r"[^\W\d_][^\d]{0,63}")


def _check(value: str, pattern: re.Pattern[str], what: str,
           expected: str = "a short id from the line's content") -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not {expected}")


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")


def band(seconds: float) -> str:
    """The duration band of a call that lasted `seconds`."""
    for limit, label in BANDS:
        if limit is None or seconds < limit:
            return label
    raise AssertionError("unreachable: the last band has no limit")


# A per-call key is Statistics.call_key(CallSid): 32 hex digits of an HMAC, never the CallSid.
_CALL_KEY = re.compile(r"(?:[0-9a-f]{32})?")


def _hour():
    """Every event takes `hour` (keyword only): the local hour it happened in, or None for "now",
    which the recorder fills in in the line's time zone."""
    return field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """A call came in (POST /voice)."""

    hour: datetime | None = _hour()

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("call.answered", "", "", "")


@dataclass(frozen=True, slots=True)
class LanguageChosen:
    lang: str
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _check(self.lang, ID, "language")

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("language", self.lang, "", "")


@dataclass(frozen=True, slots=True)
class MenuReached:
    """A caller reached a menu. With `call` (Statistics.call_key), it becomes that call's last menu
    until the call ends, so that CallEnded can count where calls end."""

    node: str
    lang: str
    call: str = ""
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _check(self.node, ID, "node")
        _check(self.lang, ID, "language")
        _check(self.call, _CALL_KEY, "per-call key", "Statistics.call_key(CallSid)")

    def of_call(self, call: str) -> "MenuReached":
        """This event, kept against the call whose key is `call` (Statistics.call_key). Node and
        language were checked when it was made, and the key is one call_key makes: not again."""
        _check(call, _CALL_KEY, "per-call key", "Statistics.call_key(CallSid)")
        made = object.__new__(MenuReached)
        for name, value in (("node", self.node), ("lang", self.lang), ("call", call), ("hour", self.hour)):
            object.__setattr__(made, name, value)
        return made

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("menu", self.lang, self.node, "")


@dataclass(frozen=True, slots=True)
class KeyMissed:
    """A menu got a wrong key or silence."""

    node: str
    which: str
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _check(self.node, ID, "node")
        _one_of(self.which, MISSES, "miss")

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("miss", "", self.node, self.which)


@dataclass(frozen=True, slots=True)
class TransferTried:
    destination: str
    from_node: str
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _check(self.destination, ID, "destination")
        _check(self.from_node, ID, "node")

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("transfer.tried", "", self.destination, self.from_node)


@dataclass(frozen=True, slots=True)
class TransferEnded:
    destination: str
    outcome: str
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _check(self.destination, ID, "destination")
        _one_of(self.outcome, OUTCOMES, "transfer outcome")

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("transfer.ended", "", self.destination, self.outcome)


@dataclass(frozen=True, slots=True)
class DirectorySearch:
    """A directory search: the kind of service and the county searched in, never the ZIP code.
    `county=""` when the place searched is in no county the directory knows."""

    kind: str
    county: str
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _check(self.kind, ID, "search kind")
        if self.county:
            _check(self.county, _COUNTY, "county", "a county's name (never a ZIP code)")

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("search", "", self.kind, self.county)


@dataclass(frozen=True, slots=True)
class TextMessage:
    """The offer to text a list: offered, sent or failed."""

    outcome: str
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _one_of(self.outcome, TEXTS, "text outcome")

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return ("text", "", "", self.outcome)


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call's own status callback: how long it lasted (a band) and, through `call`, the last
    menu it reached. Build it with `CallEnded.after(seconds, call=key)`."""

    band: str
    call: str = ""
    hour: datetime | None = _hour()

    def __post_init__(self) -> None:
        _one_of(self.band, BAND_LABELS, "duration band")
        _check(self.call, _CALL_KEY, "per-call key", "Statistics.call_key(CallSid)")

    @classmethod
    def after(cls, seconds: float, call: str = "", hour: datetime | None = None) -> CallEnded:
        return cls(band(seconds), call, hour=hour)

    @property
    def cell(self) -> tuple[str, str, str, str]:
        # The last menu and its language are filled in by the writer, from the per-call state.
        return ("call.ended", "", "", self.band)


Event = (CallAnswered | LanguageChosen | MenuReached | KeyMissed | TransferTried | TransferEnded
         | DirectorySearch | TextMessage | CallEnded)
