"""`ivr check https://host`: a synthetic call against a live deployment, with the line's token.

Health, TLS, an unsigned request refused, then signed requests as Twilio sends them: the call's
start (the 9 1 1 message), the language menu, the first menu and a transfer to a person, each
timed. Every result is OK, WARNING or CRITICAL, and the exit code is the worst of them (0, 1, 2:
the convention cron, Nagios-style monitors and shell scripts read).
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from ..kinds import KINDS
from ..line import Line
from ..model import LANGUAGE, PERSON
from ..navigator import Navigator
from ..simulate import CallParams
from ..urls import CallState

OK, WARNING, CRITICAL = 0, 1, 2
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}
#: A healthy line answers in milliseconds; Twilio gives up on a webhook after 15 seconds.
SLOW_SECONDS = 2.0
#: certbot renews 30 days before expiry: fewer days left means renewal is failing.
CERTIFICATE_WARNING_DAYS = 21
#: A check run names itself in the call id Twilio would send, so its log lines are recognisable.
CHECK_CALL = CallParams(call_sid="CA00000000000000000000000000check")


class CheckFailed(Exception):
    """A step of the synthetic call that cannot go on."""


@dataclass
class Result:
    status: int
    what: str
    detail: str

    def __str__(self) -> str:
        return f"{NAMES[self.status]:<8} {self.what}: {self.detail}"


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    seconds: float

    @property
    def took(self) -> str:
        return f"{self.seconds * 1000:.0f} ms"


@dataclass
class LiveLine:
    """A deployed line, driven over HTTP(S) as Twilio drives it: form posts, signed over the URL."""

    base_url: str
    token: str
    context: ssl.SSLContext | None = None
    timeout: float = 10.0
    params: CallParams = field(default_factory=lambda: CHECK_CALL)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        if self.context is None:
            self.context = ssl.create_default_context()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        if self.https:
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                     context=self.context)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        start = time.perf_counter()
        try:
            connection.request(method, urlsplit(self.base_url).path + path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise CheckFailed(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        finally:
            connection.close()
        return Answer(response.status, response.getheader("Content-Type", ""), data, time.perf_counter() - start)

    def post(self, path: str, fields: dict[str, str] | None = None, signed: bool = True) -> Answer:
        """POST `fields` (with the call's own) to `path`, signed as Twilio signs it unless not `signed`."""
        form = {**self.params.fields(), **(fields or {})}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers["X-Twilio-Signature"] = RequestValidator(self.token).compute_signature(self.base_url + path, form)
        return self.request("POST", path, urlencode(form).encode(), headers)


def twiml(answer: Answer, path: str) -> ET.Element:
    """The TwiML of a signed answer, or CheckFailed saying what a caller would hear instead."""
    if answer.status == 403:
        raise CheckFailed(f"{path} refused the signed request (403): the token differs from the server's, "
                          "or the server sees another URL than this one (behind a proxy: IVR_PROXY_FIX=1)")
    if answer.status != 200:
        raise CheckFailed(f"{path} answered HTTP {answer.status}: callers hear 'an application error'")
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError as exc:
        raise CheckFailed(f"{path} answered something that is not TwiML ({exc})") from None
    if root.tag != "Response":
        raise CheckFailed(f"{path} answered <{root.tag}>, not a TwiML <Response>")
    return root


def timed(answer: Answer, what: str, detail: str) -> Result:
    slow = answer.seconds > SLOW_SECONDS
    return Result(WARNING if slow else OK, what, f"{detail} in {answer.took}" + (" (slow)" if slow else ""))


def health(live: LiveLine) -> Result:
    answer = live.request("GET", "/healthz")
    if answer.status != 200:
        return Result(CRITICAL, "health", f"/healthz answered HTTP {answer.status}")
    try:
        data = json.loads(answer.body)
    except ValueError:
        return Result(CRITICAL, "health", "/healthz did not answer JSON")
    refused = data.get("last_reload_refused")
    if refused:
        return Result(WARNING, "health", f"a content change was refused at {refused.get('at')}, the line serves "
                      f"the last good content: {refused.get('problem')}")
    return timed(answer, "health", f"{data.get('line')}, {data.get('nodes')} nodes, languages "
                 f"{', '.join(data.get('languages', []))}, content of {data.get('loaded_at')}")


def certificate(live: LiveLine, now: datetime | None = None) -> Result:
    """The server's certificate: valid for the host, and how many days it has left."""
    if not live.https:
        return Result(WARNING, "TLS", "not https: fine for one app host behind the front server, but Twilio "
                      "must be given the https address")
    try:
        with socket.create_connection((live.host, live.port), timeout=live.timeout) as raw:
            with live.context.wrap_socket(raw, server_hostname=live.host) as tls:
                cert = tls.getpeercert()
                version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return Result(CRITICAL, "TLS", f"the certificate is not valid: {exc.verify_message}")
    except (OSError, ssl.SSLError) as exc:
        return Result(CRITICAL, "TLS", f"no TLS connection: {exc}")
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), timezone.utc)
    days = (expires - (now or datetime.now(timezone.utc))).days
    status = WARNING if days < CERTIFICATE_WARNING_DAYS else OK
    hint = " (is certbot's renewal failing?)" if status else ""
    return Result(status, "TLS", f"certificate valid, {version}, expires {expires:%Y-%m-%d}: {days} days left{hint}")


