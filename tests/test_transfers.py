"""Transfers never strand a caller: every Dial outcome, opening hours, the whisper, privacy."""
from __future__ import annotations

import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, TOKEN, Call
from ivr import create_app
from ivr.flow import check
from ivr.model import TRANSFER
from ivr.simulate import SIMULATED_CALLER
from ivr.kinds import KINDS
from ivr.navigator import Navigator, Visit
from ivr.twiml import render

NY = ZoneInfo("America/New_York")
LINE_NUMBER = "+12075550123"  # what CallParams sends as To: the line's own Twilio number
FAILURES = ["busy", "no-answer", "failed", "canceled"]


def at(*args) -> time_machine.travel:
    return time_machine.travel(datetime(*args, tzinfo=NY), tick=False)


def person(call: Call):
    call.choose_language("1")
    return call.press("0")


# -- every DialCallStatus at each position of the chain -----------------------------------------

@pytest.mark.parametrize("status", FAILURES)
def test_first_in_chain_fails_then_the_next_is_dialled(call, status):
    person(call)
    second = call.dial_ends(status)
    assert second.says() == ["No one answered. We are trying another line."]
    assert second.find("Dial/Number").text == "+12075550101"


@pytest.mark.parametrize("status", FAILURES)
def test_last_in_chain_fails_then_numbers_twice_and_goodbye(call, status):
    person(call)
    call.dial_ends("busy")
    end = call.dial_ends(status)
    assert end.find("Dial") is None and end.find("Hangup") is not None
    assert end.text().count("2 0 7, 5 5 5, 0 1 0 0") == 2
    assert end.says()[-1] == "Thank you for calling. Take care."


@pytest.mark.parametrize("position", [0, 1])
def test_bridged_call_at_any_position_ends_with_goodbye(call, position):
    person(call)
    if position:
        call.dial_ends("no-answer")
    end = call.dial_ends("completed", bridged=True)
    assert end.find("Dial") is None and end.says() == ["Thank you for calling. Take care."]


@pytest.mark.parametrize("position", [0, 1])
def test_completed_without_a_bridge_is_a_declined_whisper_and_moves_on(call, position):
    person(call)
    if position:
        call.dial_ends("busy")
    after = call.dial_ends("completed", bridged=False)
    if position == 0:
        assert after.find("Dial/Number").text == "+12075550101"
    else:
        assert after.find("Dial") is None and "2 0 7, 5 5 5, 0 1 0 1" in after.text()


def test_dial_never_rings_211_911_or_988_and_bridges_on_answer(call):
    dial = person(call).find("Dial")
    assert dial.get("answerOnBridge") == "true" and int(dial.get("timeout")) <= 30
    assert len(dial.find("Number").text) == 12


@settings(max_examples=60, deadline=None)
@given(outcomes=st.lists(st.sampled_from(FAILURES + ["completed"]), min_size=1, max_size=25))
def test_every_chain_ends_in_numbers_and_goodbye_without_revisiting(outcomes):
    """On the Maine line, for every transfer node, any run of failed outcomes ends well."""
    line, _ = check(REPO)
    nav = Navigator(line, KINDS, clock=lambda: datetime(2026, 11, 18, 10, 0, tzinfo=NY))
    visit = Visit("en", line_number=LINE_NUMBER)
    import xml.etree.ElementTree as ET
    for node in (n for n in line.flow.nodes.values() if n.kind == TRANSFER):
        doc = ET.fromstring(render(nav.arrive(node, visit)))
        dialled = []
        for outcome in outcomes:
            dial = doc.find("Dial")
            if dial is None:
                break
            dialled.append(dial.find("Number").text)
            dest = dial.get("action").split("to=")[1]
            doc = ET.fromstring(render(nav.dialed(node, visit, dest, outcome, False)))
        while doc.find("Dial") is not None:  # everyone else fails too
            dialled.append(doc.find("Dial/Number").text)
            dest = doc.find("Dial").get("action").split("to=")[1]
            doc = ET.fromstring(render(nav.dialed(node, visit, dest, "no-answer", False)))
        assert len(dialled) == len(set(dialled)), f"{node.id} dialled a number twice: {dialled}"
        says = [s.text for s in doc.iter("Say")]
        assert doc.find("Hangup") is not None and says[-1].startswith("Thank you for calling")
        assert "Here are numbers you can call yourself." in " ".join(says)


