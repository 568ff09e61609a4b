"""Finding services near the caller: ZIP code or county, the three nearest, a text by consent."""
from __future__ import annotations

import functools
import logging
import math
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import REPO, TOKEN, Call, maine_copy
from hsds_fixture import KINDS, write_hsds
from ivr import create_app
from ivr.directory import Directory, Phone, Place, load_directory
from ivr.directory_geo import Grid, km
from ivr.flow import check
from ivr.simulate import SIMULATED_CALLER, signed_post

LINE_NUMBER = "+12075550123"
NALOXONE_MENU = "Naloxone, also called Narcan, can reverse an opioid overdose, including from fentanyl."
PRIVATE = ("overdos", "drug", "naloxone", "narcan", "syringe")


class FakeSms:
    def __init__(self, fail: bool = False):
        self.sent: list[tuple[str, str, str]] = []
        self.fail = fail

    def send(self, to: str, from_: str, body: str) -> None:
        if self.fail:
            raise RuntimeError(f"Twilio said: the number {to} cannot receive texts")
        self.sent.append((to, from_, body))


@pytest.fixture
def sms():
    return FakeSms()


def maine_call(sms, **config) -> Call:
    app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": sms, **config})
    return Call(app.test_client())


def to_naloxone_search(call: Call):
    call.choose_language("1")
    call.press("8")  # find services near you
    prompt = call.press("1")  # naloxone
    gather = prompt.gather()
    assert gather.get("numDigits") == "5" and gather.get("actionOnEmptyResult") == "true"
    assert "Enter your five-digit ZIP code. Or press star to choose your county." in prompt.says()
    return prompt


def test_naloxone_search_is_reachable_from_the_naloxone_safer_use_and_treatment_menus(sms):
    call = maine_call(sms)
    for menu_key, option in (("2", "1"), ("3", "6"), ("3", "7"), ("4", "5"), ("4", "6")):
        call.choose_language("1")
        call.press(menu_key)
        assert call.press(option).gather().get("numDigits") == "5", (menu_key, option)


def test_zip_in_maine_reads_the_three_nearest_with_their_hours_and_digits(sms):
    call = maine_call(sms)
    to_naloxone_search(call)
    results = call.press("04101")  # Portland
    says = results.says()
    assert says[0] == "Here are the nearest places we know of."
    assert says[1:5] == ["OPTIONS liaison for Cumberland County", "Cumberland County", "Open now, until 4:30\u202fPM.",
                         "2 0 7, 5 5 5, 0 1 0 1"]
    assert len([s for s in says if s.startswith("OPTIONS liaison")]) == 3
    assert says[-2:] == ["To get this list by text message, press 1.",
                         "To hear it again, press 9. To go back, press star."]
    assert results.voices() == {("en-US", "Polly.Joanna-Neural")}
    assert sms.sent == []  # nothing is sent without the keypress


def test_closed_today_on_a_weekend(sms, office_hours):
    office_hours.move_to("2026-11-21 10:00:00-05:00")  # a Saturday
    call = maine_call(sms)
    to_naloxone_search(call)
    assert "Closed now. It opens Monday at 8:00\u202fAM." in call.press("04101").says()


def test_results_in_the_callers_language(sms):
    call = maine_call(sms)
    call.choose_language("2")
    call.press("8")
    call.press("1")
    results = call.press("04101")
    assert results.voices() == {("es-US", "Polly.Lupe-Neural")}
    assert "OPTIONS liaison for Cumberland County" in results.says()


@pytest.mark.parametrize("digits, said", [
    ("03301", "That ZIP code is outside Maine."),       # Concord, New Hampshire
    ("00000", "Sorry, we do not know that ZIP code."),
    ("041", "A ZIP code has five digits."),
])
def test_bad_zip_says_why_asks_once_more_then_offers_county_or_211(sms, digits, said):
    call = maine_call(sms)
    to_naloxone_search(call)
    again = call.press(digits)
    assert again.says()[0] == said and again.gather().get("numDigits") == "5"
    offer = call.press(digits)
    assert offer.says() == [said, "To choose your county, press star. To talk with a person at 2 1 1 Maine, press 0."]
    assert offer.gather().get("numDigits") == "1"
    assert call.press("0").find("Dial/Number").text == "+18668115695"


def test_silence_at_the_zip_prompt_never_hangs_up(sms):
    call = maine_call(sms)
    to_naloxone_search(call)
    again = call.silence()
    assert again.gather().get("numDigits") == "5"
    offer = call.silence()
    assert offer.gather().get("numDigits") == "1"
    person = call.silence()
    assert person.find("Dial/Number").text == "+18668115695" and person.find("Hangup") is None


