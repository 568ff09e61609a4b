"""Opening hours from HSDS 3.0 schedules: the iCal RRULE fields of schedules.csv, as a caller hears them.

A place's schedule answers "open now until 4:30 pm", "closed now, opens tomorrow at 9 am", or
nothing when the data does not say (no rows, or rows whose `valid_from`..`valid_to` do not cover
today: the spec's field guidance says an expired schedule means the hours are no longer known, not
that the service closed). Times are read in the line's time zone (see `Rule.spans`).
"""
from __future__ import annotations

import re
from calendar import isleap, monthrange
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Mapping

from .hours import LOOK_AHEAD_DAYS, HolidayCalendar, OpenStatus, _days_around, status_from_spans

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: RRULE frequencies we read: the spec's enum (WEEKLY, MONTHLY) and DAILY, which needs no guessing.
FREQUENCIES = ("WEEKLY", "MONTHLY", "DAILY")
#: The columns of schedules.csv that say when (our constants, from the spec's schedule schema).
TIME_COLUMNS = ("freq", "interval", "byday", "byweekno", "bymonthday", "byyearday", "wkst", "dtstart",
                "until", "count", "valid_from", "valid_to", "opens_at", "closes_at", "timezone")
_TIME = re.compile(r"^(\d{1,2}):(\d\d)(?::(\d\d)(?:\.\d+)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$", re.IGNORECASE)
_BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
_END_OF_DAY = 24 * 60
#: Counting occurrences for `count` stops after this many days: no weekly schedule needs more.
_COUNT_HORIZON_DAYS = 3 * 366


class ScheduleError(ValueError):
    """A schedules.csv row whose hours cannot be read; the message says what to fix."""


@dataclass(frozen=True)
class Rule:
    """One schedules.csv row: the days it repeats on and the times it is open on them."""

    freq: str
    interval: int
    weekdays: frozenset[int]                  # BYDAY without a number (0 = Monday)
    nth_weekdays: frozenset[tuple[int, int]]  # MONTHLY BYDAY like 1SA, -1FR: (n, weekday)
    monthdays: frozenset[int]                 # MONTHLY BYMONTHDAY, negative from the month's end
    weeknos: frozenset[int]                   # BYWEEKNO (ISO weeks), negative from the year's end
    yeardays: frozenset[int]                  # BYYEARDAY, negative from the year's end
    week_start: int                           # WKST, for INTERVAL > 1 on WEEKLY
    opens: int                                # minutes after midnight
    closes: int                               # minutes after midnight of the opening day (may pass 24:00)
    offset: int | None                        # minutes east of UTC written with the times
    dtstart: date | None
    until: date | None                        # RRULE end: after it, closed
    valid_from: date | None                   # validity: outside it the hours are not known
    valid_to: date | None

    def known(self, day: date) -> bool:
        """Whether `day` is within the dates the data vouches for (valid_from, valid_to)."""
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day <= self.valid_to))

    def occurs(self, day: date) -> bool:
        """Whether the rule opens on `day` (its own calendar day)."""
        if (self.dtstart and day < self.dtstart) or (self.until and day > self.until):
            return False
        if self.yeardays and not _in_year_days(day, self.yeardays):
            return False
        # An interval, or days taken from the first day, need dtstart: parse_rule requires it then.
        start = self.dtstart or day
        if self.freq == "DAILY":
            return (day - start).days % self.interval == 0
        if self.freq == "WEEKLY":
            if self.weeknos and not _in_weeks(day, self.weeknos):
                return False
            if day.weekday() not in (self.weekdays or {start.weekday()}):
                return False
            return (_week(day, self.week_start) - _week(start, self.week_start)) % self.interval == 0
        if ((day.year - start.year) * 12 + day.month - start.month) % self.interval:
            return False
        if not (self.monthdays or self.nth_weekdays or self.weekdays):
            return day.day == start.day
        # Given together, BYMONTHDAY and BYDAY must both hold (RFC 5545: each narrows the other).
        return ((not self.monthdays or _in_month_days(day, self.monthdays))
                and (not (self.weekdays or self.nth_weekdays) or day.weekday() in self.weekdays
                     or bool(_nth_weekday(day) & self.nth_weekdays)))

    def spans(self, day: date, zone) -> tuple[datetime, datetime]:
        """The opening on `day` as aware datetimes in `zone`, the line's time zone.

        Times written without an offset, or with an offset the line's zone itself uses (-05:00 or
        -04:00 in New York), are the line's wall-clock time: a data manager who writes "09:00-05:00"
        means 9 am all year round, summer included. Another offset (Z = UTC) is converted.
        """
        local = self.offset is None or self.offset in _zone_offsets(zone, day.year)
        tz = zone if local else timezone(timedelta(minutes=self.offset))  # type: ignore[arg-type]
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        start, end = midnight + timedelta(minutes=self.opens), midnight + timedelta(minutes=self.closes)
        return (start, end) if local else (start.astimezone(zone), end.astimezone(zone))