def unsigned(live: LiveLine) -> Result:
    answer = live.post("/voice", signed=False)
    if answer.status == 403:
        return timed(answer, "unsigned request", "refused with 403")
    return Result(CRITICAL, "unsigned request", f"answered HTTP {answer.status}, not 403: anyone can drive this "
                  "line (is TWILIO_AUTH_TOKEN set, and IVR_INSECURE_DEV_MODE off?)")


def call(live: LiveLine, line: Line, max_steps: int = 8) -> Iterator[Result]:
    """A call through the live line: the start, then the default language, then the person key,
    following redirects, until a transfer's <Dial>. The keys come from the line's content."""
    nav = Navigator(line, KINDS)
    flow = nav.flow
    language_key = flow.languages[flow.default_language].key
    person_key = flow.key_for(PERSON).key  # a line without one does not load
    what, path, fields = f"start '{flow.start}'", "/voice", {}
    for _ in range(max_steps):
        answer = live.post(path, fields)
        root = twiml(answer, path)
        dial, gather, redirect = root.find("Dial"), root.find("Gather"), root.find("Redirect")
        voices = sorted({e.get("language") or "?" for e in root.iter("Say")})
        prompts = f"{len(list(root.iter('Say')) + list(root.iter('Play')))} prompts ({', '.join(voices)})"
        if dial is not None:
            number = dial.findtext("Number") or ""
            if not number.startswith("+") or not dial.get("action"):
                raise CheckFailed(f"{path}: a <Dial> without an E.164 <Number> or an action")
            yield timed(answer, f"transfer to a person ({what})", f"dials {number}")
            return
        state = read(nav, gather.get("action", "")) if gather is not None else None
        node = flow.nodes.get(state.node) if state else None
        if node is not None and node.kind == LANGUAGE:
            yield timed(answer, f"language menu ({what})", prompts)
            what, path, fields = f"key {language_key}", gather.get("action"), {"Digits": language_key}
        elif node is not None and gather.get("actionOnEmptyResult") == "true":
            yield timed(answer, f"menu '{node.id}' ({what})", prompts)
            what, path, fields = f"key {person_key}", gather.get("action"), {"Digits": person_key}
        elif redirect is not None and redirect.text:
            yield timed(answer, what, f"{prompts}, then on")
            what, path, fields = "redirect", redirect.text, {}
        else:
            raise CheckFailed(f"{path}: the answer neither listens for a key, moves on nor transfers")
    raise CheckFailed(f"no transfer after {max_steps} steps")


def read(nav: Navigator, action: str) -> CallState:
    """The call state in one of the line's own URLs (`/voice/input/main?lang=en`)."""
    parts = urlsplit(action)
    return nav.urls.read(parts.path.removeprefix("/voice").lstrip("/"), parts.query)


def check(live: LiveLine, line: Line) -> Iterator[Result]:
    """Every result of a check, in order, up to the first CRITICAL one: what follows a failure
    would only fail with it."""
    steps = (("TLS", lambda: [certificate(live)]), ("health", lambda: [health(live)]),
             ("unsigned request", lambda: [unsigned(live)]), ("call", lambda: call(live, line)))
    for what, step in steps:
        try:
            for result in step():
                yield result
                if result.status == CRITICAL:
                    return
        except CheckFailed as exc:
            yield Result(CRITICAL, what, str(exc))
            return