# -- opening hours -------------------------------------------------------------------------------

def test_open_hours_dial_the_helpline(call):
    with at(2026, 11, 18, 16, 59):
        assert person(call).find("Dial/Number").text == "+12075550100"


def test_closed_says_when_it_opens_and_goes_straight_on(call):
    with at(2026, 11, 18, 17, 0):  # Wednesday, just closed
        answer = person(call)
    text = answer.text()
    assert "the demo helpline That line is closed right now. It opens tomorrow at 9:00\u202fAM." in text
    assert answer.find("Dial/Number").text == "+12075550101"  # the next in the chain, at once


def test_closed_is_said_in_the_callers_language(call):
    with at(2026, 11, 21, 13, 0):  # Saturday afternoon: opens Monday
        call.choose_language("2")
        answer = call.press("0")
    assert "Esa línea está cerrada en este momento." in answer.says()
    assert "Abre: lunes, a las 9:00\u202fa.m." in answer.says()


def test_maine_state_holiday_is_closed(call):
    with at(2026, 4, 20, 10, 0):  # Patriots' Day, a Maine state holiday (a Monday)
        answer = person(call)
    assert "It opens tomorrow at 9:00" in answer.text()
    with at(2026, 4, 21, 10, 0):
        assert person(call).find("Dial/Number").text == "+12075550100"


def test_extra_closed_date(call):
    with at(2026, 12, 24, 10, 0):
        assert "closed right now" in person(call).text()


@pytest.mark.parametrize("moment, is_open", [
    ((2026, 3, 7, 11, 59), True),    # Saturday before daylight saving time starts
    ((2026, 3, 8, 10, 30), False),   # the Sunday it starts (closed on Sundays anyway)
    ((2026, 3, 9, 9, 0), True),      # Monday 9:00 EDT, the first opening after the change
    ((2026, 3, 9, 8, 59), False),
    ((2026, 10, 31, 10, 0), True),   # Saturday before it ends
    ((2026, 11, 2, 16, 59), True),   # Monday after it ends, 16:59 EST
    ((2026, 11, 2, 17, 0), False),
])
def test_hours_follow_wall_clock_time_across_daylight_saving(call, moment, is_open):
    with at(*moment):
        answer = person(call)
    assert (answer.find("Dial/Number").text == "+12075550100") is is_open


def test_hours_on_the_days_daylight_saving_starts_and_ends_in_utc():
    # 2026-03-08 07:00 UTC is 03:00 EDT; 2026-11-01 06:00 UTC is 01:00 EST.
    from ivr.hours import is_open
    line, _ = check(REPO / "tests/fixtures/demo")
    hours = line.flow.destinations["helpline"].hours
    calendar = line.flow.calendar
    monday_open = datetime(2026, 3, 9, 13, 0, tzinfo=ZoneInfo("UTC")).astimezone(NY)  # 9:00 EDT
    assert is_open(hours, monday_open, calendar)
    monday_before = datetime(2026, 3, 9, 12, 59, tzinfo=ZoneInfo("UTC")).astimezone(NY)
    assert not is_open(hours, monday_before, calendar)
    monday_after_fall = datetime(2026, 11, 2, 14, 0, tzinfo=ZoneInfo("UTC")).astimezone(NY)  # 9:00 EST
    assert is_open(hours, monday_after_fall, calendar)


# -- whisper ------------------------------------------------------------------------------------

def whisper_for(call: Call):
    number = person(call).find("Dial/Number")
    return call.post(number.get("url"))


def test_whisper_tells_the_helper_who_calls_and_asks_for_1(call):
    call.choose_language("2")
    call.press("2")
    number = call.press("0").find("Dial/Number")
    whisper = call.post(number.get("url"))
    gather = whisper.gather()
    assert gather.get("numDigits") == "1" and int(gather.get("timeout")) <= 10
    said = gather.find("Say").text
    assert "Demo Referral Line" in said and "Spanish" in said and "Press 1" in said
    assert "services" in said  # the menu the caller came from
    assert whisper.voices() == {("en-US", "Polly.Joanna-Neural")}