@dataclass(frozen=True)
class Schedule:
    """When one place is open: every usable schedules.csv row that applies to it."""

    rules: tuple[Rule, ...]

    def status(self, now: datetime, calendar: HolidayCalendar | None = None) -> OpenStatus | None:
        """Open now (until when), or closed (and when it opens next); None when the hours for today
        are not known. `now` is aware, in the line's time zone; `calendar` closes the line's holidays."""
        if not any(rule.known(now.date()) for rule in self.rules):
            return None
        zone = now.tzinfo
        spans = [rule.spans(day, zone) for day in _days_around(now, LOOK_AHEAD_DAYS)
                 if calendar is None or not calendar.is_holiday(day)
                 for rule in self.rules if rule.known(day) and rule.occurs(day)]
        return status_from_spans(now, spans, LOOK_AHEAD_DAYS)


def parse_rule(row: Mapping[str, str]) -> Rule | None:
    """A schedules.csv row as a Rule; None when it gives no opening times (a row may only describe).

    Raises ScheduleError saying what is wrong. Rows repeat (every weekday office shares one set of
    hours), so the parse is cached on the row's time columns.
    """
    return _parse(tuple(map(row.get, TIME_COLUMNS)))


@lru_cache(maxsize=4096)
def _parse(values: tuple[str | None, ...]) -> Rule | None:
    f = {column: value or "" for column, value in zip(TIME_COLUMNS, values)}
    if not f["opens_at"] and not f["closes_at"]:
        return None
    if not f["opens_at"] or not f["closes_at"]:
        missing = "closes_at" if f["opens_at"] else "opens_at"
        raise ScheduleError(f"has {'opens_at' if f['opens_at'] else 'closes_at'} but no {missing}")
    opens, open_offset = _time("opens_at", f["opens_at"])
    closes, close_offset = _time("closes_at", f["closes_at"])
    if closes == 23 * 60 + 59:
        closes = _END_OF_DAY  # the spec's field guidance: 00:00-23:59 means open around the clock
    if closes <= opens:
        closes += _END_OF_DAY  # closes after midnight (00:00-00:00: all day)
    offset = open_offset if open_offset is not None else close_offset
    if offset is None and f["timezone"]:
        offset = _hours_offset(f["timezone"])
    weekdays, nth = _byday(f["byday"])
    freq = f["freq"].upper() or ("WEEKLY" if weekdays or nth else "")
    if freq not in FREQUENCIES:
        raise ScheduleError(f"freq '{f['freq']}' is not WEEKLY or MONTHLY" if f["freq"] else
                            "no days: give byday (e.g. MO,TU,WE,TH,FR) or freq")
    if nth and freq != "MONTHLY":
        raise ScheduleError(f"byday '{f['byday']}' numbers a weekday, which only freq MONTHLY allows")
    interval = _integer("interval", f["interval"] or "1", 1, 52)
    dtstart = _date("dtstart", f["dtstart"])
    needs_start = (interval > 1 or (freq == "WEEKLY" and not weekdays)
                   or (freq == "MONTHLY" and not (weekdays or nth or f["bymonthday"])) or f["count"])
    if needs_start and dtstart is None:
        raise ScheduleError("needs dtstart (the first day it opens) for its interval, count or days")
    week_start = DAY_CODES.index(f["wkst"].upper()) if f["wkst"].upper() in DAY_CODES else 0
    rule = Rule(freq, interval, frozenset(weekdays), frozenset(nth),
                _numbers("bymonthday", f["bymonthday"], 31), _numbers("byweekno", f["byweekno"], 53),
                _numbers("byyearday", f["byyearday"], 366), week_start, opens, closes, offset, dtstart,
                _date("until", f["until"]), _date("valid_from", f["valid_from"]),
                _date("valid_to", f["valid_to"]))
    if f["count"]:
        count = _integer("count", f["count"], 1, 10_000)
        last = _count_until(rule, count)
        rule = replace(rule, until=min(last, rule.until) if rule.until else last)
    return rule


