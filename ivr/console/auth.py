"""Logging in and out, and what every console page checks: a valid login, a CSRF token on every form
(Flask-WTF's CSRFProtect), a limit on failed logins, and headers that keep pages out of caches and
frames."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque

from flask import (Response, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_wtf.csrf import CSRFError

from . import SESSION_HOURS, bp, csrf, users

log = logging.getLogger(__name__)
#: Pages anyone may open: the login form, and the style sheet and script it uses.
PUBLIC = {"console.login", "console.static"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")


class LoginThrottle:
    """Failed logins, counted per name and per address in this process: after `limit` failures
    within `window` seconds, that name (or address) must wait until the oldest is `window` old.
    (Each worker counts its own: with two workers an attacker gets twice the tries, still few.)
    Keyed by what a request sends, so bounded: at most `max_keys` names and addresses are held,
    the expired ones dropped first, then the oldest."""

    def __init__(self, limit: int = 5, window: float = 900.0, clock=time.monotonic, max_keys: int = 10_000):
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        return failures

    def _add(self, key: tuple[str, str]) -> None:
        failures = self._recent(key)
        failures.append(self.clock())
        self._failures.pop(key, None)
        self._failures[key] = failures  # the newest last: the oldest go first when full
        if len(self._failures) > self.max_keys:
            for old in [k for k in self._failures if not self._recent(k)]:
                del self._failures[old]
            while len(self._failures) > self.max_keys:
                del self._failures[next(iter(self._failures))]

    def wait(self, name: str, address: str) -> float:
        """Seconds until `name` from `address` may try again (0: now)."""
        with self._lock:
            waits = [failures[0] + self.window - self.clock()
                     for failures in (self._recent(("name", name.lower())), self._recent(("address", address)))
                     if len(failures) >= self.limit]
        return max(waits, default=0.0)

    def failed(self, name: str, address: str) -> None:
        with self._lock:
            for key in (("name", name.lower()), ("address", address)):
                self._add(key)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name.lower()), None)


#: Where init_app keeps the app's LoginThrottle.
THROTTLE = "ivr.console.throttle"


def throttle() -> LoginThrottle:
    return current_app.extensions[THROTTLE]


def staff() -> users.Users | None:
    """The users file, read afresh (a removed user is out at once); None, logged, if it is unreadable."""
    try:
        return users.read(current_app.extensions["ivr.settings"].console_users)
    except users.UsersFileError as exc:
        log.error("console login refused: %s", exc)
        return None


def current_user() -> str | None:
    """The logged-in staff member: a session that is not too old, for a user whose password has
    not changed since (the users file is read afresh: a removed user is out at once)."""
    name = session.get("user")
    if not name or time.time() - session.get("at", 0) > SESSION_HOURS * 3600:
        return None
    found = staff()
    return name if found is not None and found.stamp(name) == session.get("stamp") else None


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.before_request
def guard() -> Response | None:
    """Every form carries a CSRF token; every page but the login form needs a login."""
    if request.method not in SAFE_METHODS:
        csrf.protect()
    if request.endpoint in PUBLIC:
        return None
    g.user = current_user()
    if g.user is None:
        if wants_json():
            return jsonify(error="Your login has ended: log in again."), 401
        return redirect(url_for("console.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    return None


@bp.after_request
def headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    message = ("This form was open for too long, or did not come from this console. "
               "Go back, reload the page, and try again.")
    if wants_json():
        return jsonify(error=message), 400
    return render_template("console/error.html", title="Please try again", message=message), 400


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a console page only, never another site."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return url_for("console.health")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("console/login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or ""
    waiting = throttle().wait(name, address)
    if waiting:
        minutes = max(1, round(waiting / 60))
        flash(f"Too many failed logins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.", "error")
        return render_template("console/login.html", next=request.form.get("next", ""), name=name), 429
    found = staff()
    if found is None or not found.check(name, password):
        throttle().failed(name, address)
        log.warning("a console login failed")  # no name, no address: nothing to collect from logs
        flash("That name and password do not match.", "error")
        return render_template("console/login.html", next=request.form.get("next", ""), name=name), 401
    throttle().succeeded(name)
    session.clear()
    session.update(user=name, stamp=found.stamp(name), at=time.time())
    log.info("a staff member logged in to the console")
    return redirect(safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("console.login"))
