"""Only Twilio may drive the line: every /voice request must carry a valid X-Twilio-Signature.

The check is cheap for whoever fails it: a missing or malformed signature is refused before the
body is read, a body over `MAX_BODY` is refused unread (413), and only then are the form fields
parsed and signed. A request that has not passed the check is never answered with TwiML: every
refusal is a 403 or 413 (see `voice.handle_error`).
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import threading
import time
from typing import Iterator

from flask import Flask, Response, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

log = logging.getLogger(__name__)

DEV_MODE_WARNING = ("INSECURE DEVELOPMENT MODE: Twilio signatures are NOT checked. Anyone who can "
                    "reach this server can drive the line. Never use this on a public address.")
#: Twilio's voice webhooks and status callbacks carry a few kB of fields; anything much bigger is
#: not Twilio, and is refused before it is read.
MAX_BODY = 16 * 1024
#: What X-Twilio-Signature looks like when signed with an account's auth token: the base64 of an
#: HMAC-SHA1 (20 bytes). Anything else is refused without reading the request's body.
SIGNATURE_FORM = re.compile(r"^[A-Za-z0-9+/]{27}=$")
#: Where a request that passed the check is marked, for the error handler and the handlers.
SIGNED_KEY = "ivr.signed"
#: Where the request's Twilio fields are kept once read, for the handlers.
FIELDS_KEY = "ivr.twilio_fields"


def called_urls() -> Iterator[str]:
    """The URL Twilio called, as it wrote it: first the path and query exactly as they arrived
    (the server's RAW_URI) on the request's scheme and host (behind ProxyFix, the forwarded
    ones), read straight from the environ; then Werkzeug's `request.url`, which re-quotes; then
    its base URL with the query as it arrived. All describe this one request. Lazily, cheapest
    first: nearly every request matches the first, and `request.url` alone costs a tenth of the
    line's own work on a keypress."""
    environ = request.environ
    raw, host = environ.get("RAW_URI") or environ.get("REQUEST_URI"), environ.get("HTTP_HOST")
    tried = ""
    if raw and host:
        tried = f"{environ['wsgi.url_scheme']}://{host}{environ.get('SCRIPT_NAME', '')}{raw}"
        yield tried
    url = request.url
    if url != tried:
        yield url
    if request.query_string:
        as_sent = f"{request.base_url}?{request.query_string.decode('latin-1')}"
        if as_sent not in (url, tried):
            yield as_sent


def signed_params() -> MultiDict:
    """The fields Twilio signed: every value of every form field of a POST (a field may repeat,
    and Twilio signs each of its values), none for a GET (the query is part of the URL)."""
    return request.form if request.method == "POST" else MultiDict()


def twilio_fields() -> dict[str, str]:
    """The fields Twilio sent, one value each: the form of a POST, the query of a GET."""
    return (request.form if request.method == "POST" else request.args).to_dict(flat=True)


def signature_ok(token: str, signature: str) -> bool:
    """Check the request against the URL Twilio called (query included) and its form fields."""
    params = signed_params()
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


def printable(text: str) -> str:
    """`text` safe to log: control characters (a forged newline, say) shown escaped."""
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def is_loopback(host: str) -> bool:
    """`host` is an IP address of this machine's loopback (127.0.0.0/8, ::1); a name is not."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_client() -> bool:
    """The request comes from this machine (the address the server saw, not X-Forwarded-For)."""
    orig = request.environ.get("werkzeug.proxy_fix.orig", {})
    address = orig.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR", "")
    return is_loopback(address.split("%")[0])


class RefusalLog:
    """Logs refused requests, at most one line a minute with a count of the others: a flood of
    forged requests must not flood the logs (or fill the disk) too."""

    def __init__(self, every: float = 60.0):
        self.every, self.quiet, self.next_at = every, 0, 0.0
        self._lock = threading.Lock()

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self.next_at:
                self.quiet += 1
                return
            quiet, self.quiet, self.next_at = self.quiet, 0, now + self.every
        if quiet:
            message += f" (and {quiet} more refused since the last such line)"
        log.warning(message, *args)


def refused(message: str, *args: object) -> None:
    current_app.extensions["ivr.refusals"].warn(message, *args)


def forbidden(reason: str) -> Response:
    return Response(f"Forbidden: {reason}.\n", 403, mimetype="text/plain")


def check_signature() -> Response | None:
    """before_request hook for /voice: 403 unless signed (or in the explicit development mode)."""
    path = request.path
    if not (path == "/voice" or path.startswith("/voice/")):
        return None
    settings = current_app.extensions["ivr.settings"]
    if settings.insecure_dev_mode:
        if not loopback_client():
            refused("development mode refused a request from another machine (path %s)", printable(path))
            return forbidden("the development mode answers this machine only")
        log.warning(DEV_MODE_WARNING)
        request.environ[SIGNED_KEY] = True
        return None
    token = settings.auth_token
    if not token:
        log.error("refusing a call: TWILIO_AUTH_TOKEN is not set (set it, or start the local "
                  "development mode that says it is unprotected)")
        return forbidden("this line has no TWILIO_AUTH_TOKEN configured")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not SIGNATURE_FORM.match(signature):
        refused("rejected a /voice request with a missing or malformed X-Twilio-Signature (path %s)",
                printable(path))
        return forbidden("missing or invalid X-Twilio-Signature")
    # Reading the form may raise 413 (over MAX_BODY): the error handler answers it as it is.
    if not signature_ok(token, signature):
        refused("rejected a /voice request with a wrong X-Twilio-Signature (path %s)", printable(path))
        return forbidden("missing or invalid X-Twilio-Signature")
    request.environ[SIGNED_KEY] = True
    request.environ[FIELDS_KEY] = twilio_fields()
    return None


def init_app(app: Flask) -> None:
    settings = app.extensions["ivr.settings"]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["ivr.refusals"] = RefusalLog()
    if settings.insecure_dev_mode:
        log.warning(DEV_MODE_WARNING)
    elif not settings.auth_token:
        log.error("TWILIO_AUTH_TOKEN is not set: every call will be refused (403).")
    app.before_request(check_signature)