def _time(column: str, text: str) -> tuple[int, int | None]:
    match = _TIME.match(text.strip())
    hour, minute = (int(match.group(1)), int(match.group(2))) if match else (99, 99)
    # 24:00 may end a day; it cannot start one.
    if minute > 59 or hour > 24 or (hour == 24 and (minute or column == "opens_at")):
        raise ScheduleError(f"{column} '{text}' is not a time of day like 09:00 or 16:30 (00:00-23:59)")
    zone = (match.group(4) or "").upper()
    if not zone:
        return hour * 60 + minute, None
    if zone == "Z":
        return hour * 60 + minute, 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return hour * 60 + minute, sign * (int(digits[:2]) * 60 + int(digits[2:] or 0))


def _hours_offset(text: str) -> int:
    try:
        hours = float(text)
    except ValueError:
        hours = 99.0
    if not -14 <= hours <= 14:
        raise ScheduleError(f"timezone '{text}' is not a UTC offset in hours, like -5")
    return round(hours * 60)


def _byday(text: str) -> tuple[set[int], set[tuple[int, int]]]:
    plain: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for part in (p.strip().upper() for p in text.split(",") if p.strip()):
        match = _BYDAY.match(part)
        if not match:
            raise ScheduleError(f"byday '{text}' must list days as MO,TU,WE,TH,FR,SA,SU "
                                "(MONTHLY may number them: 1SA, -1FR)")
        day = DAY_CODES.index(match.group(2))
        if match.group(1):
            nth.add((int(match.group(1)), day))
        else:
            plain.add(day)
    return plain, nth


def _numbers(column: str, text: str, biggest: int) -> frozenset[int]:
    found = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            number = int(part)
        except ValueError:
            number = 0
        if not 1 <= abs(number) <= biggest:
            raise ScheduleError(f"{column} '{text}' must list numbers from 1 to {biggest} "
                                f"(or -1 to -{biggest})")
        found.add(number)
    return frozenset(found)


def _integer(column: str, text: str, low: int, high: int) -> int:
    try:
        number = int(float(text))
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ScheduleError(f"{column} '{text}' must be a whole number from {low} to {high}")
    return number


def _date(column: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise ScheduleError(f"{column} '{text}' is not a date like 2026-01-31") from None


def _count_until(rule: Rule, count: int) -> date:
    """The day of the rule's `count`-th opening (RRULE COUNT), found by walking from dtstart."""
    day, seen = rule.dtstart, 0
    for _ in range(_COUNT_HORIZON_DAYS):
        if rule.occurs(day):  # type: ignore[arg-type]
            seen += 1
            if seen == count:
                return day  # type: ignore[return-value]
        day += timedelta(days=1)  # type: ignore[operator]
    return day  # type: ignore[return-value]


def _week(day: date, week_start: int) -> int:
    """A running week number, weeks starting on `week_start`."""
    return (day.toordinal() - 1 - week_start) // 7  # ordinal 1, 0001-01-01, was a Monday


def _nth_weekday(day: date) -> set[tuple[int, int]]:
    """(n, weekday) and (-n, weekday) for `day`: it is the n-th such weekday of its month."""
    from_start = (day.day - 1) // 7 + 1
    from_end = -((monthrange(day.year, day.month)[1] - day.day) // 7) - 1
    return {(from_start, day.weekday()), (from_end, day.weekday())}


def _in_month_days(day: date, monthdays: frozenset[int]) -> bool:
    if not monthdays:
        return False
    last = monthrange(day.year, day.month)[1]
    return day.day in monthdays or day.day - last - 1 in monthdays


def _in_weeks(day: date, weeknos: frozenset[int]) -> bool:
    year, week, _ = day.isocalendar()
    weeks = date(year, 12, 28).isocalendar()[1]
    return week in weeknos or week - weeks - 1 in weeknos


def _in_year_days(day: date, yeardays: frozenset[int]) -> bool:
    number = day.timetuple().tm_yday
    days = 366 if isleap(day.year) else 365
    return number in yeardays or number - days - 1 in yeardays


@lru_cache(maxsize=64)
def _zone_offsets(zone, year: int) -> frozenset[int]:
    """The UTC offsets (minutes) the zone uses in `year`: standard and daylight time."""
    return frozenset(int(datetime(year, month, 15, 12, tzinfo=zone).utcoffset().total_seconds() // 60)
                     for month in (1, 7))
