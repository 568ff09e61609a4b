"""The console's phone, as the browser's script uses it: each key posted to /console/phone/step,
walked through the line's real webhooks, answered as what the line says."""
from __future__ import annotations

from datetime import date

import pytest

from conftest import REPO, TOKEN, Call
from ivr import create_app
from test_console import csrf_token, log_in, users_file  # noqa: F401 - a fixture


class Sms:
    """Twilio's side of a text message, kept here: what the line asked to send, and to whom."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, to, from_, body):
        self.sent.append((to, body))


class Phone:
    """A logged-in staff member's phone page."""

    def __init__(self, app):
        self.client = app.test_client()
        log_in(self.client)
        self.token = csrf_token(self.client.get("/console/phone"))
        self.waiting: dict | None = None

    def post(self, body: dict, status: int = 200) -> dict:
        response = self.client.post("/console/phone/step", json=body, headers={"X-CSRFToken": self.token})
        assert response.status_code == status, response.get_json()
        answer = response.get_json()
        self.waiting = answer.get("waiting", self.waiting)
        return answer

    def call(self, at: str = "2026-11-18T10:00") -> dict:
        return self.post({"start": True, "at": at})

    def press(self, digits: str) -> dict:
        return self.post({"next": self.waiting["next"], "digits": digits})

    def dial_ends(self, outcome: str) -> dict:
        return self.post({"next": self.waiting["next"], "dial": outcome})


def said(answer: dict) -> list[tuple[str, str]]:
    return [(e["tts"], e["text"]) for e in answer["events"] if e["type"] == "say"]


@pytest.fixture
def sms():
    return Sms()


@pytest.fixture
def app(users_file, sms, tmp_path):
    return create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "CONSOLE_USERS": str(users_file),
                       "SMS_SENDER": sms, "LINE_NUMBER": "+12075550123",
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'stats.sqlite3'}"}, environ={})


def test_a_call_in_spanish_with_a_busy_transfer_moving_on(app):
    phone = Phone(app)
    welcome = phone.call()
    assert ("en-US", "Maine harm reduction line. If someone may be overdosing, hang up and call 9 1 1 now.") in said(welcome)
    assert ("es-US", "Para español, oprima 2.") in said(welcome)  # the message played, then the language menu
    assert phone.waiting["for"] == "keys" and phone.waiting["digits"] == 1
    main = phone.press("2")
    assert said(main)[0] == ("es-US", "Menú principal. Puede oprimir una tecla en cualquier momento.")
    assert {"key": "7", "leads_to": "crisis", "everywhere": False} in phone.waiting["choices"]
    crisis = phone.press("7")
    assert phone.waiting["for"] == "dial" and phone.waiting["destination"] == "maine_crisis"
    assert phone.waiting["number"] == "+18885681112" and all(tts == "es-US" for tts, _ in said(crisis))
    phone.dial_ends("busy")
    assert phone.waiting["for"] == "dial" and phone.waiting["destination"] == "maine_211"
    end = phone.dial_ends("completed")
    assert said(end)[-1][1].startswith("Gracias por llamar") and end["events"][-1] == {"type": "end"}
    assert end["waiting"] is None


def test_the_clock_rehearses_a_holiday_at_3_am(app):
    phone = Phone(app)
    phone.call(at="2026-12-25T03:00")
    for key in "151":  # English, an OPTIONS liaison, York County
        answer = phone.press(key)
    texts = [text for _tts, text in said(answer)]
    assert "That line is closed right now." in texts and "It opens Monday at 8:00\u202fAM." in texts
    assert phone.waiting["destination"] == "maine_211"  # the chain moved on to 2-1-1
    weekday = Phone(app)
    weekday.call(at="2026-11-18T10:00")
    for key in "151":
        answer = weekday.press(key)
    assert weekday.waiting["destination"] == "options_york"


def test_a_zip_code_and_a_text_message_shown_never_sent(app, sms):
    phone = Phone(app)
    phone.call()
    for key in ("1", "8", "1"):
        phone.press(key)
    assert phone.waiting["digits"] == 5
    places = phone.press("04330")
    assert any("Kennebec" in text or "Lincoln" in text for _tts, text in said(places))
    texted = phone.press("1")
    [message] = [e["body"] for e in texted["events"] if e["type"] == "text"]
    assert message.startswith("The places you asked about")
    assert ("en-US", "We sent the list by text message.") in said(texted)
    assert sms.sent == []  # shown in the console, never sent
    caller = Call(app.test_client())  # a real caller's text still goes
    caller.params.caller = "+12075550187"
    caller.choose_language("1")
    for key in ("8", "1", "04330", "1"):
        caller.press(key)
    assert [to for to, _body in sms.sent] == ["+12075550187"]


def test_rehearsals_are_never_counted(app):
    stats = app.extensions["ivr.stats"]
    phone = Phone(app)
    phone.call()
    phone.press("2")
    stats.flush(final=True)
    today = date(2026, 11, 18)
    assert not any(table.rows for table in stats.report(today, today, "day"))
    Call(app.test_client()).choose_language("2")  # a real call is
    stats.flush(final=True)
    calls = next(t for t in stats.report(today, today, "day") if t.title == "Calls answered")
    assert calls.rows == (("2026-11-18", "<5"),)


def test_the_browser_cannot_steer_the_webhooks(app):
    phone = Phone(app)
    phone.call()
    forged = phone.waiting["next"][:-2] + "xx"
    assert "not one the console started" in phone.post({"next": forged, "digits": "1"}, 400)["error"]
    assert "keys are" in phone.post({"next": phone.waiting["next"], "digits": "1; DROP"}, 400)["error"]
    assert "choose how" not in phone.post({"next": phone.waiting["next"], "dial": "busy"}, 400)["error"]
    assert "date" in phone.post({"start": True, "at": "tomorrow"}, 400)["error"]


def test_the_phone_shows_no_caller_data(app):
    phone = Phone(app)
    answer = str(phone.call()) + str(phone.press("1"))
    for field in ("+12075550199", "CallSid", "CAsimulated", "From"):
        assert field not in answer


def test_a_line_that_refuses_calls_says_so(users_file):
    app = create_app({"CONTENT_ROOT": str(REPO), "CONSOLE_USERS": str(users_file), "STATISTICS": False}, environ={})
    answer = Phone(app).post({"start": True}, 502)
    assert "HTTP 403" in answer["error"] and "TWILIO_AUTH_TOKEN" in answer["error"]
