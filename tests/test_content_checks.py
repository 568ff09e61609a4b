"""What `ivr validate` refuses so that the line says what is current and reaches a person, and the
engine behaviour behind it: whispers only to people, the language check, opening times, texts."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from conftest import REPO, TOKEN, Call, maine_copy
from ivr import create_app
from ivr.cli import main as cli
from ivr.flow import check

NY = ZoneInfo("America/New_York")


def edit(root, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def maine_call() -> Call:
    return Call(create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN}).test_client())


def problems_of(root) -> list[str]:
    _line, problems = check(root)
    return [str(p) for p in problems if not p.warning]


# -- whispers only to people ------------------------------------------------------------------------

def test_a_dialled_number_must_say_who_answers_it(tmp_path):
    root = maine_copy(tmp_path)
    edit(root, "menus/destinations.yaml", "    answered_by: service   # a call centre\n", "")
    [problem] = [p for p in problems_of(root) if "answered_by" in p]
    assert problem.startswith("menus/destinations.yaml:") and "destinations.maine_211.answered_by" in problem
    assert "recorded greeting never presses 1" in problem


def test_a_call_centre_is_never_whispered_to(tmp_path):
    root = maine_copy(tmp_path)
    edit(root, "menus/destinations.yaml", "    answered_by: service   # a call centre\n",
         "    answered_by: service\n    whisper: true\n")
    [problem] = [p for p in problems_of(root) if "whisper" in p]
    assert "destinations.maine_211.whisper" in problem and "make every transfer to it fail" in problem


def test_the_menus_readme_says_how_whispers_are_decided():
    readme = (REPO / "menus" / "README.md").read_text(encoding="utf-8")
    assert "answered_by: person" in readme and "answered_by: service" in readme


def test_the_whisper_names_the_menu_in_plain_words(maine_call):
    maine_call.choose_language("1")
    maine_call.press("5")
    maine_call.press("3")  # the Western district
    liaison = maine_call.press("3")  # Oxford County
    whisper = maine_call.post(liaison.find("Dial/Number").get("url"))
    said = whisper.says()[0]
    assert "asked about OPTIONS liaisons, Western district" in said
    assert "_" not in said and "district western" not in said


# -- the language check before an English-only transfer ------------------------------------------------

def to_york_liaison(call: Call, key: str):
    call.choose_language(key)
    call.press("5")
    return call.press("1")  # York County


def test_a_caller_in_another_language_is_told_before_an_english_only_transfer(maine_call):
    answer = to_york_liaison(maine_call, "2")
    assert answer.find("Dial") is None
    said = answer.text()
    assert "no hable" in said or "no hablen" in said or "idioma" in said
    assert answer.gather().get("action").startswith("/voice/check/options_york")


@pytest.mark.parametrize("key,number", [("1", "+12075550100"), ("2", "+18668115695"), ("3", "+18885681112")])
def test_the_caller_chooses_to_connect_anyway_or_to_a_line_with_interpreters(maine_call, key, number):
    to_york_liaison(maine_call, "3")  # French
    assert maine_call.press(key).find("Dial/Number").text == number


def test_an_english_caller_is_connected_straight_away(maine_call):
    assert to_york_liaison(maine_call, "1").find("Dial/Number").text == "+12075550100"


def test_a_spanish_caller_reaches_samhsa_which_speaks_spanish_straight_away(maine_call):
    maine_call.choose_language("2")
    maine_call.press("4")
    assert maine_call.press("4").find("Dial/Number").text == "+18006624357"


def test_silence_at_the_language_check_never_strands_the_caller(maine_call):
    to_york_liaison(maine_call, "4")
    maine_call.silence()
    maine_call.silence()
    assert maine_call.silence().find("Dial/Number").text == "+18668115695"  # 2-1-1, with interpreters


# -- opening times ----------------------------------------------------------------------------------

def test_opening_times_say_today_tomorrow_or_a_weekday_in_the_callers_language(call):
    with time_machine.travel(datetime(2026, 11, 18, 17, 0, tzinfo=NY), tick=False):
        call.choose_language("1")
        assert "It opens tomorrow at 9:00\u202fAM." in call.press("0").text()
        call.choose_language("2")
        assert "Abre: mañana, a las 9:00\u202fa.m." in call.press("0").text()
    with time_machine.travel(datetime(2026, 11, 21, 13, 0, tzinfo=NY), tick=False):  # Saturday afternoon
        call.choose_language("1")
        assert "It opens Monday at 9:00" in call.press("0").text()


# -- the text offered only when it can be sent ------------------------------------------------------

class Sms:
    def __init__(self, fail: bool = False):
        self.fail, self.sent = fail, []

    def send(self, to, from_, body):
        if self.fail:
            raise RuntimeError("the carrier refused it")
        self.sent.append(body)


def search(app, caller: str = "+12075550199"):
    call = Call(app.test_client())
    call.params.caller = caller
    call.choose_language("1")
    call.press("8")
    call.press("1")
    return call, call.press("04101")


def test_no_text_is_offered_when_none_can_be_sent():
    app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN})  # no Twilio account: no texts
    call, results = search(app)
    assert "text message" not in results.text()
    assert call.press("1").says()[0] == "Sorry, that is not an option."


def test_no_text_is_offered_to_a_number_that_cannot_receive_one():
    app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": Sms()})
    _call, results = search(app, caller="anonymous")
    assert "text message" not in results.text()


def test_a_text_that_fails_is_told_and_the_list_read_again():
    app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": Sms(fail=True)})
    call, results = search(app)
    assert "To get this list by text message, press 1." in results.says()
    failed = call.press("1")
    assert failed.says()[0].startswith("Sorry, we could not send the text message.")
    again = call.follow()
    assert again.says()[0] == "Here are the nearest places we know of."


# -- going live -------------------------------------------------------------------------------------

def test_validate_production_speaks_plainly_and_lists_numbers_to_confirm():
    result = CliRunner().invoke(cli, ["validate", "--production", "--root", str(REPO)])
    assert result.exit_code == 1
    assert "Text(" not in result.output and "Where(" not in result.output
    assert "is a placeholder: fill in the real number of the OPTIONS liaison for York County" in result.output
    assert "confirm +18668115695 for 2 1 1 Maine before going live" in result.output


def test_ivr_production_in_the_environment_makes_validate_a_production_check(monkeypatch):
    monkeypatch.setenv("IVR_PRODUCTION", "1")
    result = CliRunner().invoke(cli, ["validate", "--root", str(REPO)])
    assert result.exit_code == 1 and "is a placeholder" in result.output
