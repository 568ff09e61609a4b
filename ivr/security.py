"""Only Twilio may drive the line: every /voice request must carry a valid X-Twilio-Signature."""
from __future__ import annotations

import hmac
import logging
from typing import Iterator

from flask import Flask, Response, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

DEV_MODE_WARNING = ("INSECURE DEVELOPMENT MODE: Twilio signatures are NOT checked. Anyone who can "
                    "reach this server can drive the line. Never use this on a public address.")


def called_urls() -> Iterator[str]:
    """The URL Twilio called, as it wrote it. Werkzeug re-quotes `request.url`, so then also try
    the path and query exactly as they arrived; both describe this one request. Lazily: nearly
    every request matches the first."""
    yield request.url
    if request.query_string:
        yield f"{request.base_url}?{request.query_string.decode('latin-1')}"
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        yield f"{request.scheme}://{request.host}{request.script_root}{raw}"


#: Where the request's Twilio fields are kept once read, for the handlers.
FIELDS_KEY = "ivr.twilio_fields"


def twilio_fields() -> dict[str, str]:
    """The fields Twilio sent: the form of a POST, the query of a GET."""
    return (request.form if request.method == "POST" else request.args).to_dict(flat=True)


def signature_ok(token: str) -> bool:
    """Check the request against the URL Twilio called (query included) and its form fields."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    fields = request.environ[FIELDS_KEY] = twilio_fields()
    params = fields if request.method == "POST" else {}
    validator = RequestValidator(token)
    for url in called_urls():
        # Twilio signs the URL it called, so the one signature over that exact URL nearly always
        # matches; the library's full check (which also tries the URL with and without its port,
        # two signatures every time) settles the rest. Same requests accepted, half the work.
        if hmac.compare_digest(validator.compute_signature(url, params), signature):
            return True
        if validator.validate(url, params, signature):
            return True
    return False


def check_signature() -> Response | None:
    """before_request hook for /voice: 403 unless signed (or in the explicit development mode)."""
    path = request.path
    if not (path == "/voice" or path.startswith("/voice/")):
        return None
    settings = current_app.extensions["ivr.settings"]
    if settings.insecure_dev_mode:
        log.warning(DEV_MODE_WARNING)
        return None
    token = settings.auth_token
    if not token:
        log.error("refusing a call: TWILIO_AUTH_TOKEN is not set (set it, or start the local "
                  "development mode that says it is unprotected)")
        return Response("Forbidden: this line has no TWILIO_AUTH_TOKEN configured.\n", 403,
                        mimetype="text/plain")
    if not signature_ok(token):
        log.warning("rejected a /voice request with a missing or wrong X-Twilio-Signature (path %s)",
                    path)
        return Response("Forbidden: missing or invalid X-Twilio-Signature.\n", 403, mimetype="text/plain")
    return None


def init_app(app: Flask) -> None:
    settings = app.extensions["ivr.settings"]
    if settings.insecure_dev_mode:
        log.warning(DEV_MODE_WARNING)
    elif not settings.auth_token:
        log.error("TWILIO_AUTH_TOKEN is not set: every call will be refused (403).")
    app.before_request(check_signature)
