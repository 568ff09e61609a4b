"""The Twilio webhooks: thin handlers that read the URL's state and hand over to the renderer."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, abort, current_app, request, send_from_directory
from werkzeug.exceptions import HTTPException

from .model import DIRECTORY
from .sms import send_quietly
from .state import LineState

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)
METHODS = ["GET", "POST"]  # Twilio may be set to either; every step accepts both


def twiml(xml: str) -> Response:
    return Response(xml, 200, mimetype="text/xml")


def state() -> LineState:
    return current_app.extensions["ivr"]


def param(name: str) -> str:
    return request.values.get(name, "")


def misses() -> int:
    try:
        return max(0, int(request.args.get("m", "0")))
    except ValueError:
        return 0


@bp.route("/voice", methods=METHODS)
def incoming():
    """A call comes in."""
    renderer = state().renderer
    log.info("call %s started", param("CallSid")[-6:] or "?")
    return twiml(renderer.render_node(renderer.flow.start, renderer.flow.default_language, 0, param("To")))


@bp.route("/voice/node/<node_id>", methods=METHODS)
def node(node_id: str):
    renderer = state().renderer
    if node_id not in renderer.flow.nodes:
        return twiml(renderer.render_apology(request.args.get("lang")))
    return twiml(renderer.render_node(node_id, renderer.language(request.args.get("lang")), misses(),
                                      param("To")))


@bp.route("/voice/input/<node_id>", methods=METHODS)
def keypress(node_id: str):
    renderer = state().renderer
    if node_id not in renderer.flow.nodes:
        return twiml(renderer.render_apology(request.args.get("lang")))
    lang = renderer.language(request.args.get("lang"))
    return twiml(renderer.render_input(node_id, lang, misses(), param("Digits").strip(), param("To")))


@bp.route("/voice/dialed/<node_id>", methods=METHODS)
def dialed(node_id: str):
    renderer = state().renderer
    if node_id not in renderer.flow.nodes:
        return twiml(renderer.render_apology(request.args.get("lang")))
    lang = renderer.language(request.args.get("lang"))
    status = param("DialCallStatus")
    # Only a bridge means the caller talked with someone; `completed` alone may be a declined whisper.
    bridged = param("DialBridged").lower() == "true"
    log.info("transfer from %s to %s ended: %s (bridged: %s)", node_id, request.args.get("to"), status, bridged)
    return twiml(renderer.render_dialed(node_id, lang, request.args.get("to", ""), status, bridged,
                                        param("To"), request.args.get("from", "")))


@bp.route("/voice/whisper/<node_id>", methods=METHODS)
def whisper(node_id: str):
    """The helper's leg, before the bridge: who is calling, press 1 to accept."""
    renderer = state().renderer
    lang = renderer.language(request.args.get("lang"))
    return twiml(renderer.render_whisper(node_id, lang, request.args.get("to", ""),
                                         request.args.get("from", "")))


@bp.route("/voice/whisper-answer", methods=METHODS)
def whisper_answer():
    renderer = state().renderer
    accepted = renderer.whisper_accepted(param("Digits"))
    log.info("helper at %s %s the call", request.args.get("to"), "accepted" if accepted else "declined")
    return twiml(renderer.render_whisper_answer(accepted))


#: Status-callback fields kept for analytics. Numbers (From, To, Called, Caller...) never are.
STATUS_FIELDS = ("CallStatus", "CallDuration", "Timestamp", "SipResponseCode", "AnsweredBy")


@bp.route("/voice/status", methods=METHODS)
def status():
    """How a transfer's leg ended, recorded without any phone number."""
    record = {"node": request.args.get("node", ""), "destination": request.args.get("to", "")}
    record.update({field: param(field) for field in STATUS_FIELDS if param(field)})
    state().record_transfer(record)
    return Response("", 204)


@bp.route("/voice/dir/<node_id>/<step>", methods=METHODS)
def directory(node_id: str, step: str):
    """The steps of a directory search; what was asked travels in the URL (`path`, `at`)."""
    renderer = state().renderer
    lang = renderer.language(request.args.get("lang"))
    node = renderer.flow.nodes.get(node_id)
    if node is None or node.kind != DIRECTORY or renderer.directory is None:
        return twiml(renderer.render_apology(lang))
    search, digits, line_number = renderer.directory, param("Digits").strip(), param("To")
    path = "".join(c for c in request.args.get("path", "") if c in "123456789")[:4]
    where = request.args.get("at", "")
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
        return twiml(renderer.render_apology(request.args.get("lang")))
    except Exception:  # noqa: BLE001 - the caller must still hear something
        log.exception("the apology itself failed; sending the caller to a person")
        return twiml(state().last_resort)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(Exception, handle_error)
