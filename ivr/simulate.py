"""A call in the terminal, through the real app: signed requests to the app's own test client, each
answer checked as TwiML Twilio would accept, and the navigator's Step behind it written out as text
(datasette's `serve --get` idea, applied to a phone call)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator
from urllib.parse import urljoin

from flask import Flask
from twilio.request_validator import RequestValidator

from .steps import SILENCE_IGNORED, Dial, Goto, Hangup, Prompt, Step
from .urls import audio_url, url
from .voice import REHEARSAL_KEY, Rehearsal

BASE = "http://localhost"
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed", "canceled")


def dial_fields(outcome: str) -> dict[str, str]:
    """What Twilio posts to a <Dial action> when the transfer ended so (bridged only when answered)."""
    return {"DialCallStatus": outcome, "DialBridged": "true" if outcome == "completed" else "false"}
SILENCE = ("", "-", "silence")
# A number from the fictional 555-01xx range: the simulated caller is nobody.
SIMULATED_CALLER = "+12075550199"


@dataclass
class CallParams:
    """The form fields Twilio sends on every webhook of one call."""

    call_sid: str = "CAsimulated0000000000000000000000"
    caller: str = SIMULATED_CALLER
    called: str = "+12075550123"  # the line's own number, which the caller dialled (Twilio's `To`)

    def fields(self) -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": "ACsimulated", "From": self.caller,
                "Caller": self.caller, "To": self.called, "Direction": "inbound",
                "CallStatus": "in-progress"}


def signed_post(client, token: str, path: str, fields: dict[str, str], rehearsal: Rehearsal | None = None):
    """POST as Twilio does: form fields, signed over the full URL and the fields. With a
    `rehearsal`, the line answers it as a rehearsed call (ivr.voice.Rehearsal)."""
    full = urljoin(BASE + "/", path)
    signature = RequestValidator(token).compute_signature(full, fields)
    return client.post(full, data=fields, headers={"X-Twilio-Signature": signature},
                       environ_base={REHEARSAL_KEY: rehearsal} if rehearsal else {})


@dataclass
class Simulator:
    """Drives one call. `ask_key` and `ask_dial` answer the prompts; None ends the call."""

    app: Flask
    token: str
    ask_key: Callable[[str], str | None]
    ask_dial: Callable[[str], str | None]
    params: CallParams = field(default_factory=CallParams)
    max_steps: int = 200
    at: datetime | None = None  # rehearse the call at this time of the line's clock

    def run(self) -> Iterator[str]:
        """Yield what the caller hears and does, line by line, until the call ends."""
        client = self.app.test_client()
        path, extra = "/voice", {}
        for _ in range(self.max_steps):
            rehearsal = Rehearsal(self.at)  # counted nowhere, its texts shown here and never sent
            response = signed_post(client, self.token, path, {**self.params.fields(), **extra}, rehearsal)
            if response.status_code != 200:
                yield f"!! {path} answered HTTP {response.status_code}: the caller hears an application error"
                return
            try:
                ET.fromstring(response.data)
            except ET.ParseError as exc:
                yield f"!! {path} answered unreadable TwiML ({exc})"
                return
            if not rehearsal.steps:
                yield f"!! {path} answered without a step of the line"
                return
            for body in rehearsal.texts:
                yield "[text message the caller would get]\n    " + body.replace("\n", "\n    ")
            try:
                next_step = yield from self.follow(client, rehearsal.steps[-1])
            except OutOfScript as exc:
                yield f"!! {exc}"
                return
            if next_step is None:
                yield "-- call ended --"
                return
            path, extra = next_step
        yield f"!! stopped after {self.max_steps} steps"

    def follow(self, client, step: Step):
        """Play one step; return the next (path, fields), or None when the call ends."""
        for prompt in step.say:
            yield self.heard(client, prompt)
        listen = step.listen
        if listen is not None:
            for prompt in listen.prompts:
                yield self.heard(client, prompt)
            key = self.ask_key("keys")
            if key is None:
                yield "(caller hangs up)"
                return None
            digits = "" if key in SILENCE else key
            yield f"> caller presses {digits}" if digits else "> caller says nothing"
            if digits or listen.silence != SILENCE_IGNORED:
                return url(listen.state), {"Digits": digits}
        then = step.then
        if isinstance(then, Dial):
            outcome = self.ask_dial(then.number)
            if outcome is None:
                yield "(caller hangs up)"
                return None
            yield f"[dials {then.number}: {outcome}]"
            return url(then.done), dial_fields(outcome)
        if isinstance(then, Goto):
            return url(then.state), {}
        if isinstance(then, Hangup) or then is None:
            return None
        yield f"[{type(then).__name__}]"
        return None

    @staticmethod
    def heard(client, prompt: Prompt) -> str:
        """What the caller hears from one prompt; a recording is fetched as Twilio would."""
        if prompt.audio:
            path = audio_url(prompt.lang, prompt.audio)
            status = client.get(urljoin(BASE + "/", path)).status_code
            return f"[plays {path}]" + ("" if status == 200 else f" !! HTTP {status}")
        return f"[{prompt.tts_language or '?'} {prompt.voice or '?'}] {prompt.text}"


class OutOfScript(Exception):
    """A scripted answer was needed and none was left; the message says which."""


def scripted(answers: list[str], exhausted: str | None = None) -> Callable[[str], str | None]:
    """Answer prompts from a list. When it runs out: None (the caller hangs up), or, with
    `exhausted`, stop the call saying what is missing."""
    queue = list(answers)

    def answer(_prompt: str) -> str | None:
        if queue:
            return queue.pop(0)
        if exhausted:
            raise OutOfScript(exhausted)
        return None

    return answer
