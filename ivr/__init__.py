"""A phone referral line: YAML menus and gettext catalogs served to Twilio as TwiML."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import security, voice
from .served import LineHolder
from .settings import Settings
from .sms import NoSms, TwilioSms
from .stats import DEFAULT_URL, NoStatistics, Recorder, Statistics
from .texting import TextLimits
from .transfer_log import TransferLog

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def default_content_root() -> Path:
    """The folder holding menus/ and locales/: the working directory if it has them, else the repo."""
    cwd = Path.cwd()
    return cwd if (cwd / "menus").is_dir() else PACKAGE_ROOT


def statistics(settings: Settings, zone: str) -> Recorder:
    """The line's counters (nothing is connected or started here: see ivr.runtime)."""
    if not settings.statistics:
        return NoStatistics()
    # One secret for every host and worker, so a call's per-call key is the same wherever its
    # webhooks land; derived from the auth token unless set.
    seed = settings.stats_secret or ("ivr-statistics:" + (settings.auth_token or "development"))
    secret = hashlib.sha256(seed.encode("utf-8")).digest()
    return Statistics.from_url(settings.database_url or DEFAULT_URL, zone, secret,
                               threshold=settings.stats_threshold,
                               retention_months=settings.stats_retention_months)


def create_app(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the app from the environment and `config`. Only configures: no threads, no logging
    set-up, no process-wide state (see `ivr.runtime`). Raises SettingsError for a bad setting and
    FlowError (with every problem) if the content is broken."""
    settings = Settings.load(os.environ if environ is None else environ, config)
    app = Flask(__name__)
    app.config.from_mapping({k: v for k, v in (config or {}).items() if k.isupper()})
    app.extensions["ivr.settings"] = settings
    if settings.proxy_fix:
        # Twilio signs the public https URL; behind a proxy Flask must see that URL, not the inner one.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)  # type: ignore[method-assign]
    app.extensions["ivr"] = LineHolder(settings.content_root or default_content_root(), settings.production)
    app.extensions["ivr.transfers"] = TransferLog(settings.transfer_log)
    sender = (config or {}).get("SMS_SENDER")
    if sender is None:
        sender = (TwilioSms(settings.account_sid, settings.auth_token)
                  if settings.account_sid and settings.auth_token else NoSms())
    app.extensions["ivr.sms"] = sender
    app.extensions["ivr.texts"] = TextLimits()
    app.extensions["ivr.stats"] = statistics(settings, app.extensions["ivr"].current.line.flow.time_zone)
    # Werkzeug answers "//" in a path with a 308 redirect; Twilio must always get TwiML instead,
    # so such a URL is simply unknown, and unknown /voice URLs answer an apology and a menu.
    app.url_map.merge_slashes = False
    security.init_app(app)
    voice.init_app(app)
    if settings.console_users is not None:  # the staff console at /console, only when configured
        from . import console  # Flask-WTF and the console's pages: imported only by a line that has it

        console.init_app(app)
    return app