def test_county_path_district_then_county(sms):
    call = maine_call(sms)
    to_naloxone_search(call)
    districts = call.press("*")
    assert districts.says()[0] == "For York County, press 1."
    western = call.press("3")
    assert western.says()[0] == "For Androscoggin County, press 1."
    results = call.press("3")  # Oxford County
    assert results.says()[1] == "OPTIONS liaison for Oxford County"
    call.press("*")  # back from the results: the menu the caller came from (services near you, key 8)
    assert call.last.says()[0] == "Services near you, and other ways to get help."


def test_back_and_silence_after_a_list_lead_to_the_menu_the_caller_came_from(sms):
    """The search is offered from several menus; the caller goes back to theirs, not the first one."""
    for menu_key, option, menu in (("2", "1", NALOXONE_MENU), ("8", "1", "Services near you, and other ways to get help.")):
        for after_list in ("*", ""):
            call = maine_call(sms)
            call.choose_language("1")
            call.press(menu_key)
            call.press(option)
            call.press("04101")
            answer = call.press("*") if after_list else call.silence()
            assert answer.says()[0] == menu, (menu_key, after_list)


def test_county_menu_back_repeat_and_wrong_key(sms):
    call = maine_call(sms)
    to_naloxone_search(call)
    call.press("*")
    call.press("4")  # Midcoast
    assert call.press("9").says()[0] == "For Waldo County, press 1."
    assert call.press("*").says()[0] == "For York County, press 1."
    wrong = call.press("9" if False else "#")
    assert wrong.says()[0] == "Sorry, that is not an option."
    assert call.press("*").gather().get("numDigits") == "5"  # back to the ZIP prompt


def test_a_kind_with_no_listing_says_so_and_offers_a_person(sms):
    call = maine_call(sms)
    call.choose_language("1")
    call.press("8")
    call.press("2")  # syringe service programs: the sample lists none
    none = call.press("04101")
    assert none.says()[0].startswith("We have no listing of that kind near you.")
    assert call.press("0").find("Dial/Number").text == "+18668115695"


def test_text_by_consent_sends_once_from_the_line_with_a_neutral_first_line(sms):
    call = maine_call(sms)
    to_naloxone_search(call)
    call.press("04101")
    sent = call.press("1")
    assert sent.says() == ["We sent the list by text message."]
    assert sent.find("Redirect").text.startswith("/voice/node/find_services")  # back where the caller came from
    [(to, from_, body)] = sms.sent
    assert to == SIMULATED_CALLER and from_ == LINE_NUMBER
    first_line, *rest = body.splitlines()
    assert first_line == "The places you asked about:"
    assert not any(word in first_line.lower() for word in PRIVATE)
    assert rest[0] == "OPTIONS liaison for Cumberland County, Cumberland County: (207) 555-0101"
    assert len(rest) == 3


def test_text_declined_sends_nothing(sms):
    call = maine_call(sms)
    to_naloxone_search(call)
    call.press("04101")
    assert call.press("*").says()[0] == "Services near you, and other ways to get help."  # where the caller came from
    call.press("1")
    call.press("04101")
    call.silence()
    assert sms.sent == []


def test_text_that_fails_is_told_and_the_call_goes_on(caplog):
    failing = FakeSms(fail=True)
    call = maine_call(failing)
    to_naloxone_search(call)
    call.press("04101")
    with caplog.at_level(logging.DEBUG):
        told = call.press("1")
    assert told.says()[0].startswith("Sorry, we could not send the text message.")
    assert call.follow().says()[0] == "Here are the nearest places we know of."  # the list again
    assert SIMULATED_CALLER not in caplog.text and "2075550199" not in caplog.text


def test_a_whole_call_with_a_text_leaves_the_callers_number_nowhere(sms, tmp_path, caplog):
    transfer_log = tmp_path / "transfers.jsonl"
    root = maine_copy(tmp_path)
    started = time.time()
    with caplog.at_level(logging.DEBUG):
        call = maine_call(sms, TRANSFER_LOG=str(transfer_log), CONTENT_ROOT=str(root))
        to_naloxone_search(call)
        call.press("04101")
        call.press("1")
        call.follow()
        call.press("0")  # and a transfer, with its status callback
        number = call.last.find("Dial/Number")
        status = signed_post(call.client, TOKEN, number.get("statusCallback"),
                             {**call.params.fields(), "CallStatus": "completed", "CallDuration": "42"})
        assert status.status_code == 204
        call.dial_ends("completed", bridged=True)
    assert sms.sent and sms.sent[0][0] == SIMULATED_CALLER  # it was used, for the one send
    needles = (SIMULATED_CALLER, SIMULATED_CALLER.lstrip("+"), "2075550199", "(207) 555-0199")
    records = [r.getMessage() + str(r.args) for r in caplog.records]
    assert records and not [r for r in records if any(n in r for n in needles)]
    # Everything the line could write lives under tmp_path: its content root and its transfer log.
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_mtime >= started]
    assert transfer_log in written
    for path in written:
        text = path.read_bytes()
        assert not any(n.encode() in text for n in needles), path


