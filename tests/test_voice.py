"""Calls walked through the webhooks with signed requests, as a caller would live them."""
from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TOKEN, Call
from ivr import create_app
from ivr.simulate import SIMULATED_CALLER


def test_call_opens_with_911_in_both_languages_then_language_menu(call):
    first = call.start()
    assert first.says()[0].startswith("If someone may be overdosing, hang up and call 9 1 1")
    assert "9 1 1" in first.says()[1] and first.voices() == {("en-US", "Polly.Joanna-Neural"),
                                                            ("es-US", "Polly.Lupe-Neural")}
    menu = call.follow()
    gather = menu.gather()
    assert gather.get("numDigits") == "1" and gather.get("actionOnEmptyResult") == "true"
    # Each language is offered in itself, in its own voice.
    offers = [(s.text, s.get("voice")) for s in gather.iter("Say")]
    assert offers == [("For English, press 1.", "Polly.Joanna-Neural"),
                      ("Para español, oprima 2.", "Polly.Lupe-Neural"),
                      # the person key, announced in every language before one is chosen
                      ("To talk with a person, press 0.", "Polly.Joanna-Neural"),
                      ("Para hablar con una persona, oprima 0.", "Polly.Lupe-Neural")]


def test_a_wrong_key_at_the_language_menu_is_answered_in_every_language(call):
    call.start()
    call.follow()
    wrong = call.press("7")
    assert wrong.says()[:2] == ["Sorry, that is not an option.", "Lo siento, esa no es una opción."]
    assert wrong.gather().get("action").startswith("/voice/input/language")


@pytest.mark.parametrize("key", ["9", "*"])
def test_repeat_and_back_are_not_offered_at_the_language_menu_and_do_nothing_there(call, key):
    call.start()
    menu = call.follow()
    assert not any("press 9" in t or "star" in t for t in menu.says())
    assert call.press(key).says()[0] == "Sorry, that is not an option."


def test_chosen_language_holds_for_the_rest_of_the_call(call):
    main = call.choose_language("2")
    assert main.says()[0] == "Menú principal."
    assert main.voices() == {("es-US", "Polly.Lupe-Neural")}
    naloxone = call.press("1")
    assert "La naloxona revierte una sobredosis de opioides." in naloxone.says()
    back_in_main = call.follow()
    assert back_in_main.says()[0] == "Menú principal."
    assert back_in_main.voices() == {("es-US", "Polly.Lupe-Neural")}


def test_menu_announces_the_keys_that_work_everywhere(call):
    main = call.choose_language("1")
    assert main.says()[-3:] == ["To talk with a person, press 0.", "To hear this again, press 9.",
                                "To go back, press star."]


def test_moving_through_menus_and_numbers_read_digit_by_digit(call):
    call.choose_language("1")
    services = call.press("2")
    assert services.says()[0] == "Services."
    testing = call.press("1")
    assert testing.says()[0] == "Free testing is available. Call the helpline at 2 0 7, 5 5 5, 0 1 0 0."


def test_wrong_key_says_so_and_repeats_the_menu(call):
    call.choose_language("1")
    wrong = call.press("7")
    assert wrong.says()[0] == "Sorry, that is not an option."
    assert wrong.says()[1] == "Main menu."
    assert wrong.gather() is not None


def test_three_silences_pass_the_caller_to_a_person_never_a_hangup(call):
    call.choose_language("1")
    first = call.silence()
    assert first.says()[0] == "Main menu." and first.find("Dial") is None
    second = call.silence()
    assert second.says()[0] == "Main menu." and second.find("Dial") is None
    third = call.silence()
    assert third.find("Hangup") is None
    assert third.find("Dial/Number").text == "+12075550100"
    assert "Connecting you with a person" in third.text()


def test_misses_count_wrong_keys_and_silence_together(call):
    call.choose_language("1")
    call.press("8")
    call.silence()
    assert call.press("7").find("Dial/Number") is not None


def test_a_good_key_resets_the_miss_count(call):
    call.choose_language("1")
    call.silence()
    call.silence()
    call.press("2")  # services
    assert call.silence().says()[0] == "Services."
    assert call.silence().says()[0] == "Services."


def test_repeat_key_repeats_the_menu(call):
    call.choose_language("1")
    call.press("2")
    again = call.press("9")
    assert again.says()[0] == "Services."


def test_back_key_goes_up_one_menu(call):
    call.choose_language("1")
    call.press("2")
    call.press("1")  # testing message, whose menu above is services
    assert call.press("*").says()[0] == "Services."
    assert call.press("*").says()[0] == "Main menu."


