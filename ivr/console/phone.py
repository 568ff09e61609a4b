"""The phone in the browser: a keypad and a call button that walk the line's real webhooks.

The page is a form the script drives; each key goes to `/console/phone/step`, which rehearses the
call in this process (ivr.console.rehearsal) and answers what the line said, as JSON.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from flask import current_app, jsonify, render_template, request

from ..hours import HolidayCalendar, now_in
from ..simulate import DIAL_OUTCOMES
from ..voice import holder
from . import bp
from .rehearsal import LineFault, PhoneCalls

KEYS = re.compile(r"^[0-9*#]{0,10}$")
#: How each transfer outcome (Twilio's word, as the simulator offers them) is offered to staff.
OUTCOMES = dict(zip(DIAL_OUTCOMES, ("Answered", "Busy", "No answer", "Failed", "Canceled"), strict=True))


def clock_presets(today: date, calendar: HolidayCalendar) -> list[tuple[str, str]]:
    """Times staff often rehearse: (label, the datetime-local value) for a weekday morning, a
    Saturday and the next holiday of the line's calendar at 3 am."""
    def ahead(weekday: int) -> date:
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)

    presets = [("Wednesday, 10 am", datetime.combine(ahead(2), time(10))),
               ("Saturday, 10 am", datetime.combine(ahead(5), time(10)))]
    holiday = calendar.next_holiday(today)
    if holiday:
        presets.append((f"{holiday[1]}, 3 am", datetime.combine(holiday[0], time(3))))
    return [(label, moment.strftime("%Y-%m-%dT%H:%M")) for label, moment in presets]


@bp.route("/phone")
def phone():
    flow = holder().current.line.flow
    presets = clock_presets(now_in(flow.time_zone).date(), flow.calendar)
    return render_template("console/phone.html", title="Phone", presets=presets, outcomes=OUTCOMES,
                           zone=flow.time_zone)


def parse_clock(value: str) -> datetime | None:
    """The rehearsal's time from the form (line's local time), or None for now."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date and time") from None
    if moment.tzinfo is not None or not 2000 <= moment.year <= 2100:
        raise ValueError(f"'{value}' is not a date and time of the line's clock")
    return moment


@bp.route("/phone/step", methods=["POST"])
def phone_step():
    """Start a rehearsal call, or answer the step it waits at: {"start": true, "at": ...},
    {"next": token, "digits": "2"} or {"next": token, "dial": "busy"}."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="send the call's step as JSON"), 400
    settings = current_app.extensions["ivr.settings"]
    # In the development mode the line checks no signature; sign anyway, as Twilio would.
    calls = PhoneCalls(current_app._get_current_object(), settings.auth_token or "development",
                          current_app.secret_key)
    try:
        if data.get("start"):
            return jsonify(calls.start(parse_clock(str(data.get("at") or ""))))
        digits, dial = data.get("digits"), data.get("dial")
        if digits is not None and not (isinstance(digits, str) and KEYS.match(digits)):
            raise ValueError("keys are 0 to 9, * and #")
        if dial is not None and dial not in OUTCOMES:
            raise ValueError(f"a transfer ends {', '.join(OUTCOMES)}")
        return jsonify(calls.answer(str(data.get("next", "")), digits, dial))
    except ValueError as exc:
        return jsonify(error=str(exc)), 400
    except LineFault as exc:
        return jsonify(error=f"The line did not answer as it should: {exc}"), 502
