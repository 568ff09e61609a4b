"""A call in the terminal, through the real app: signed requests to the test client, TwiML followed
verb by verb, the way Twilio would (datasette's `serve --get` idea, applied to a phone call)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import urljoin

from flask import Flask
from twilio.request_validator import RequestValidator

BASE = "http://localhost"
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed", "canceled")
SILENCE = ("", "-", "silence")
# A number from the fictional 555-01xx range: the simulated caller is nobody.
SIMULATED_CALLER = "+12075550199"


@dataclass
class CallParams:
    """The form fields Twilio sends on every webhook of one call."""

    call_sid: str = "CAsimulated0000000000000000000000"
    caller: str = SIMULATED_CALLER
    line_number: str = "+12075550123"

    def fields(self) -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": "ACsimulated", "From": self.caller,
                "Caller": self.caller, "To": self.line_number, "Direction": "inbound",
                "CallStatus": "in-progress"}


def signed_post(client, token: str, url: str, fields: dict[str, str]):
    """POST as Twilio does: form fields, signed over the full URL and the fields."""
    full = urljoin(BASE + "/", url)
    signature = RequestValidator(token).compute_signature(full, fields)
    return client.post(full, data=fields, headers={"X-Twilio-Signature": signature})


@dataclass
class Simulator:
    """Drives one call. `ask_key` and `ask_dial` answer the prompts; None ends the call."""

    app: Flask
    token: str
    ask_key: Callable[[str], str | None]
    ask_dial: Callable[[str], str | None]
    params: CallParams = field(default_factory=CallParams)
    max_steps: int = 200

    def run(self) -> Iterator[str]:
        """Yield what the caller hears and does, line by line, until the call ends."""
        client = self.app.test_client()
        url, extra = "/voice", {}
        for _ in range(self.max_steps):
            response = signed_post(client, self.token, url, {**self.params.fields(), **extra})
            if response.status_code != 200:
                yield f"!! {url} answered HTTP {response.status_code}: the caller hears an application error"
                return
            try:
                root = ET.fromstring(response.data)
            except ET.ParseError as exc:
                yield f"!! {url} answered unreadable TwiML ({exc})"
                return
            next_step = yield from self.follow(client, list(root))
            if next_step is None:
                yield "-- call ended --"
                return
            url, extra = next_step
        yield f"!! stopped after {self.max_steps} steps"

    def follow(self, client, verbs: list[ET.Element]):
        """Play one TwiML document; return the next (url, fields) or None when the call ends."""
        for verb in verbs:
            heard = self.describe(client, verb)
            if heard:
                yield heard
            elif verb.tag == "Gather":
                for inner in verb:
                    heard = self.describe(client, inner)
                    if heard:
                        yield heard
                key = self.ask_key("keys")
                if key is None:
                    yield "(caller hangs up)"
                    return None
                digits = "" if key in SILENCE else key
                yield f"> caller presses {digits}" if digits else "> caller says nothing"
                if digits or verb.get("actionOnEmptyResult") == "true":
                    return verb.get("action"), {"Digits": digits}
            elif verb.tag == "Dial":
                numbers = ", ".join((n.text or "").strip() for n in verb) or (verb.text or "").strip()
                outcome = self.ask_dial(numbers)
                if outcome is None:
                    yield "(caller hangs up)"
                    return None
                yield f"[dials {numbers}: {outcome}]"
                if verb.get("action"):
                    bridged = "true" if outcome == "completed" else "false"
                    return verb.get("action"), {"DialCallStatus": outcome, "DialBridged": bridged}
            elif verb.tag == "Redirect":
                return verb.text, {}
            elif verb.tag == "Hangup":
                return None
            elif not heard:
                yield f"[{verb.tag}]"
        return None

    def describe(self, client, verb: ET.Element) -> str | None:
        """What the caller hears from one Say, Play or Pause (None for other verbs)."""
        if verb.tag == "Say":
            return f"[{verb.get('language', '?')} {verb.get('voice', '?')}] {verb.text or ''}"
        if verb.tag == "Play":
            status = client.get(urljoin(BASE + "/", verb.text or "")).status_code
            return f"[plays {verb.text}]" + ("" if status == 200 else f" !! HTTP {status}")
        if verb.tag == "Pause":
            return f"[pause {verb.get('length', '1')} s]"
        return None


def scripted(answers: list[str]) -> Callable[[str], str | None]:
    """Answer prompts from a list; None (the caller hangs up) when it runs out."""
    queue = list(answers)
    return lambda _prompt: queue.pop(0) if queue else None
