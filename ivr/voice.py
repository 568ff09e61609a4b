"""The Twilio webhooks: read the call's state from the URL, ask the navigator, render TwiML.

Thin on purpose: every decision is the navigator's (`ivr.navigator`), every URL the URL scheme's
(`ivr.urls`), every answer the renderer's (`ivr.twiml`). A call rehearsed inside this process
(`ivr simulate`, the staff console's phone) is marked as a `Rehearsal`: it gets the same answers,
and is counted nowhere and texts no one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, Flask, Response, abort, current_app, request, send_from_directory
from werkzeug.exceptions import HTTPException

from . import twiml
from .navigator import Deferred, Given, rehearsing_at
from .phones import line_e164, region_of, textable
from .security import FIELDS_KEY, SIGNED_KEY, forbidden, printable, refused, twilio_fields
from .served import LineHolder, Served
from .sms import NoSms, send_quietly
from .stats.events import CallEnded, MenuReached, TextMessage
from .stats.recorder import Recorder
from .steps import Dial, SendText, Step
from .texting import TextLimits
from .urls import DIALED, WHISPER_ANSWER, CallState

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)
METHODS = ["GET", "POST"]  # Twilio may be set to either; every step accepts both
#: The WSGI environ key that marks a rehearsed call: no HTTP request can set one.
REHEARSAL_KEY = "ivr.rehearsal"


@dataclass
class Rehearsal:
    """A call rehearsed inside this process (`ivr simulate`, the staff console's phone), put in the
    WSGI environ of its requests: answered at the line's clock it names (None: now), counted in no
    statistics, and its Steps and texts kept here to be shown; a rehearsal's text is never sent."""

    at: datetime | None = None
    steps: list[Step] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def twiml_response(xml: str) -> Response:
    return Response(xml, 200, content_type="text/xml; charset=utf-8")


def holder() -> LineHolder:
    return current_app.extensions["ivr"]


def fields() -> dict[str, str]:
    """The fields Twilio sent, read once per request (the signature check reads them first)."""
    environ = request.environ
    found = environ.get(FIELDS_KEY)
    if found is None:
        found = environ[FIELDS_KEY] = twilio_fields()
    return found


def param(name: str) -> str:
    """A field Twilio sent: in the form of a POST, in the query of a GET."""
    return fields().get(name, "")


def call_state(served: Served, path: str) -> CallState:
    return served.navigator.urls.read(path, request.environ.get("QUERY_STRING", ""))


@bp.route("/voice", methods=METHODS, defaults={"path": ""})
@bp.route("/voice/<path:path>", methods=METHODS)
def answer(path: str):
    """Every step of a call: a call comes in (`/voice`), a key, a transfer's end, a whisper...
    (The hot path: the request's fields and the app's extensions are looked up once.)"""
    extensions, sent = current_app.extensions, fields()
    served = extensions["ivr"].current
    state = call_state(served, path)
    # The line's own number: as configured, else the number the caller dialled if it is a phone
    # number (a call by SIP or Twilio Client has none): never an unchecked request value.
    line = extensions["ivr.settings"].line_number or line_e164(sent.get("To", ""))
    given = Given(sent.get("Digits", ""), sent.get("DialCallStatus", ""), sent.get("DialBridged", "").lower() == "true",
                  line, Deferred(lambda: can_text(line)))  # worked out only if a list is read out
    rehearsal: Rehearsal | None = request.environ.get(REHEARSAL_KEY)
    if rehearsal is None:
        step = served.navigator.navigate(state, given)
    else:
        with rehearsing_at(rehearsal.at):
            step = served.navigator.navigate(state, given)
    if isinstance(step.then, SendText):
        step = send_text(step.then, given.line_number, rehearsal)
    if state.step == DIALED:
        log.info("transfer from %s to %s ended: %s (bridged: %s)", state.node, state.to, given.dial_status,
                 given.bridged)
    elif state.step == WHISPER_ANSWER:
        log.info("helper at %s %s the call", state.to, "declined" if step.then else "accepted")
    if rehearsal is None:
        count(extensions["ivr.stats"], step, sent.get("CallSid", ""))
    else:
        rehearsal.steps.append(step)
    # Only a transfer's TwiML holds an absolute URL; working out the address costs a tenth of a keypress.
    return twiml_response(twiml.render(step, public_base() if isinstance(step.then, Dial) else ""))


def count(stats: Recorder, step: Step, call_sid: str) -> None:
    """Count what happened (ivr.stats): in memory only, never waiting for a database. The menu a
    call reached is kept against the call's opaque key, until the call ends."""
    for event in step.events:
        if isinstance(event, MenuReached):
            event = event.of_call(stats.call_key(call_sid))
        stats.record(event)


def public_base() -> str:
    """The line's public address, for the callback URLs Twilio wants absolute: IVR_PUBLIC_URL, else
    the address this request was made to (the public one, behind ProxyFix)."""
    return current_app.extensions["ivr.settings"].public_url or request.url_root.rstrip("/")


def can_text(line: str) -> bool:
    """Whether this caller may be offered their list by text: texts can be sent at all, their
    number can receive one, and their call has not had its share."""
    if isinstance(current_app.extensions["ivr.sms"], NoSms) or not line:
        return False
    limits: TextLimits = current_app.extensions["ivr.texts"]
    return bool(textable(param("From"), region_of(line))) and limits.room_for_more(param("CallSid"))


def send_text(text: SendText, line: str, rehearsal: Rehearsal | None = None) -> Step:
    """The caller asked for the list by text: send it to them, once per list and a few times per
    call at most, and say how it went. Their number is used for this one send only, kept nowhere,
    and only if it is a number of the line's country that can receive texts. A rehearsal's text
    passes the same checks and is kept in the rehearsal instead of sent."""
    limits: TextLimits = current_app.extensions["ivr.texts"]
    call = param("CallSid")
    to = textable(param("From"), region_of(line) if line else None)
    if to and limits.already_sent(call, text.key):
        return text.sent
    if not to or not limits.attempt(call):
        return text.failed.counting(TextMessage("failed"))
    if rehearsal is not None:
        rehearsal.texts.append(text.body)
    elif not send_quietly(current_app.extensions["ivr.sms"], to, line, text.body):
        return text.failed.counting(TextMessage("failed"))
    limits.sent(call, text.key)
    return text.sent.counting(TextMessage("sent"))


#: Status-callback fields kept for the transfer records. Numbers (From, To, Called, Caller...) never are.
STATUS_FIELDS = ("CallStatus", "CallDuration", "Timestamp", "SipResponseCode", "AnsweredBy")


@bp.route("/voice/status", methods=METHODS)
def status():
    """How a transfer's leg ended, recorded without any phone number."""
    state = call_state(holder().current, "status")
    record = {"node": state.node, "destination": state.to}
    record.update({field: param(field) for field in STATUS_FIELDS if param(field)})
    current_app.extensions["ivr.transfers"].record(record)
    return Response("", 204)


@bp.route("/voice/call-status", methods=METHODS)
def call_status():
    """The number's own status callback (set by `ivr twilio connect`): how long a call lasted, counted
    in a band with the menu it ended in. Nothing else is kept."""
    if param("CallStatus") == "completed":
        stats = current_app.extensions["ivr.stats"]
        try:
            seconds = float(param("CallDuration") or 0)
        except ValueError:
            seconds = 0.0
        stats.record(CallEnded.after(max(0.0, seconds), call=stats.call_key(param("CallSid"))))
    return Response("", 204)


@bp.route("/audio/<lang>/<path:filename>", methods=["GET", "HEAD"])
def audio(lang: str, filename: str):
    """Recorded prompts, fetched by Twilio for <Play>. Public content: no caller data here."""
    flow = holder().current.line.flow
    if lang not in flow.languages and lang not in flow.pending_languages:
        abort(404)
    return send_from_directory(holder().root / "locales" / lang / "audio", filename)


@bp.route("/healthz")
def healthz():
    line_holder = holder()
    served = line_holder.current
    flow = served.line.flow
    refused = line_holder.last_refusal
    return {"status": "ok", "line": flow.name, "nodes": len(flow.nodes), "languages": list(flow.languages),
            "version": served.version, "loaded_at": served.loaded_at.isoformat(timespec="seconds"),
            "last_reload_refused": {"at": refused[0].isoformat(timespec="seconds"), "problem": str(refused[1])}
            if refused else None}


def is_voice_request() -> bool:
    return request.path == "/voice" or request.path.startswith("/voice/")


def handle_error(error: Exception):
    """A signed webhook never gets an error status: Twilio would say 'an application error'.
    A request that was not signed never gets TwiML: it is refused (403, or 413 when too big)."""
    if not is_voice_request():
        return error if isinstance(error, HTTPException) else (Response("Internal error\n", 500))
    if not request.environ.get(SIGNED_KEY):
        if isinstance(error, HTTPException) and error.code == 413:
            return error
        refused("refused an unsigned /voice request (%s, path %s)", type(error).__name__,
                printable(request.path))
        return forbidden("missing or invalid X-Twilio-Signature")
    if not isinstance(error, HTTPException):
        # The traceback names our code and the URL's state, never the caller's number.
        log.exception("error answering %s; the caller hears an apology", printable(request.path))
    served = holder().current
    try:
        return twiml_response(twiml.render(served.navigator.apology(call_state(served, "").lang)))
    except Exception:  # noqa: BLE001 - the caller must still hear something
        log.exception("the apology itself failed; sending the caller to a person")
        return twiml_response(served.last_resort)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(Exception, handle_error)
