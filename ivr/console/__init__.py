"""The staff console at /console: see, hear and check the line in a browser.

Its own blueprint, on only when IVR_CONSOLE_USERS names a users file (`ivr console add-user`), and
every page behind a login. It reads the served line and the files on disk, and rehearses calls
through the line's own webhooks (ivr.console.rehearsal); the webhooks and their signature check
are the voice blueprint's, untouched. The README's "The staff console" says what each page does.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from . import users

log = logging.getLogger(__name__)
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")
csrf = CSRFProtect()
#: Hours a login lasts, then the staff member logs in again.
SESSION_HOURS = 12


def init_app(app: Flask) -> bool:
    """Register the console if a users file is configured and readable; True if it was. A missing
    or broken file leaves the console off (logged), never the line: calls come first."""
    path = app.extensions["ivr.settings"].console_users
    if path is None:
        return False
    try:
        secret = users.read(path).secret
    except users.UsersFileError as exc:
        log.error("the staff console is off: %s", exc)
        return False
    # The file's secret signs the session cookies: every worker and host reading it shares them.
    app.secret_key = secret
    app.config.update(
        SESSION_COOKIE_NAME="ivr_console",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Browsers keep Secure cookies over https, and over http only from this machine (loopback).
        SESSION_COOKIE_SECURE=True,
        # CSRF tokens are checked by the console's own hook (auth.py), so no other blueprint (the
        # Twilio webhooks above all) is touched; a token lasts as long as a login.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    csrf.init_app(app)
    app.extensions[auth.THROTTLE] = auth.LoginThrottle()
    app.register_blueprint(bp)
    return True


from . import auth, pages, phone  # noqa: E402,F401 - the views, registered on bp
