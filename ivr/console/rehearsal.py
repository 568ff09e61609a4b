"""Rehearsal calls: the console's phone walks the line's own webhooks in this process, signed here as
Twilio signs them (ivr.simulate's `signed_post`). The browser never signs anything: it posts keys to the console, which holds
the call's next webhook in a token only this server can make.

Each request is marked as an `ivr.voice.Rehearsal`, which keeps the navigator's Steps and the texts
to show them (a rehearsal's text is never sent), and keeps the call out of the statistics. The caller is the simulator's fictional one (555-01xx): no
caller data is ever involved.
"""
from __future__ import annotations

import secrets
from dataclasses import astuple, dataclass, replace
from datetime import datetime

from flask import Flask
from itsdangerous import BadSignature, URLSafeSerializer

from ..simulate import CallParams, dial_fields, signed_post
from ..steps import SILENCE_IGNORED, Dial, Goto, Prompt, Step
from ..urls import audio_url, url
from ..voice import Rehearsal

#: Gotos followed in one go (an apology, a message, the next menu), far more than a call has.
MAX_FOLLOW = 20


class LineFault(Exception):
    """The line did not answer a rehearsal as Twilio needs; the message says how."""


@dataclass(frozen=True)
class Next:
    """What the call waits for, as the browser holds it (signed: it cannot be forged or changed)."""

    path: str  # the webhook to post the answer to
    waiting: str  # "keys" or "dial"
    call_sid: str
    at: str  # the rehearsal's clock, ISO, or "" for now


class PhoneCalls:
    """The console phone's calls on one app. `token` signs the webhooks as Twilio would."""

    def __init__(self, app: Flask, token: str, secret: str):
        self.app, self.token = app, token
        self.tokens = URLSafeSerializer(secret, salt="ivr.console.phone")

    def start(self, at: datetime | None) -> dict:
        """A call comes in, with a call id of its own (texts are limited per call)."""
        call_sid = "CA" + secrets.token_hex(16)
        return self.walk(Next("/voice", "keys", call_sid, at.isoformat() if at else ""), {})

    def answer(self, token: str, digits: str | None = None, dial: str | None = None) -> dict:
        """The caller's keys, or how a transfer ended, posted where the call waits for them."""
        try:
            found = Next(*self.tokens.loads(token))
        except (BadSignature, TypeError):
            raise ValueError("this call is not one the console started") from None
        if found.waiting == "dial":
            if dial is None:
                raise ValueError("the line is dialling: choose how the transfer ends")
            return self.walk(found, dial_fields(dial))
        if digits is None:
            raise ValueError("the line is waiting for keys")
        return self.walk(found, {"Digits": digits})

    def post(self, path: str, fields: dict[str, str], call_sid: str, at: str) -> tuple[Step, list[str]]:
        """One webhook, as Twilio calls it: the Step it answered, and the texts it would have sent."""
        rehearsal = Rehearsal(datetime.fromisoformat(at) if at else None)
        fields = {**CallParams(call_sid=call_sid).fields(), **fields}
        response = signed_post(self.app.test_client(), self.token, path, fields, rehearsal)
        if response.status_code != 200:
            reason = response.get_data(as_text=True).strip()[:200]
            raise LineFault(f"the line answered {path} with HTTP {response.status_code}: {reason}")
        if not rehearsal.steps:
            raise LineFault(f"the line answered {path} without a step of the line")
        return rehearsal.steps[-1], rehearsal.texts

    def walk(self, waiting: Next, fields: dict[str, str]) -> dict:
        """Post, then follow the line (messages play to the end, redirects are followed) until it
        waits for keys or a transfer's outcome, or the call ends. Returns what to show."""
        events: list[dict] = []
        path = waiting.path
        for _ in range(MAX_FOLLOW):
            step, texts = self.post(path, fields, waiting.call_sid, waiting.at)
            events += [{"type": "text", "body": body} for body in texts]
            events += [prompt_event(p) for p in step.say]
            listen = step.listen
            if listen is not None:
                events += [prompt_event(p) for p in listen.prompts]
                if listen.silence != SILENCE_IGNORED:
                    return {"events": events, "waiting": self.keys(step, waiting)}
            then = step.then
            if isinstance(then, Goto):  # after a message, or an apology: the line goes on by itself
                path, fields = url(then.state), {}
                continue
            if isinstance(then, Dial):
                return {"events": events, "waiting": self.dial(then, waiting)}
            events.append({"type": "end"})
            return {"events": events, "waiting": None}
        raise LineFault(f"the line went on for {MAX_FOLLOW} steps without waiting for the caller")

    def token_for(self, waiting: Next) -> str:
        return self.tokens.dumps(list(astuple(waiting)))

    def keys(self, step: Step, waiting: Next) -> dict:
        listen = step.listen
        token = self.token_for(replace(waiting, path=url(listen.state), waiting="keys"))
        choices = [{"key": c.key, "leads_to": c.leads_to, "everywhere": c.everywhere} for c in listen.choices]
        return {"for": "keys", "digits": listen.digits, "choices": choices, "next": token}

    def dial(self, dial: Dial, waiting: Next) -> dict:
        flow = self.app.extensions["ivr"].current.line.flow
        dest = flow.destinations.get(dial.destination)
        token = self.token_for(replace(waiting, path=url(dial.done), waiting="dial"))
        return {"for": "dial", "destination": dial.destination, "name": dest.name.source if dest else dial.destination,
                "number": dial.number, "next": token}


def prompt_event(prompt: Prompt) -> dict:
    """One prompt as the browser shows and speaks it: in its language, with its speech tag."""
    event = {"type": "say", "text": prompt.text, "lang": prompt.lang, "tts": prompt.tts_language}
    if prompt.audio:
        event["audio"] = audio_url(prompt.lang, prompt.audio) if "." in prompt.audio else None
        event["recording"] = prompt.audio
    return event