def test_person_key_works_in_every_menu_and_during_messages(call):
    call.choose_language("2")
    call.press("2")
    assert call.press("0").find("Dial/Number").text == "+12075550100"
    call.choose_language("1")
    call.press("1")  # a message: keys are listened for while it plays
    assert call.press("0").find("Dial/Number").text == "+12075550100"


def test_person_key_works_before_a_language_is_chosen(call):
    call.start()
    assert call.follow().gather() is not None
    person = call.press("0")
    assert person.find("Dial/Number").text == "+12075550100"


def test_failed_transfer_walks_the_chain_then_reads_numbers_and_says_goodbye(call):
    call.choose_language("1")
    call.press("0")
    second = call.dial_ends("busy")
    assert second.find("Dial/Number").text == "+12075550101"
    end = call.dial_ends("no-answer")
    text = end.text()
    assert end.find("Dial") is None and end.find("Hangup") is not None
    assert text.count("2 0 7, 5 5 5, 0 1 0 0") == 2 and text.count("2 0 7, 5 5 5, 0 1 0 1") == 2
    assert end.says()[-1] == "Thank you for calling. Take care."


def test_connected_transfer_ends_with_goodbye(call):
    call.choose_language("1")
    call.press("0")
    end = call.dial_ends("completed", bridged=True)
    assert end.find("Hangup") is not None and end.find("Dial") is None


def test_goodbye_option_hangs_up_politely(call):
    call.choose_language("1")
    bye = call.press("4")
    assert bye.says() == ["Thank you for calling. Take care."] and bye.find("Hangup") is not None


# -- security -------------------------------------------------------------------------------

def test_unsigned_request_is_refused(client):
    assert client.post("/voice", data={"CallSid": "CA1"}).status_code == 403


def test_wrongly_signed_request_is_refused(client):
    call = Call(client, token="not-the-token")
    response = client.post("/voice", data={"CallSid": "CA1"}, headers={"X-Twilio-Signature": "bm9wZQ=="})
    assert response.status_code == 403
    with pytest.raises(AssertionError):
        call.start()


def test_signature_covers_the_form_fields(client):
    from ivr.simulate import signed_post
    from twilio.request_validator import RequestValidator
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/voice", {"Digits": "1"})
    tampered = client.post("/voice", data={"Digits": "2"}, headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403
    assert signed_post(client, TOKEN, "/voice", {"Digits": "1"}).status_code == 200


def test_get_requests_are_signed_over_the_url(client):
    from twilio.request_validator import RequestValidator
    url = "http://localhost/voice/node/main?lang=en"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    assert client.get(url, headers={"X-Twilio-Signature": signature}).status_code == 200
    assert client.get(url).status_code == 403


def test_no_token_refuses_calls(demo_root, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    client = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": ""}).test_client()
    assert client.post("/voice", data={"CallSid": "CA1"}).status_code == 403
    assert client.get("/healthz").status_code == 200


def test_development_mode_serves_unsigned_and_warns_every_time(demo_root, caplog):
    with caplog.at_level(logging.WARNING):
        client = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": "",
                             "INSECURE_DEV_MODE": True}).test_client()
        assert "INSECURE DEVELOPMENT MODE" in caplog.text
        caplog.clear()
        assert client.post("/voice").status_code == 200
        assert "INSECURE DEVELOPMENT MODE" in caplog.text


def test_proxy_fix_lets_signatures_match_the_public_https_url(demo_root):
    from twilio.request_validator import RequestValidator
    app = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN, "PROXY_FIX": True})
    public = "https://line.example.org/voice"
    signature = RequestValidator(TOKEN).compute_signature(public, {"CallSid": "CA1"})
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "line.example.org"}
    assert app.test_client().post("/voice", data={"CallSid": "CA1"}, headers=headers).status_code == 200
    plain = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN})
    assert plain.test_client().post("/voice", data={"CallSid": "CA1"}, headers=headers).status_code == 403


@pytest.mark.parametrize("path", ["/voice/node/caf%C3%A9?lang=es", "/voice/node/a%2Cb?to=a%2cb&lang=en",
                                  "/voice/node/main?lang=en&x=%7E"])
