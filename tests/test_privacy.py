"""No phone number, ZIP code or caller field of Twilio's reaches a log: every branch of a call, with
the number set to POST and to GET, and the access log of the real server."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urljoin

import pytest
from twilio.request_validator import RequestValidator

from conftest import REPO, TOKEN, Call, Twiml, maine_copy
from ivr import create_app
from ivr.simulate import BASE, signed_post

CALLER = "+12075550187"
# Twilio's fields about the caller, each with a value that appears nowhere else.
CALLER_FIELDS = {"From": CALLER, "Caller": CALLER, "FromZip": "04064", "FromCity": "OLD ORCHARD BEACH",
                 "FromState": "ME", "CallerZip": "04064", "CallerCity": "OLD ORCHARD BEACH"}
ZIP_TYPED = "04330"  # the ZIP code the caller types in for a directory search
NEEDLES = (CALLER, CALLER.lstrip("+"), "2075550187", "555-0187", "04064", "OLD ORCHARD", "OLD+ORCHARD",
           ZIP_TYPED, "z04330")


class GetCall(Call):
    """A call with the number's webhooks set to GET: Twilio's fields travel in the query string."""

    def request(self, url: str, **fields: str):
        full = urljoin(BASE + "/", url)
        full += ("&" if "?" in full else "?") + urlencode({**self.params.fields(), **CALLER_FIELDS, **fields})
        signature = RequestValidator(self.token).compute_signature(full, {})
        return self.client.get(full, headers={"X-Twilio-Signature": signature})

    def post(self, url: str, **fields: str) -> Twiml:
        self.last = Twiml(self.request(url, **fields))
        return self.last


class PostCall(Call):
    def request(self, url: str, **fields: str):
        return signed_post(self.client, self.token, url, {**self.params.fields(), **CALLER_FIELDS, **fields})

    def post(self, url: str, **fields: str) -> Twiml:
        self.last = Twiml(self.request(url, **fields))
        return self.last


class Sms:
    def send(self, to: str, from_: str, body: str) -> None:
        assert to == CALLER


def every_branch(call: Call) -> None:
    """The 911 message, languages, menus, wrong keys and silence, a directory search by ZIP code and
    by county, a text, transfers that fail and connect, a whisper and a status callback."""
    call.choose_language("2")
    call.press("#")  # not an option
    call.silence()
    call.press("8")
    call.press("1")  # naloxone near you
    call.press(ZIP_TYPED)
    call.press("1")  # the list by text
    call.follow()
    call.press("*")
    call.press("8")
    call.press("1")
    call.press("*")  # the county menu
    call.press("5")
    call.press("1")  # Kennebec
    call.press("0")  # a person
    dial = call.last.find("Dial")
    status = call.request(dial.find("Number").get("statusCallback"), CallStatus="completed", CallDuration="42")
    assert status.status_code == 204
    call.dial_ends("busy")  # numbers read out, goodbye
    call.choose_language("1")
    call.press("5")
    liaison = call.press("1")  # York's OPTIONS liaison, with a whisper
    call.post(liaison.find("Dial/Number").get("url"))
    call.press("1")  # the helper accepts
    call.last = liaison
    call.dial_ends("completed", bridged=True)


@pytest.mark.parametrize("call_class", [PostCall, GetCall], ids=["POST", "GET"])
def test_no_caller_field_reaches_any_log_in_either_mode(tmp_path, caplog, call_class):
    root = maine_copy(tmp_path)
    app = create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": Sms(),
                      "LINE_NUMBER": "+12075550123", "TRANSFER_LOG": str(tmp_path / "transfers.jsonl")})
    with caplog.at_level(logging.DEBUG):
        every_branch(call_class(app.test_client()))
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args}" for r in caplog.records)
    assert "transfer" in logged  # the logs were written...
    assert not [n for n in NEEDLES if n in logged]  # ...with none of the caller's data
    assert not [n for n in NEEDLES if n in (tmp_path / "transfers.jsonl").read_text()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_servers_access_log_holds_no_caller_field(tmp_path):
    """The real server, started as the README starts it, with the number set to GET."""
    port, log = free_port(), tmp_path / "access.log"
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO)}
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}",
                               "--access-logfile", str(log), "--error-logfile", str(tmp_path / "error.log"),
                               "app:app"], cwd=REPO, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        for path in ("/voice", "/voice/dir/find_naloxone/zip?lang=en", "/voice/dir/find_naloxone/after?lang=en&at=z04330"):
            url = f"{base}{path}{'&' if '?' in path else '?'}" + urlencode({**CALLER_FIELDS, "Digits": ZIP_TYPED})
            signature = RequestValidator(TOKEN).compute_signature(url, {})
            with urllib.request.urlopen(urllib.request.Request(url, headers={"X-Twilio-Signature": signature})) as r:
                assert r.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = log.read_text() + (tmp_path / "error.log").read_text()
    assert "GET /voice/dir/find_naloxone/after" in written
    assert not [n for n in NEEDLES if n in written]