# -- the index ------------------------------------------------------------------------------

points = st.tuples(st.floats(42.0, 48.0), st.floats(-72.0, -66.0))


def place(i: int, lat: float, lon: float, codes=("k",)) -> Place:
    return Place(str(i), f"p{i}", "", lat, lon, "", (Phone("+12075550100"),), frozenset(codes), None)


@settings(max_examples=80, deadline=None)
@given(places=st.lists(points, min_size=0, max_size=60), here=points, count=st.integers(1, 5))
@example(places=[(42.0, -67.0), (42.0, -68.0), (42.0, -68.0), (42.0, -68.0), (43.0, -68.0), (47.0, -68.0)],
         here=(44.0, -71.0), count=5)  # the caller far from all: the farthest kept must be the farthest
def test_grid_lookup_equals_brute_force(places, here, count):
    built = [place(i, lat, lon) for i, (lat, lon) in enumerate(places)]
    got = [round(km, 6) for _, km in Grid(built).nearest(*here, count)]
    expected = sorted(round(km(*here, p.lat, p.lon), 6) for p in built)[:count]
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(places=st.lists(st.tuples(st.floats(44.0, 44.3), st.floats(-69.3, -69.0)), min_size=30, max_size=300),
       here=st.one_of(points, st.tuples(st.floats(44.0, 44.3), st.floats(-69.3, -69.0))), count=st.integers(1, 5))
def test_a_dense_grid_with_small_cells_equals_brute_force(places, here, count):
    built = [place(i, lat, lon) for i, (lat, lon) in enumerate(places)]
    grid = Grid(built)
    assert grid.side < 0.25 or len(places) < 50
    got = [round(d, 6) for _, d in grid.nearest(*here, count)]
    assert got == sorted(round(km(*here, p.lat, p.lon), 6) for p in built)[:count]


@settings(max_examples=60, deadline=None)
@given(places=st.lists(st.tuples(points, st.sets(st.sampled_from("abc"), min_size=1)), max_size=40),
       here=points, wanted=st.sets(st.sampled_from("abcd"), min_size=1), count=st.integers(1, 4))
def test_a_search_for_several_codes_is_the_nearest_of_their_union(places, here, wanted, count):
    built = [place(i, lat, lon, codes) for i, ((lat, lon), codes) in enumerate(places)]
    directory = Directory("ME", tuple(built), False, frozenset("abc"), {}, {})
    got = [round(d, 6) for _, d in directory.nearest(sorted(wanted), *here, count)]
    expected = sorted(round(km(*here, p.lat, p.lon), 6) for p in built if p.codes & wanted)[:count]
    assert got == expected


def test_distance_is_great_circle():
    assert math.isclose(km(43.6606, -70.2589, 44.8012, -68.7778), 171.5, rel_tol=0.01)  # Portland-Bangor


def test_production_refuses_the_sample_directory():
    line, problems = check(REPO, production=True)
    assert any("shipped sample directory" in p.message for p in problems)


def test_kinds_are_taken_from_taxonomy_codes(tmp_path):
    directory, problems = load_directory(write_hsds(tmp_path / "export", 25), "ME")
    assert problems == [] and directory.kinds == frozenset(KINDS)
    assert all(len(directory.near_zip(kind, "04101")) == 3 for kind in KINDS)


@functools.lru_cache(maxsize=1)
def shared_maine_app():
    """One app for the property test's many examples (each signed request is independent)."""
    return create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": FakeSms()})


@settings(max_examples=120, deadline=None)
@given(node=st.sampled_from(["find_naloxone", "find_testing", "main", "nope", ""]),
       step=st.sampled_from(["zip", "offer", "area", "area-key", "results", "after", "other"]),
       digits=st.text(alphabet="0123456789*#x", max_size=7),
       path=st.text(alphabet="0123456789a", max_size=5),
       at=st.one_of(st.sampled_from(["z04101", "z03301", "cYork", "cNowhere", "z", ""]), st.text(max_size=6)),
       lang=st.sampled_from(["en", "ar", "xx"]))
def test_any_signed_directory_step_gets_twiml(node, step, digits, path, at, lang):
    from urllib.parse import urlencode
    call = Call(shared_maine_app().test_client())
    url = f"/voice/dir/{node}/{step}?" + urlencode({"lang": lang, "path": path, "at": at, "m": "1"})
    answer = call.post(url, Digits=digits)
    assert answer.root.tag == "Response"
    assert answer.says() or answer.find("Dial") is not None or answer.find("Redirect") is not None
