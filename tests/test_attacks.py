"""The line tried as an attacker and a careless operator would: every finding of the attack review
reproduced, and shown to fail safe."""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import socket
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

import ivr.sms
from conftest import DEMO, REPO, TOKEN, Call
from streams import CountingStream
from ivr import create_app
from ivr.runtime import unsafe_binding
from ivr.security import MAX_BODY
from ivr.settings import Settings, SettingsError
from ivr.simulate import CallParams, signed_post
from ivr.sms import TwilioSms


def twilio_signature(url: str, params: MultiDict) -> str:
    """Twilio's documented rule, written out here rather than taken from the library: the full URL,
    then each parameter name followed by its value, sorted by name (a repeated name once per
    value, sorted), HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(name + value for name in sorted(set(params)) for value in sorted(params.getlist(name)))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


# -- 1, 10: work before the signature, refusals that are never 200 --------------------------------

@pytest.mark.parametrize("signature", ["", "nope", "x" * 500, "bm9wZQ==", "é" * 28])
def test_a_malformed_signature_is_refused_without_reading_the_body(client, signature):
    body = CountingStream(5_000_000)
    response = client.post("/voice", input_stream=body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature, "Content-Length": str(body.size)})
    assert response.status_code == 403 and b"<Response" not in response.data
    assert body.read_bytes == 0


def test_a_body_over_the_cap_is_refused_unread_with_413(client):
    body = CountingStream(300_000_000)
    response = client.post("/voice", input_stream=body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "A" * 27 + "=", "Content-Length": str(body.size)})
    assert response.status_code == 413 and body.read_bytes == 0


def test_a_chunked_body_is_read_no_further_than_the_cap(client):
    body = CountingStream(300_000_000)
    response = client.post("/voice", input_stream=body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "A" * 27 + "="},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.read_bytes <= MAX_BODY + 65536


def test_an_oversized_multipart_body_is_refused_not_answered(client):
    data = {"Digits": "1", "file": (io.BytesIO(b"x" * (MAX_BODY * 4)), "f.txt")}
    response = client.post("/voice/input/main?lang=en", data=data, content_type="multipart/form-data",
                           headers={"X-Twilio-Signature": "A" * 27 + "="})
    assert response.status_code == 413 and b"<Response" not in response.data


def test_a_well_formed_but_wrong_signature_is_403_never_200(client):
    response = client.post("/voice", data={"Digits": "1"}, headers={"X-Twilio-Signature": "A" * 27 + "="})
    assert response.status_code == 403


def test_a_forged_newline_in_the_path_stays_on_one_log_line(client, caplog):
    with caplog.at_level(logging.WARNING):
        client.post("/voice/node/main%0A2026-11-27 INFO all is well", headers={"X-Twilio-Signature": "x"})
    assert all("\n" not in record.getMessage() for record in caplog.records)
    assert "all is well" in caplog.text


def test_repeated_form_fields_are_signed_as_twilio_signs_them(client):
    fields = MultiDict([*CallParams().fields().items(), ("Digits", "2"), ("Note", "b"), ("Note", "a")])
    url = "http://localhost/voice/input/main?lang=en"
    response = client.post(url, data=fields, headers={"X-Twilio-Signature": twilio_signature(url, fields)})
    assert response.status_code == 200 and b"Services." in response.data


# -- 4: settings that fail open --------------------------------------------------------------------

@pytest.mark.parametrize("value", ["False", "no", "off", "0", "false", "OFF"])
def test_a_false_development_mode_keeps_signatures_checked(value):
    app = create_app({"CONTENT_ROOT": str(DEMO)}, environ={"IVR_INSECURE_DEV_MODE": value, "TWILIO_AUTH_TOKEN": TOKEN})
    assert app.test_client().post("/voice").status_code == 403


@pytest.mark.parametrize("variable,value", [("IVR_INSECURE_DEV_MODE", "yes please"), ("IVR_INSECURE_DEV_MODE", " "),
                                            ("IVR_PROXY_FIX", "False-ish"), ("IVR_PRODUCTION", "2"),
                                            ("IVR_RELOAD_SECONDS", "5s"), ("IVR_RELOAD_SECONDS", "-1"),
                                            ("IVR_LINE_NUMBER", "207-555-0123"), ("IVR_PROXYFIX", "1")])
def test_a_setting_that_does_not_parse_stops_start_up_naming_it(variable, value):
    with pytest.raises(SettingsError, match=variable if variable != "IVR_PROXYFIX" else "IVR_PROXYFIX.*IVR_PROXY_FIX"):
        create_app({"CONTENT_ROOT": str(DEMO)}, environ={variable: value, "TWILIO_AUTH_TOKEN": TOKEN})


def test_proxy_fix_false_is_off():
    assert Settings.load({"IVR_PROXY_FIX": "False"}).proxy_fix is False
    assert Settings.load({"IVR_PROXY_FIX": "on"}).proxy_fix is True


def test_development_mode_answers_this_machine_only():
    app = create_app({"CONTENT_ROOT": str(DEMO)}, environ={"IVR_INSECURE_DEV_MODE": "1"})
    client = app.test_client()
    assert client.post("/voice").status_code == 200
    assert client.post("/voice", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    assert unsafe_binding(app, [("0.0.0.0", 5000)]) and not unsafe_binding(app, [("127.0.0.1", 5000)])
    assert not unsafe_binding(create_app({"CONTENT_ROOT": str(DEMO)}, environ={}), [("0.0.0.0", 5000)])


# -- 11: callerId is the line's own number ----------------------------------------------------------

@pytest.mark.parametrize("to", ["sip:line@example.sip.twilio.com", "client:alice", "anonymous", "", "+1207"])
def test_caller_id_is_never_an_unchecked_request_value(demo_root, to):
    app = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN})
    call = Call(app.test_client())
    call.params.called = to
    call.choose_language("1")
    assert call.press("0").find("Dial").get("callerId") is None


def test_caller_id_is_the_configured_line_number(demo_root):
    app = create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN, "LINE_NUMBER": "+12075550177"})
    call = Call(app.test_client())
    call.params.called = "sip:line@example.sip.twilio.com"
    call.choose_language("1")
    assert call.press("0").find("Dial").get("callerId") == "+12075550177"


# -- 12: caches keyed by request data stay bounded --------------------------------------------------

def test_caches_keyed_by_request_values_stay_bounded(app, client):
    reader = app.extensions["ivr"].current.navigator.urls
    for m in range(6000):
        signed_post(client, TOKEN, f"/voice/node/main?lang=en&m={m}", CallParams().fields())
    assert reader._query.cache_info().currsize <= 4096


# -- 9: whatever a request carries, the answer is TwiML that parses ----------------------------------

field_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/voice", "/voice/input/main", "/voice/node/services", "/voice/dialed/person",
                             "/voice/whisper/person", "/voice/whisper-answer", "/voice/input/language"]),
       query=st.dictionaries(st.sampled_from(["lang", "m", "to", "from", "path", "at"]), field_text, max_size=4),
       fields=st.dictionaries(st.sampled_from(["Digits", "To", "From", "Caller", "CallSid", "DialCallStatus",
                                               "DialBridged", "FromCity"]), field_text, max_size=6))
def test_any_unicode_in_any_field_answers_twiml_that_parses(client, path, query, fields):
    url = f"{path}?{urlencode(query)}" if query else path
    response = signed_post(client, TOKEN, url, fields)
    assert response.status_code in (200, 204)
    if response.status_code == 200:
        ET.fromstring(response.data)


# -- 3, 6: text messages --------------------------------------------------------------------------

class RecordingSms:
    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, from_: str, body: str) -> None:
        self.sent.append((to, from_, body))


def text_the_list(app, caller: str = "+12075550199", call_sid: str = "CA1", presses: int = 1) -> Call:
    call = Call(app.test_client())
    call.params.caller, call.params.call_sid = caller, call_sid
    call.choose_language("1")
    call.press("8")
    call.press("1")
    results = call.press("04101")
    for _ in range(presses):
        call.last = results
        call.press("1")
    return call


@pytest.fixture
def texting():
    sms = RecordingSms()
    return sms, create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": sms,
                            "LINE_NUMBER": "+12075550123"})


@pytest.mark.parametrize("caller", ["anonymous", "restricted", "sip:caller@example.com", "client:alice",
                                    "+266696687", "+442071838750", "+18005550199", "266696687", ""])
def test_texts_go_only_to_numbers_of_the_lines_country_that_can_receive_them(texting, caller):
    sms, app = texting
    call = text_the_list(app, caller=caller)
    assert sms.sent == []
    assert "text message" not in call.last.text()  # never offered to them
    assert call.last.says()[0] == "Sorry, that is not an option."


def test_one_text_per_list_and_a_few_per_call_even_when_a_request_is_replayed(texting):
    sms, app = texting
    text_the_list(app, presses=5)
    assert len(sms.sent) == 1
    for other in ("04401", "04330", "04240", "04901", "04011"):
        call = Call(app.test_client())
        call.params.call_sid = "CA1"
        call.choose_language("1")
        call.press("8")
        call.press("1")
        call.press(other)
        call.press("1")
    assert len(sms.sent) == 3  # the cap per call


class HungApi:
    """A server that accepts connections and never answers: Twilio's API, hanging."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def __exit__(self, *exc):
        self.sock.close()
        for held in self.held:
            held.close()


def test_a_hung_text_api_never_holds_the_caller_long_nor_gives_an_error(monkeypatch):
    monkeypatch.setattr(ivr.sms, "SEND_DEADLINE", 1.5)
    with HungApi() as base_url:
        app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "LINE_NUMBER": "+12075550123",
                          "SMS_SENDER": TwilioSms("ACtest", "token", base_url=base_url)})
        started = time.monotonic()
        call = text_the_list(app)
        waited = time.monotonic() - started
    assert "could not send the text message" in call.last.text()
    assert waited < 10, f"the caller waited {waited:.1f} s"


def test_a_flood_of_forged_requests_does_not_flood_the_log(client, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(100):
            assert client.post("/voice", headers={"X-Twilio-Signature": "forged"}).status_code == 403
    refusals = [r for r in caplog.records if "rejected a /voice request" in r.getMessage()]
    assert len(refusals) == 1  # one line a minute at most; the next one says how many were quiet
