"""Opening hours of destinations, in the line's time zone, with state holidays closed."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN = re.compile(r"^(\d{1,2}):(\d\d)-(\d{1,2}):(\d\d)$")


#: How far ahead "opens ..." looks: two weeks covers a holiday week and a fortnightly schedule.
LOOK_AHEAD_DAYS = 14


@dataclass(frozen=True)
class OpenStatus:
    """What a caller can be told: "open now until 4:30 pm", "closed now, opens tomorrow at 9 am".

    `closes_at` is None while open when it does not close within the look-ahead (open around the
    clock); `next_open` is None when it does not open within it.
    """

    open_now: bool
    closes_at: datetime | None
    next_open: datetime | None


def status_from_spans(now: datetime, spans: Iterable[tuple[datetime, datetime]],
                      days: int = LOOK_AHEAD_DAYS) -> OpenStatus:
    """OpenStatus from opening spans (aware start, end) around `now`; touching or overlapping spans
    are one opening, so a place open until midnight and again from midnight is simply open."""
    horizon = now + timedelta(days=days)
    merged: list[list[datetime]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        if start <= now < end:
            return OpenStatus(True, end if end < horizon else None, None)
        if start > now:
            return OpenStatus(False, None, start if start <= horizon else None)
    return OpenStatus(False, None, None)


def _days_around(now: datetime, days: int) -> list[date]:
    """The day before `now` (an opening may run past midnight) to `days` days after it."""
    return [now.date() + timedelta(days=offset) for offset in range(-1, days + 1)]


@dataclass(frozen=True)
class Hours:
    """When a destination answers. `week` maps weekday (0 = Monday) to (open, close) minute spans."""

    week: Mapping[int, tuple[tuple[int, int], ...]]
    closed_dates: frozenset[date]
    state_holidays: bool

    def spans(self, day: date, calendar: "HolidayCalendar") -> tuple[tuple[int, int], ...]:
        if day in self.closed_dates or (self.state_holidays and calendar.is_holiday(day)):
            return ()
        return self.week.get(day.weekday(), ())


@dataclass(frozen=True)
class HolidayCalendar:
    country: str
    subdivision: str | None

    def is_holiday(self, day: date) -> bool:
        return day in _holidays(self.country, self.subdivision, day.year)

    def next_holiday(self, after: date) -> tuple[date, str] | None:
        """The first holiday after `after` (looking into next year too), with its name."""
        for year in (after.year, after.year + 1):
            found = _holidays(self.country, self.subdivision, year)
            upcoming = sorted(day for day in found if day > after)
            if upcoming:
                return upcoming[0], found.get(upcoming[0])
        return None


@lru_cache(maxsize=32)
def _holidays(country: str, subdivision: str | None, year: int):
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def parse_week(spec: Mapping[str, object]) -> tuple[dict[int, tuple[tuple[int, int], ...]], list[str]]:
    """Read `{mon-fri: "08:00-17:00", sat: ["09:00-12:00", "13:00-15:00"], sun: closed}`.

    Returns the week and a list of (key, message) problems.
    """
    week: dict[int, tuple[tuple[int, int], ...]] = {}
    problems: list[tuple[str, str]] = []
    for key, value in spec.items():
        days = _days(key)
        if days is None:
            problems.append((key, f"'{key}' is not a day or range of days (mon ... sun, mon-fri, daily)"))
            continue
        spans: list[tuple[int, int]] = []
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item == "closed":
                continue
            match = SPAN.match(str(item))
            if not match:
                problems.append((key, f"'{item}' is not a time span like 08:00-17:00 (or 'closed')"))
                continue
            h1, m1, h2, m2 = (int(x) for x in match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if not (0 <= start < end <= 24 * 60) or m1 > 59 or m2 > 59:
                problems.append((key, f"'{item}' must open before it closes, within one day (00:00-24:00)"))
                continue
            spans.append((start, end))
        for day in days:
            week[day] = tuple(sorted(spans))
    return week, problems


def _days(key: str) -> list[int] | None:
    key = key.strip().lower()
    if key == "daily":
        return list(range(7))
    if key in DAYS:
        return [DAYS.index(key)]
    if "-" in key:
        first, _, last = key.partition("-")
        if first in DAYS and last in DAYS:
            a, b = DAYS.index(first), DAYS.index(last)
            return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return None


def is_open(hours: Hours | None, now: datetime, calendar: HolidayCalendar) -> bool:
    """`now` must be aware and in the line's time zone. No hours means always open."""
    if hours is None:
        return True
    minute = now.hour * 60 + now.minute
    return any(start <= minute < end for start, end in hours.spans(now.date(), calendar))


def next_opening(hours: Hours, now: datetime, calendar: HolidayCalendar,
                 days: int = LOOK_AHEAD_DAYS) -> datetime | None:
    """The next moment it opens, within `days` days, as a wall-clock time in `now`'s zone."""
    zone = now.tzinfo
    minute = now.hour * 60 + now.minute
    for offset in range(days + 1):
        day = now.date() + timedelta(days=offset)
        for start, _end in hours.spans(day, calendar):
            if offset == 0 and start <= minute:
                continue
            return datetime.combine(day, time(start // 60, start % 60), tzinfo=zone)
    return None


def now_in(zone: str) -> datetime:
    return datetime.now(ZoneInfo(zone))
