"""Opening hours from HSDS schedules: what a caller is told ("open now until 4:30 pm", "closed now,
opens tomorrow at 9 am", or nothing), in the line's time zone, with the line's holidays."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.directory_schedule import DAY_CODES, Schedule, ScheduleError, parse_rule
from ivr.hours import HolidayCalendar

NY = ZoneInfo("America/New_York")
MAINE = HolidayCalendar("US", "ME")
WEEKDAYS = {"byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "16:30"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def status(rows, now: str, calendar=MAINE):
    return Schedule(tuple(r for r in map(parse_rule, rows) if r)).status(at(now), calendar)


def test_open_now_until_closing():
    s = status([WEEKDAYS], "2026-12-02 10:00")  # a Wednesday
    assert s.open_now and s.closes_at == at("2026-12-02 16:30") and s.next_open is None


def test_closed_now_opens_tomorrow_morning():
    s = status([WEEKDAYS], "2026-12-02 18:00")
    assert not s.open_now and s.next_open == at("2026-12-03 09:00")


def test_closed_for_the_weekend_opens_monday():
    assert status([WEEKDAYS], "2026-11-28 10:00").next_open == at("2026-11-30 09:00")


def test_closed_on_the_lines_holidays():
    s = status([WEEKDAYS], "2026-11-26 10:00")  # Thanksgiving
    assert not s.open_now and s.next_open == at("2026-11-27 09:00")
    assert status([WEEKDAYS], "2026-11-26 10:00", calendar=None).open_now


def test_no_hours_or_expired_hours_say_nothing():
    assert status([], "2026-12-02 10:00") is None
    assert status([{**WEEKDAYS, "valid_from": "2004-01-01", "valid_to": "2005-01-01"}], "2026-12-02 10:00") is None


def test_until_ends_the_schedule_it_does_not_make_the_hours_unknown():
    s = status([{**WEEKDAYS, "until": "2026-11-30"}], "2026-12-02 10:00")
    assert s is not None and not s.open_now and s.next_open is None


def test_several_rows_make_one_day_morning_and_afternoon():
    rows = [{**WEEKDAYS, "opens_at": "09:00", "closes_at": "12:00"}, {**WEEKDAYS, "opens_at": "15:00", "closes_at": "17:00"}]
    lunch = status(rows, "2026-12-02 13:00")
    assert not lunch.open_now and lunch.next_open == at("2026-12-02 15:00")
    assert status(rows, "2026-12-02 11:00").closes_at == at("2026-12-02 12:00")


def test_open_past_midnight_and_around_the_clock():
    late = {"byday": "FR,SA", "opens_at": "22:00", "closes_at": "02:00"}
    s = status([late], "2026-11-28 01:00")  # Saturday 1 am: Friday's night
    assert s.open_now and s.closes_at == at("2026-11-28 02:00")
    always = {"freq": "DAILY", "opens_at": "00:00", "closes_at": "23:59"}  # the spec's "24 hours"
    s = status([always], "2026-12-02 03:00", calendar=None)
    assert s.open_now and s.closes_at is None


def test_times_with_the_lines_own_offset_are_its_wall_clock_and_utc_is_converted():
    winter, summer = "2026-12-02 09:30", "2026-07-01 09:30"
    for now in (winter, summer):  # -05:00 is New York's standard time: 9 am all year
        assert status([{**WEEKDAYS, "opens_at": "09:00-05:00", "closes_at": "10:00-05:00"}], now).open_now
    utc = {**WEEKDAYS, "opens_at": "14:00Z", "closes_at": "15:00Z"}
    assert status([utc], winter.replace("09:30", "09:30")).open_now  # 14:00 UTC is 9 am in December
    assert status([utc], summer.replace("09:30", "10:30")).open_now  # and 10 am in July


def test_a_monthly_schedule_without_byday():
    rows = [{"freq": "MONTHLY", "bymonthday": "1,15", "opens_at": "10:00", "closes_at": "14:00"}]
    assert status(rows, "2026-12-15 11:00").open_now
    assert status(rows, "2026-12-02 11:00").next_open == at("2026-12-15 10:00")


@pytest.mark.parametrize("row, says", [
    ({**WEEKDAYS, "opens_at": "25:00"}, "opens_at '25:00' is not a time of day"),
    ({**WEEKDAYS, "opens_at": "nine"}, "opens_at 'nine' is not a time of day"),
    ({**WEEKDAYS, "closes_at": ""}, "no closes_at"),
    ({**WEEKDAYS, "byday": "MONDAY"}, "byday 'MONDAY' must list days"),
    ({"opens_at": "09:00", "closes_at": "17:00"}, "no days"),
    ({**WEEKDAYS, "freq": "YEARLY"}, "freq 'YEARLY' is not WEEKLY or MONTHLY"),
    ({**WEEKDAYS, "interval": "2"}, "needs dtstart"),
    ({**WEEKDAYS, "valid_to": "31/12/2026"}, "valid_to '31/12/2026' is not a date"),
])
def test_unreadable_hours_say_what_to_fix(row, says):
    with pytest.raises(ScheduleError, match=says):
        parse_rule(row)


days = st.sets(st.sampled_from(DAY_CODES), min_size=1, max_size=7)


@settings(max_examples=150, deadline=None)
@given(freq=st.sampled_from(["WEEKLY", "MONTHLY"]), byday=days, nth=st.sampled_from(["", "1", "2", "-1", "4"]),
       interval=st.integers(1, 3), start=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
       monthdays=st.sets(st.integers(-3, 28).filter(bool), max_size=3), use_monthdays=st.booleans())
def test_which_days_it_opens_agrees_with_dateutil_rrule(freq, byday, nth, interval, start, monthdays, use_monthdays):
    """Our RRULE reading against dateutil's, over a year of days."""
    weekly = freq == "WEEKLY"
    codes = [(nth if not weekly else "") + code for code in sorted(byday)]
    row = {"freq": freq, "byday": "" if use_monthdays and not weekly and nth else ",".join(codes),
           "bymonthday": ",".join(map(str, sorted(monthdays))) if use_monthdays and not weekly and monthdays else "",
           "interval": str(interval), "dtstart": start.isoformat(), "opens_at": "09:00", "closes_at": "10:00"}
    rule = parse_rule(row)
    oracle_days = [getattr(rrule, c[-2:])(int(c[:-2])) if c[:-2] else getattr(rrule, c[-2:]) for c in codes]
    oracle = rrule.rrule(rrule.WEEKLY if weekly else rrule.MONTHLY, interval=interval, dtstart=start,
                         byweekday=oracle_days if row["byday"] else None,
                         bymonthday=[int(d) for d in row["bymonthday"].split(",")] if row["bymonthday"] else None,
                         wkst=rrule.MO)
    window = [start + timedelta(days=n) for n in range(400)]
    expected = {d.date() for d in oracle.between(datetime.combine(start, datetime.min.time()),
                                                 datetime.combine(window[-1], datetime.min.time()), inc=True)}
    assert {d for d in window if rule.occurs(d)} == expected
