"""The line as deployed: gunicorn on loopback behind nginx rendered from deploy/nginx.conf, with a
throw-away certificate. `ivr check` is run against it, the access log is read, and one call is
walked across two app processes. nginx and openssl come from Debian (`make test` installs them)."""
from __future__ import annotations

import re
import sys
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from conftest import REPO, TOKEN
from ivr.cli import main
from ivr.simulate import CallParams
from test_privacy import CALLER_FIELDS, NEEDLES

sys.path.insert(0, str(REPO / "bench"))
from front import nginx  # noqa: E402
from serve import gunicorn  # noqa: E402



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


# -- several app hosts ----------------------------------------------------------------------------
class HttpCall:
    """One caller's call, each webhook sent to the next of several app processes in turn."""

    def __init__(self, ports: list[int]):
        self.ports, self.served, self.last = ports, [], ET.Element("Response")
        self.params = CallParams()

    def post(self, url: str, **fields: str) -> ET.Element:
        port = self.ports[len(self.served) % len(self.ports)]
        self.served.append(port)
        full = f"http://127.0.0.1:{port}{url}"
        form = {**self.params.fields(), **fields}
        request = urllib.request.Request(full, data=urlencode(form).encode(), headers={
            "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(full, form)})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200 and answer.headers.get_content_type() == "text/xml"
            self.last = ET.fromstring(answer.read())
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