def test_a_signature_over_the_url_exactly_as_twilio_sent_it_is_accepted(client, path):
    # Werkzeug's request.url re-quotes these (".../café", "a,b", "~"): Twilio signs what it sent.
    from twilio.request_validator import RequestValidator
    fields = {"CallSid": "CA1"}
    as_sent = RequestValidator(TOKEN).compute_signature(f"http://localhost{path}", fields)
    assert client.post(path, data=fields, headers={"X-Twilio-Signature": as_sent}).status_code == 200
    elsewhere = RequestValidator(TOKEN).compute_signature("http://localhost/voice/node/main?lang=en", fields)
    assert client.post(path, data=fields, headers={"X-Twilio-Signature": elsewhere}).status_code == 403
    forged_host = {"X-Twilio-Signature": as_sent, "Host": "attacker.example"}
    assert client.post(path, data=fields, headers=forged_host).status_code == 403


def test_healthz_needs_no_signature(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


# -- never an application error ---------------------------------------------------------------

def test_unknown_node_apologises_and_returns_to_a_menu(call):
    answer = call.post("/voice/node/no-such-node?lang=es")
    assert answer.says() == ["Lo siento, algo salió mal. Intentémoslo de nuevo."]
    assert call.follow().says()[0] == "Menú principal."


def test_unknown_language_falls_back_to_the_default(call):
    answer = call.post("/voice/node/main?lang=xx")
    assert answer.says()[0] == "Main menu."


def test_unknown_url_under_voice_still_answers_twiml(call):
    assert call.post("/voice/nothing/here").says()[0].startswith("Sorry, something went wrong")


@pytest.mark.parametrize("path", ["/voice/node//0?lang=en", "/voice/node/%2F0?lang=en", "/voice//node/main"])
def test_doubled_slashes_answer_twiml_not_a_redirect(call, path):
    # Found by the property test below: Werkzeug would answer these with a 308.
    assert call.post(path).says()[0].startswith("Sorry, something went wrong")


def test_exception_inside_the_app_still_answers_and_logs_no_caller_number(app, call, monkeypatch, caplog):
    navigator = app.extensions["ivr"].current.navigator

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(navigator, "answer", broken)
    with caplog.at_level(logging.INFO):
        call.choose_language("1")
        answer = call.last
    assert answer.says()[0].startswith("Sorry, something went wrong")
    assert call.follow().says()[0] == "Main menu."
    assert "boom" in caplog.text and SIMULATED_CALLER not in caplog.text
    assert SIMULATED_CALLER.lstrip("+") not in caplog.text


def test_when_even_the_apology_fails_the_caller_goes_to_a_person(app, call, monkeypatch):
    navigator = app.extensions["ivr"].current.navigator

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(navigator, "answer", broken)
    monkeypatch.setattr(navigator, "apology", broken)
    call.start()
    call.follow()
    answer = call.press("1")
    assert answer.find("Dial/Number").text == "+12075550100"


keys = st.text(alphabet="0123456789*#abc- ", max_size=4)
node_ids = st.one_of(st.sampled_from(["welcome", "language", "main", "services", "testing", "person",
                                      "goodbye", "naloxone"]), st.text(max_size=12))
langs = st.one_of(st.sampled_from(["en", "es"]), st.text(max_size=5))
kinds = st.sampled_from(["node", "input", "dialed", "nothing"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=kinds, node=node_ids, lang=langs, digits=keys,
       misses=st.one_of(st.integers(-5, 50).map(str), st.text(max_size=3)),
       status=st.sampled_from(["completed", "busy", "no-answer", "failed", "canceled", "", "weird"]))
def test_any_signed_request_gets_200_and_twiml(client, kind, node, lang, digits, misses, status):
    from urllib.parse import quote, urlencode
    url = f"/voice/{kind}/{quote(node, safe='')}?" + urlencode({"lang": lang, "m": misses, "to": node})
    call = Call(client)
    answer = call.post(url, Digits=digits, DialCallStatus=status)
    assert answer.root.tag == "Response"
    assert answer.says() or answer.find("Dial") is not None or answer.find("Redirect") is not None


def test_signature_over_the_url_with_its_default_port_is_accepted(client):
    # Twilio has signed URLs both with and without the port; both must keep working.
    from twilio.request_validator import RequestValidator
    signature = RequestValidator(TOKEN).compute_signature("http://localhost:80/voice", {"CallSid": "CA1"})
    response = client.post("/voice", data={"CallSid": "CA1"}, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    forged = RequestValidator("another-token").compute_signature("http://localhost:80/voice", {"CallSid": "CA1"})
    assert client.post("/voice", data={"CallSid": "CA1"},
                       headers={"X-Twilio-Signature": forged}).status_code == 403
