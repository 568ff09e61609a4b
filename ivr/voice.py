"""The Twilio webhooks: thin handlers that read the URL's state and hand over to the renderer."""
from __future__ import annotations

import logging
from functools import lru_cache
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, abort, current_app, request, send_from_directory
from werkzeug.exceptions import HTTPException

from .model import DIRECTORY
from .sms import send_quietly
from .security import FIELDS_KEY, twilio_fields
from .state import LineState

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)
METHODS = ["GET", "POST"]  # Twilio may be set to either; every step accepts both


def twiml(xml: str) -> Response:
    return Response(xml, 200, mimetype="text/xml")


def state() -> LineState:
    return current_app.extensions["ivr"]


def param(name: str) -> str:
    """A field Twilio sent: in the form of a POST, in the query of a GET."""
    environ = request.environ
    fields = environ.get(FIELDS_KEY)
    if fields is None:  # not read yet (the signature check reads them first, and keeps them)
        fields = environ[FIELDS_KEY] = twilio_fields()
    return fields.get(name, "")


@lru_cache(maxsize=8192)
def _state_of(query_string: str) -> dict[str, str]:
    # A call's URLs repeat (node x language x misses), so each is parsed once per worker.
    return dict(parse_qsl(query_string))


def arg(name: str, default: str = "") -> str:
    """The call's state from the URL's query: lang, m, to, from, path, at."""
    return _state_of(request.environ.get("QUERY_STRING", "")).get(name, default)


def misses() -> int:
    try:
        return max(0, int(arg("m", "0")))
    except ValueError:
        return 0


@bp.route("/voice", methods=METHODS)
def incoming():
    """A call comes in."""
    renderer = state().renderer
    # No log line per call: the access log counts calls, and this is the hottest webhook.
    return twiml(renderer.render_node(renderer.flow.start, renderer.flow.default_language, 0, param("To")))


@bp.route("/voice/node/<node_id>", methods=METHODS)
def node(node_id: str):
    renderer = state().renderer
    if node_id not in renderer.flow.nodes:
        return twiml(renderer.render_apology(arg("lang")))
    return twiml(renderer.render_node(node_id, renderer.language(arg("lang")), misses(),
                                      param("To")))


@bp.route("/voice/input/<node_id>", methods=METHODS)
def keypress(node_id: str):
    renderer = state().renderer
    if node_id not in renderer.flow.nodes:
        return twiml(renderer.render_apology(arg("lang")))
    lang = renderer.language(arg("lang"))
    return twiml(renderer.render_input(node_id, lang, misses(), param("Digits").strip(), param("To")))


@bp.route("/voice/dialed/<node_id>", methods=METHODS)
def dialed(node_id: str):
    renderer = state().renderer
    if node_id not in renderer.flow.nodes:
        return twiml(renderer.render_apology(arg("lang")))
    lang = renderer.language(arg("lang"))
    status = param("DialCallStatus")
    # Only a bridge means the caller talked with someone; `completed` alone may be a declined whisper.
    bridged = param("DialBridged").lower() == "true"
    log.info("transfer from %s to %s ended: %s (bridged: %s)", node_id, arg("to"), status, bridged)
    return twiml(renderer.render_dialed(node_id, lang, arg("to"), status, bridged,
                                        param("To"), arg("from")))


@bp.route("/voice/whisper/<node_id>", methods=METHODS)
def whisper(node_id: str):
    """The helper's leg, before the bridge: who is calling, press 1 to accept."""
    renderer = state().renderer
    lang = renderer.language(arg("lang"))
    return twiml(renderer.render_whisper(node_id, lang, arg("to"),
                                         arg("from")))


@bp.route("/voice/whisper-answer", methods=METHODS)
def whisper_answer():
    renderer = state().renderer
    accepted = renderer.whisper_accepted(param("Digits"))
    log.info("helper at %s %s the call", arg("to"), "accepted" if accepted else "declined")
    return twiml(renderer.render_whisper_answer(accepted))


#: Status-callback fields kept for analytics. Numbers (From, To, Called, Caller...) never are.
STATUS_FIELDS = ("CallStatus", "CallDuration", "Timestamp", "SipResponseCode", "AnsweredBy")


@bp.route("/voice/status", methods=METHODS)
def status():
    """How a transfer's leg ended, recorded without any phone number."""
    record = {"node": arg("node"), "destination": arg("to")}
    record.update({field: param(field) for field in STATUS_FIELDS if param(field)})
    state().record_transfer(record)
    return Response("", 204)


@bp.route("/voice/dir/<node_id>/<step>", methods=METHODS)
def directory(node_id: str, step: str):
    """The steps of a directory search; what was asked travels in the URL (`path`, `at`)."""
    renderer = state().renderer
    lang = renderer.language(arg("lang"))
    node = renderer.flow.nodes.get(node_id)
    if node is None or node.kind != DIRECTORY or renderer.directory is None:
        return twiml(renderer.render_apology(lang))
    search, digits, line_number = renderer.directory, param("Digits").strip(), param("To")
    path = "".join(c for c in arg("path") if c in "123456789")[:4]
    where = arg("at")
    if step == "zip":
        return twiml(search.zip_input(node, lang, misses(), digits, line_number))
    if step == "offer":
        return twiml(search.offer_input(node, lang, digits, line_number))
    if step == "area":
        return twiml(search.area(node, lang, path))
    if step == "area-key":
        return twiml(search.area_input(node, lang, path, misses(), digits, line_number))
    if step == "results":
        return twiml(search.results(node, lang, where))
    if step == "after":
        # The caller's number is used for this one send, only after they pressed 1, and kept nowhere.
        sender = current_app.extensions["ivr_sms"]
        return twiml(search.after_input(node, lang, where, digits, line_number,
                                        lambda body: send_quietly(sender, param("From"), line_number, body)))
    return twiml(renderer.render_apology(lang))


@bp.route("/audio/<lang>/<path:filename>", methods=["GET", "HEAD"])
def audio(lang: str, filename: str):
    """Recorded prompts, fetched by Twilio for <Play>. Public content: no caller data here."""
    if lang not in state().renderer.flow.languages and lang not in state().renderer.flow.pending_languages:
        abort(404)
    return send_from_directory(state().root / "locales" / lang / "audio", filename)


@bp.route("/healthz")
def healthz():
    flow = state().renderer.flow
    return {"status": "ok", "line": flow.name, "nodes": len(flow.nodes),
            "languages": list(flow.languages)}


def is_voice_request() -> bool:
    return request.path == "/voice" or request.path.startswith("/voice/")


def handle_error(error: Exception):
    """A signed webhook never gets an error status: Twilio would say 'an application error'."""
    if not is_voice_request():
        return error if isinstance(error, HTTPException) else (Response("Internal error\n", 500))
    if not isinstance(error, HTTPException):
        # The traceback names our code and the URL's state, never the caller's number.
        log.exception("error answering %s; the caller hears an apology", request.path)
    renderer = state().renderer
    try:
        return twiml(renderer.render_apology(arg("lang")))
    except Exception:  # noqa: BLE001 - the caller must still hear something
        log.exception("the apology itself failed; sending the caller to a person")
        return twiml(state().last_resort)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(Exception, handle_error)
