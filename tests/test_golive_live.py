"""The line as deployed: gunicorn on loopback behind nginx rendered from deploy/nginx.conf, with a
throw-away certificate. `ivr check` and `ivr twilio connect` are run against it (Twilio's REST
API faked at the twilio library's HTTP client), the access log is read, and one call is walked
across two app processes. nginx and openssl come from Debian (`make test` installs them)."""
from __future__ import annotations

import json
import re
import sys
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator

from conftest import DEMO, REPO, TOKEN
from ivr.cli import main
from ivr.golive import connect
from ivr.golive.check import LiveLine
from ivr.simulate import CallParams
from test_privacy import CALLER_FIELDS, NEEDLES

sys.path.insert(0, str(REPO / "bench"))
from front import nginx  # noqa: E402
from serve import gunicorn  # noqa: E402

ACCOUNT = "AC" + "1" * 32
LINE_NUMBER = "+12075550123"


@pytest.fixture(autouse=True)
def office_hours():
    """The real clock here: certificates are dated by it, and the servers run on it anyway."""
    yield


@pytest.fixture(scope="module")
def app_port():
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO), "IVR_PROXY_FIX": "1"}
    with gunicorn("app:app", env) as (_proc, port):
        yield port


@pytest.fixture(scope="module")
def front(app_port, tmp_path_factory):
    with nginx([app_port], tmp_path_factory.mktemp("front")) as running:
        yield running


@pytest.fixture
def env(monkeypatch, front):
    """The operator's shell: the line's token, and the throw-away certificate trusted."""
    for name in ("IVR_PUBLIC_URL", "IVR_LINE_NUMBER", "TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SSL_CERT_FILE", str(front.certificate))
    return monkeypatch