def test_whisper_accept_bridges(call):
    whisper_for(call)
    accepted = call.press("1")
    assert list(accepted.root) == []  # an empty answer ends the whisper and bridges the caller


@pytest.mark.parametrize("key", ["2", "*", "0"])
def test_whisper_wrong_key_declines(call, key):
    whisper_for(call)
    assert call.press(key).find("Hangup") is not None


def test_whisper_no_key_or_voicemail_hangs_up_the_helpers_leg(call):
    whisper = whisper_for(call)
    assert whisper.gather().get("actionOnEmptyResult") is None
    assert list(whisper.root)[-1].tag == "Hangup"  # after the Gather times out: no voicemail


def test_whisper_timeout_then_chain_goes_on(call):
    whisper_for(call)
    # Twilio reports the leg completed but never bridged: the caller moves down the chain.
    call.last = call.post("/voice/input/main?lang=en")  # any answer; then the Dial's action:
    answer = call.post("/voice/dialed/person?lang=en&to=helpline", DialCallStatus="completed",
                       DialBridged="false")
    assert answer.find("Dial/Number").text == "+12075550101"


# -- caller ID and status callbacks ---------------------------------------------------------------

def test_helper_sees_the_lines_number_not_the_callers(call):
    dial = person(call).find("Dial")
    assert dial.get("callerId") == LINE_NUMBER
    assert SIMULATED_CALLER not in str(ET_tostring(call.last))


def test_destination_may_pass_the_callers_number_through(tmp_path, demo_root):
    import shutil
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    path = root / "menus/line.yaml"
    path.write_text(path.read_text().replace("    closed_on: [holidays, 2026-12-24]\n",
                                             "    closed_on: [holidays, 2026-12-24]\n    caller_id: caller\n"))
    call = Call(create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN}).test_client())
    dial = person(call).find("Dial")
    assert dial.get("callerId") is None  # Twilio then shows the caller's own number


def ET_tostring(twiml) -> bytes:
    import xml.etree.ElementTree as ET
    return ET.tostring(twiml.root)


def test_status_callback_records_the_outcome_without_any_number(demo_root, tmp_path, caplog):
    log_file = tmp_path / "transfers.jsonl"
    app = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN,
                      "TRANSFER_LOG": str(log_file)})
    call = Call(app.test_client())
    number = person(call).find("Dial/Number")
    from ivr.simulate import signed_post
    with caplog.at_level(logging.INFO):
        response = signed_post(call.client, TOKEN, number.get("statusCallback"),
                               {**call.params.fields(), "CallStatus": "no-answer", "CallDuration": "0",
                                "Called": "+12075550100"})
    assert response.status_code == 204
    record = json.loads(log_file.read_text().splitlines()[0])
    assert record["destination"] == "helpline" and record["CallStatus"] == "no-answer"
    written = log_file.read_text() + caplog.text
    for number_text in (SIMULATED_CALLER, "+12075550100", LINE_NUMBER, "2075550199"):
        assert number_text not in written


def test_unsigned_status_callback_is_refused(client):
    assert client.post("/voice/status?node=person&to=helpline", data={"CallStatus": "busy"}).status_code == 403
    assert client.post("/voice/whisper/person?lang=en&to=helpline").status_code == 403


# -- callback URLs Twilio will accept --------------------------------------------------------------

def test_the_status_callback_is_an_absolute_url_as_twilio_requires(demo_root):
    """Twilio documents <Dial action> and <Number url> as relative or absolute, but
    <Number statusCallback> only as a URL, and its API refuses one not fully qualified (21609)."""
    call = Call(create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN}).test_client())
    number = person(call).find("Dial/Number")
    assert number.get("statusCallback").startswith("http://localhost/voice/status?")
    assert number.get("url").startswith("/voice/whisper/")  # relative, as Twilio allows
    public = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN,
                         "PUBLIC_URL": "https://line.example.org"})
    number = person(Call(public.test_client())).find("Dial/Number")
    assert number.get("statusCallback").startswith("https://line.example.org/voice/status?")
