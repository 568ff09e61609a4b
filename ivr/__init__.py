"""A phone referral line: YAML menus and gettext catalogs served to Twilio as TwiML."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import security, voice
from .sms import NoSms, TwilioSms
from .state import LineState

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def default_content_root() -> Path:
    """The folder holding menus/ and locales/: the working directory if it has them, else the repo."""
    cwd = Path.cwd()
    return cwd if (cwd / "menus").is_dir() else PACKAGE_ROOT


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. Raises FlowError (with every problem) if the content is broken."""
    app = Flask(__name__)
    app.config.from_mapping(
        CONTENT_ROOT=str(default_content_root()),
        TWILIO_AUTH_TOKEN=os.environ.get("TWILIO_AUTH_TOKEN", ""),
        INSECURE_DEV_MODE=False,  # IVR_INSECURE_DEV_MODE=1: skip signature checks, loudly
        PROXY_FIX=False,  # IVR_PROXY_FIX=1 behind a reverse proxy that sets X-Forwarded-*
        PRODUCTION=False,  # IVR_PRODUCTION=1: placeholder numbers stop the line from starting
        TRANSFER_LOG="",  # IVR_TRANSFER_LOG=/path/transfers.jsonl: how each transfer ended
        RELOAD_SECONDS=0,  # IVR_RELOAD_SECONDS=5: reload the content when a file changes
    )
    app.config.from_prefixed_env("IVR")
    if config:
        app.config.update(config)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if app.config["PROXY_FIX"]:
        # Twilio signs the public https URL; behind a proxy Flask must see that URL, not the inner one.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    state = LineState(Path(app.config["CONTENT_ROOT"]), bool(app.config["PRODUCTION"]),
                      app.config["TRANSFER_LOG"] or None, float(app.config["RELOAD_SECONDS"]))
    app.extensions["ivr"] = state
    # Twilio's HTTP client logs each API request at INFO, numbers included: keep it quieter.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    account = os.environ.get("TWILIO_ACCOUNT_SID", "")
    token = app.config["TWILIO_AUTH_TOKEN"]
    app.extensions["ivr_sms"] = app.config.get("SMS_SENDER") or (
        TwilioSms(account, token) if account and token else NoSms())
    # Werkzeug answers "//" in a path with a 308 redirect; Twilio must always get TwiML instead,
    # so such a URL is simply unknown, and unknown /voice URLs answer an apology and a menu.
    app.url_map.merge_slashes = False
    security.init_app(app)
    voice.init_app(app)
    return app