def ivr(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


# -- ivr check ------------------------------------------------------------------------------------
def test_check_walks_a_call_through_the_deployed_line(env, front):
    result = ivr("check", front.url)
    lines = result.stdout.splitlines()
    assert result.exit_code == 0, result.output
    assert re.match(r"OK       TLS: certificate valid, TLSv1\.[23], expires \S+: (29|30) days left$", lines[0])
    assert lines[1].startswith("OK       health: Maine Harm Reduction Line")
    assert lines[2].startswith("OK       unsigned request: refused with 403")
    assert lines[3].startswith("OK       start 'welcome': 2 prompts (en-US, es-US)")
    assert lines[4].startswith("OK       language menu")
    assert lines[5].startswith("OK       menu 'main' (key 1)")
    assert lines[6].startswith("OK       transfer to a person (key 0): dials +18668115695 in ")
    assert lines[-1] == f"{front.url}: OK"


def test_check_is_critical_when_signed_requests_are_refused(env, front):
    env.setenv("TWILIO_AUTH_TOKEN", "not-the-line's-token")
    result = ivr("check", front.url)
    assert result.exit_code == 2
    assert "CRITICAL call: /voice refused the signed request (403)" in result.stdout
    assert result.stdout.splitlines()[-1] == f"{front.url}: CRITICAL"


def test_check_is_critical_for_an_untrusted_certificate(env, front):
    env.delenv("SSL_CERT_FILE")
    result = ivr("check", front.url)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == ["CRITICAL TLS: the certificate is not valid: self-signed certificate",
                                          f"{front.url}: CRITICAL"]


def test_check_warns_of_a_certificate_about_to_expire(env, app_port, tmp_path):
    with nginx([app_port], tmp_path / "front", days=5) as expiring:
        env.setenv("SSL_CERT_FILE", str(expiring.certificate))
        result = ivr("check", expiring.url)
    assert result.exit_code == 1, result.output
    assert re.search(r"WARNING  TLS: certificate valid, .*: [45] days left \(is certbot's renewal failing\?\)",
                     result.stdout)


def test_the_front_servers_log_holds_no_caller_field(front):
    """Twilio's fields in the query (the number's webhooks set to GET), through nginx."""
    context = front.ssl_context()
    for path in ("/voice", "/voice/dir/find_naloxone/after?lang=en&at=z04330"):
        url = f"{front.url}{path}{'&' if '?' in path else '?'}" + urlencode({**CALLER_FIELDS, "Digits": "04330"})
        signature = RequestValidator(TOKEN).compute_signature(url, {})
        request = urllib.request.Request(url, headers={"X-Twilio-Signature": signature})
        with urllib.request.urlopen(request, context=context) as answer:
            assert answer.status == 200 and ET.fromstring(answer.read()).tag == "Response"
    logged = (front.logs / "ivr.access.log").read_text()
    assert "GET /voice/dir/find_naloxone/after HTTP/1.1" in logged
    assert not [needle for needle in NEEDLES if needle in logged]


# -- ivr twilio connect ---------------------------------------------------------------------------
class FakeTwilioApi(HttpClient):
    """Twilio's REST API for one account's numbers, at the twilio library's HTTP client: it
    records every request and answers as the API does (JSON, snake_case fields, 401, 404)."""

    def __init__(self, numbers: list[dict]):
        super().__init__(logger=None, is_async=False)
        self.numbers = {n["sid"]: {"account_sid": ACCOUNT, "voice_application_sid": None,
                                   "voice_fallback_url": None, "voice_fallback_method": "POST",
                                   "status_callback": None, "status_callback_method": "POST", **n}
                        for n in numbers}
        self.requests: list[tuple[str, str, dict, dict]] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append((method, uri, dict(params or {}), dict(data or {})))
        if auth != (ACCOUNT, TOKEN):
            return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        base = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers"
        if method == "GET" and uri == base + ".json":
            found = [n for n in self.numbers.values() if n["phone_number"] == (params or {}).get("PhoneNumber")]
            return self.answer(200, {"incoming_phone_numbers": found, "first_page_uri": uri, "next_page_uri": None,
                                     "previous_page_uri": None, "page": 0, "page_size": 50, "start": 0, "end": 0,
                                     "uri": uri})
        sid = uri.removeprefix(base + "/").removesuffix(".json")
        if method == "POST" and sid in self.numbers:
            # The API takes CamelCase form fields and answers with snake_case JSON.
            self.numbers[sid].update({re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): v for k, v in data.items()})
            return self.answer(200, self.numbers[sid])
        return self.answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})

    @staticmethod
    def answer(status: int, body: dict) -> TwilioResponse:
        return TwilioResponse(status, json.dumps(body))

    def changes(self) -> list[dict]:
        return [data for method, _uri, _params, data in self.requests if method == "POST"]


@pytest.fixture
def api(env, monkeypatch) -> FakeTwilioApi:
    fake = FakeTwilioApi([{"sid": "PN" + "2" * 32, "phone_number": LINE_NUMBER,
                           "voice_url": "https://demo.twilio.com/welcome/voice/", "voice_method": "GET"}])
    monkeypatch.setattr(connect, "http_client", fake)
    env.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    env.setenv("IVR_LINE_NUMBER", LINE_NUMBER)
    return fake


FALLBACK = "https://handler.twilio.com/twiml/EH" + "3" * 32


def test_connect_sets_the_voice_url_status_callback_and_fallback(api, front):
    result = ivr("twilio", "connect", "--url", front.url, "--fallback-url", FALLBACK, "--yes")
    assert result.exit_code == 0, result.output
    assert "answers a signed test call with this line's TwiML" in result.stdout
    assert f"voice URL: https://demo.twilio.com/welcome/voice/ -> {front.url}/voice" in result.stdout
    assert api.changes() == [{"VoiceUrl": f"{front.url}/voice", "VoiceMethod": "POST",
                              "StatusCallback": f"{front.url}/voice/call-status", "StatusCallbackMethod": "POST",
                              "VoiceFallbackUrl": FALLBACK, "VoiceFallbackMethod": "POST"}]  # all, changed or not
    again = ivr("twilio", "connect", "--url", front.url, "--fallback-url", FALLBACK, "--yes")
    assert "already connected" in again.stdout and len(api.changes()) == 1


