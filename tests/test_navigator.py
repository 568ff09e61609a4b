"""The navigator's decisions, asserted on Steps: what a key means, with no TwiML in sight."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import DEMO, REPO
from ivr.flow import load_line
from ivr.kinds import KINDS
from ivr.navigator import Given, Navigator
from ivr.steps import SILENCE_REPEATS, Dial, Goto, Hangup, SendText, Step
from ivr.urls import DIALED, INPUT, NODE, START, UNKNOWN, WHISPER, CallState, UrlReader, dir_state, url

NY = ZoneInfo("America/New_York")
WEDNESDAY_MORNING = datetime(2026, 11, 18, 10, 0, tzinfo=NY)
SATURDAY_NIGHT = datetime(2026, 11, 21, 23, 0, tzinfo=NY)
LINE_NUMBER = "+12075550123"


@pytest.fixture(scope="module")
def demo():
    return Navigator(load_line(DEMO), KINDS, clock=lambda: WEDNESDAY_MORNING)


@pytest.fixture(scope="module")
def maine():
    return Navigator(load_line(REPO), KINDS, clock=lambda: WEDNESDAY_MORNING)


def press(nav: Navigator, node: str, digits: str, lang: str = "en", misses: int = 0) -> Step:
    return nav.navigate(CallState(INPUT, node, lang, misses), Given(digits, line_number=LINE_NUMBER))


def heard(step: Step) -> list[str]:
    return [p.text for p in step.prompts()]


def test_a_call_starts_with_the_welcome_in_both_languages_then_goes_on(demo):
    step = demo.navigate(CallState(START), Given(line_number=LINE_NUMBER))
    assert [p.lang for p in step.prompts()] == ["en", "es"]
    assert heard(step)[0] == "If someone may be overdosing, hang up and call 9 1 1 now."
    assert isinstance(step.then, Goto) and step.then.state == CallState(NODE, "language", "en")


def test_a_menu_key_leads_to_its_node_in_the_callers_language(demo):
    step = press(demo, "main", "2", lang="es")
    assert heard(step)[0] == "Servicios."
    assert step.listen.state == CallState(INPUT, "services", "es")


def test_menu_step_lists_where_each_key_leads(demo):
    step = press(demo, "language", "1")
    leads = {c.key: c.leads_to for c in step.listen.choices}
    assert leads == {"1": "naloxone", "2": "services", "3": "helpline_number", "4": "goodbye",
                     "0": "person", "9": "main", "*": "language"}


def test_a_wrong_key_says_so_and_counts_a_miss(demo):
    step = press(demo, "main", "7")
    assert heard(step)[:2] == ["Sorry, that is not an option.", "Main menu."]
    assert step.listen.state.misses == 1


def test_silence_counts_a_miss_without_apology(demo):
    step = press(demo, "main", "", misses=1)
    assert heard(step)[0] == "Main menu." and step.listen.state.misses == 2


def test_the_last_miss_goes_to_a_person_never_a_hangup(demo):
    step = press(demo, "main", "", misses=2)
    assert isinstance(step.then, Dial) and step.then.number == "+12075550100"


def test_the_keys_that_work_everywhere(demo):
    assert isinstance(press(demo, "services", "0").then, Dial)
    assert heard(press(demo, "services", "9"))[0] == "Services."
    assert heard(press(demo, "services", "*"))[0] == "Main menu."
    # ... while a message plays, too, and any other key skips it.
    assert isinstance(press(demo, "naloxone", "0").then, Dial)
    assert heard(press(demo, "naloxone", "5"))[0] == "Main menu."


def test_a_patient_step_repeats_on_silence_and_never_transfers(maine):
    step = press(maine, "od_check", "", misses=2)
    assert step.listen.silence == SILENCE_REPEATS and step.listen.state.node == "od_check"
    assert step.then is None


def test_choosing_a_language_holds_for_the_call(demo):
    step = press(demo, "language", "2")
    assert step.listen.state.lang == "es" and {p.lang for p in step.prompts()} == {"es"}


def test_a_transfer_dials_with_the_line_number_and_names_the_menu_chosen_from(demo):
    step = press(demo, "main", "0")
    dial = step.then
    assert isinstance(dial, Dial) and dial.caller_id == LINE_NUMBER
    assert dial.done == CallState(DIALED, "person", "en", to="helpline", origin="main")
    assert dial.whisper == CallState(WHISPER, "person", "en", to="helpline", origin="main")


def test_a_closed_destination_is_said_and_the_next_one_dialled():
    nav = Navigator(load_line(DEMO), KINDS, clock=lambda: SATURDAY_NIGHT)
    step = press(nav, "main", "0")
    assert "That line is closed right now." in heard(step)
    assert step.then.destination == "backup"


@pytest.mark.parametrize("status,bridged", [("busy", False), ("no-answer", False), ("completed", False)])
def test_a_failed_leg_moves_down_the_chain(demo, status, bridged):
    step = demo.navigate(CallState(DIALED, "person", "en", to="helpline"), Given(dial_status=status, bridged=bridged))
    assert heard(step)[0] == "No one answered. We are trying another line."
    assert step.then.destination == "backup"


def test_the_end_of_the_chain_reads_the_numbers_twice_then_goodbye(demo):
    step = demo.navigate(CallState(DIALED, "person", "en", to="backup"), Given(dial_status="failed"))
    assert sum("2 0 7, 5 5 5, 0 1 0 1" in t for t in heard(step)) == 2
    assert isinstance(step.then, Hangup)


def test_a_bridged_call_ends_with_goodbye(demo):
    step = demo.navigate(CallState(DIALED, "person", "en", to="helpline"), Given(dial_status="completed", bridged=True))
    assert heard(step) == ["Thank you for calling. Take care."] and isinstance(step.then, Hangup)


def test_unknown_urls_apologise_and_go_home(demo):
    step = demo.navigate(CallState(UNKNOWN, lang="es"), Given())
    assert heard(step)[0].startswith("Lo siento")
    assert step.then == Goto(CallState(NODE, "main", "es"))


# -- the directory's steps ----------------------------------------------------------------------

def zip_step(nav: Navigator, digits: str, misses: int = 0) -> Step:
    return nav.navigate(dir_state("zip", "find_naloxone", "en", misses), Given(digits))


def test_a_zip_code_in_maine_reads_the_nearest_places_and_offers_a_text(maine):
    step = zip_step(maine, "04101")
    assert heard(step)[0] == "Here are the nearest places we know of."
    assert step.listen.state == dir_state("after", "find_naloxone", "en", at="z04101")
    text = maine.navigate(step.listen.state, Given("1"))
    assert isinstance(text.then, SendText) and text.then.body.startswith("The places you asked about:")
    assert heard(text.then.sent) == ["We sent the list by text message."]
    assert heard(text.then.failed)[0].startswith("Sorry, we could not send the text message.")


def test_a_short_zip_code_is_asked_again_once_then_the_county_menu_is_offered(maine):
    again = zip_step(maine, "041")
    assert heard(again)[0] == "A ZIP code has five digits." and again.listen.state.misses == 1
    offer = zip_step(maine, "041", misses=1)
    assert heard(offer)[-1].startswith("To choose your county, press star.")


def test_star_at_the_zip_code_opens_the_county_menu_and_back_climbs_it(maine):
    area = zip_step(maine, "*")
    assert heard(area)[0] == "For York County, press 1."
    district = maine.navigate(area.listen.state, Given("3"))
    assert heard(district)[0] == "For Androscoggin County, press 1." and district.listen.state.path == "3"
    up = maine.navigate(district.listen.state, Given("*"))
    assert up.listen.state.path == ""


# -- the URL scheme ------------------------------------------------------------------------------

def test_urls_round_trip_every_state(maine):
    reader = UrlReader(maine.flow)
    for state in (CallState(NODE, "main", "es"), CallState(INPUT, "od_check", "fr", 2),
                  CallState(DIALED, "crisis", "vi", to="maine_crisis", origin="main"),
                  dir_state("area-key", "find_testing", "ar", 1, path="34"),
                  dir_state("after", "find_naloxone", "pt_BR", at="cKennebec")):
        path, _, query = url(state).partition("?")
        assert reader.read(path[len("/voice/"):], query) == state


@pytest.mark.parametrize("query,field,value", [
    ("lang=xx", "lang", "en"), ("lang=en&m=99999", "misses", 2), ("lang=en&m=-4", "misses", 0),
    ("lang=en&m=two", "misses", 0), ("to=nowhere", "to", ""), ("from=nowhere", "origin", ""),
    ("path=19x0%0A7777", "path", "1977"), ("at=z0410", "at", ""), ("at=c%0Aevil", "at", ""),
])
def test_every_field_of_the_state_is_validated_and_clamped(maine, query, field, value):
    state = UrlReader(maine.flow).read("node/main", query)
    assert getattr(state, field) == value


def test_an_unknown_node_is_an_unknown_step(maine):
    assert UrlReader(maine.flow).read("node/nowhere", "lang=es") == CallState(UNKNOWN, lang="es")