def test_connect_dry_run_shows_the_change_and_makes_none(api, front):
    result = ivr("twilio", "connect", "--url", front.url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"status callback: (none) -> {front.url}/voice/call-status" in result.stdout
    assert "--dry-run: nothing changed." in result.stdout
    assert "has no fallback URL" in result.stderr
    assert api.changes() == [] and api.requests  # the number was looked up, not changed


def test_connect_asks_first(api, front):
    result = ivr("twilio", "connect", "--url", front.url, input="n\n")
    assert "Change the number now? [y/N]" in result.stdout and "Nothing changed." in result.stdout
    assert api.changes() == []
    result = ivr("twilio", "connect", "--url", front.url, input="y\n")
    assert result.exit_code == 0 and api.changes()[0]["VoiceUrl"] == f"{front.url}/voice"


@pytest.mark.parametrize("args, refusal", [
    (["--url", "http://line.example.org"], "--url='http://line.example.org' is not an https base URL"),
    (["--fallback-url", "http://bins.example.org/fallback.xml"], "--fallback-url='http://bins.example.org/fallback.xml' is not an https"),
])
def test_connect_refuses_a_url_that_is_not_https(api, front, args, refusal):
    result = ivr("twilio", "connect", "--url", front.url, *args, "--yes")
    assert result.exit_code == 1 and refusal in result.stderr
    assert api.requests == []


def test_connect_refuses_a_server_that_does_not_answer_as_this_line(api, front):
    result = ivr("twilio", "connect", "--root", str(DEMO), "--url", front.url, "--yes")  # other content here
    assert result.exit_code == 1 and "does not answer with this line's TwiML" in result.stderr
    env_token = ivr("twilio", "connect", "--url", front.url + "/elsewhere", "--yes")
    assert env_token.exit_code == 1 and "Nothing changed." in env_token.stderr
    assert api.requests == []


def test_connect_refuses_a_number_of_another_account(api, front):
    result = ivr("twilio", "connect", "--url", front.url, "--number", "+12075550124", "--yes")
    assert result.exit_code == 1 and "+12075550124 is not a number of account AC111" in result.stderr
    assert api.changes() == []


# -- several app hosts ----------------------------------------------------------------------------
class HttpCall:
    """One caller's call, each webhook sent to the next of several app processes in turn."""

    def __init__(self, ports: list[int]):
        self.hosts = [LiveLine(f"http://127.0.0.1:{port}", TOKEN, params=CallParams()) for port in ports]
        self.served: list[int] = []
        self.last = ET.Element("Response")

    def post(self, url: str, **fields: str) -> ET.Element:
        host = self.hosts[len(self.served) % len(self.hosts)]
        self.served.append(host.port)
        answer = host.post(url, fields)
        assert answer.status == 200 and answer.content_type.startswith("text/xml")
        self.last = ET.fromstring(answer.body)
        assert self.last.tag == "Response"
        return self.last

    def press(self, key: str) -> ET.Element:
        return self.post(self.last.find("Gather").get("action"), Digits=key)


def test_one_call_served_alternately_by_two_app_processes(app_port):
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO), "IVR_PROXY_FIX": "1"}
    with gunicorn("app:app", env) as (_proc, other_port):
        call = HttpCall([app_port, other_port])
        call.post("/voice")
        call.post(call.last.find("Redirect").text)  # past the 9 1 1 message
        call.press("2")  # español
        call.press("8")  # services near you
        call.press("1")  # naloxone
        found = call.press("04330")  # a ZIP code
        assert found.find("Gather") is not None
        call.press("0")  # a person
        dial = call.last.find("Dial")
        assert dial.findtext("Number") == "+18668115695"
        ended = call.post(dial.get("action"), DialCallStatus="completed", DialBridged="true")
        assert ended.find("Hangup") is not None and "Gracias" in " ".join(e.text for e in ended.iter("Say"))
    # Each process answered every other webhook of the one call.
    assert len(call.served) == 8 and set(call.served[0::2]) == {app_port} and set(call.served[1::2]) == {other_port}
