"""Every setting of the line, read strictly in one place.

A setting comes from the environment (`IVR_…`, and Twilio's own `TWILIO_AUTH_TOKEN` and
`TWILIO_ACCOUNT_SID`) or from the mapping given to `create_app`. A value that does not parse stops
start-up with the variable's name: a typo must never switch a protection off (`IVR_INSECURE_DEV_MODE=
False` is false, `IVR_PROXY_FIX=no` is off, and `IVR_RELOAD_SECONDS=5s` is an error, not a crash).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from .phones import e164

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}
PREFIX = "IVR_"
#: Settings named by Twilio's conventions rather than ours.
TWILIO_NAMES = {"auth_token": "TWILIO_AUTH_TOKEN", "account_sid": "TWILIO_ACCOUNT_SID"}


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


def parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise SettingsError(f"{name}={value!r} is not a yes/no value: use one of 1, 0, true, false, yes, no, on, off")


def parse_seconds(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name}={value!r} is not a number of seconds (e.g. 5 or 0.5)") from None
    if not 0 <= number <= 86400 or number != number:
        raise SettingsError(f"{name}={value!r} must be from 0 to 86400 seconds")
    return number


def parse_text(name: str, value: Any) -> str:
    return str(value).strip()


def parse_path(name: str, value: Any) -> Path | None:
    text = str(value).strip()
    return Path(text) if text else None


def parse_phone_number(name: str, value: Any) -> str:
    """An E.164 number, like +12075550123 (empty: not set)."""
    text = str(value).strip()
    if not text:
        return ""
    if not e164(text):
        raise SettingsError(f"{name}={value!r} is not a phone number in E.164 form, like +12075550123")
    return text


def parse_public_url(name: str, value: Any) -> str:
    """The line's public base URL: https, a host, no query (empty: not set)."""
    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if text and (parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment):
        raise SettingsError(f"{name}={value!r} is not an https base URL, like https://line.example.org")
    return text


def parse_count(low: int, high: int) -> Callable[[str, Any], int]:
    def parse(name: str, value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise SettingsError(f"{name}={value!r} is not a whole number") from None
        if not low <= number <= high:
            raise SettingsError(f"{name}={value!r} must be from {low} to {high}")
        return number
    return parse


def parse_database_url(name: str, value: Any) -> str:
    text = str(value).strip()
    if text and not text.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        raise SettingsError(f"{name}={value!r} is not a database URL: sqlite:///path/file.sqlite3 or "
                            "postgresql://user:password@host/database")
    return text


def setting(parse: Callable[[str, Any], Any], default: Any, help: str) -> Any:
    return field(default=default, metadata={"parse": parse, "help": help})


@dataclass(frozen=True)
class Settings:
    """The line's configuration. Field `x` is read from `IVR_X` (or Twilio's name, see TWILIO_NAMES)."""

    content_root: Path | None = setting(parse_path, None, "serve another line's menus/ and locales/")
    auth_token: str = setting(parse_text, "", "secret that checks Twilio's signatures; without it, calls are refused")
    account_sid: str = setting(parse_text, "", "with the auth token, lets the line send a caller's list by text")
    insecure_dev_mode: bool = setting(parse_bool, False, "local development only: no signature checks, loud warnings")
    proxy_fix: bool = setting(parse_bool, False, "trust X-Forwarded-* from the reverse proxy in front")
    production: bool = setting(parse_bool, False, "refuse to start while any phone number is a placeholder")
    reload_seconds: float = setting(parse_seconds, 0.0, "reload the content when a file changes (0: never)")
    transfer_log: Path | None = setting(parse_path, None, "append how each transfer ended (JSON lines, no numbers)")
    statistics: bool = setting(parse_bool, True, "count what callers need (counts only, never who called)")
    database_url: str = setting(parse_database_url, "", "where the counts are kept: sqlite:///path or "
                                "postgresql://... (default: ivr-stats.sqlite3 in the working directory)")
    stats_threshold: int = setting(parse_count(3, 100), 5, "counts under this are shown as '<N' in reports")
    stats_retention_months: int = setting(parse_count(1, 600), 24, "counts older than this are deleted")
    stats_secret: str = setting(parse_text, "", "the key that makes a call's per-call state unlinkable to "
                                "Twilio's call id (default: derived from TWILIO_AUTH_TOKEN)")
    line_number: str = setting(parse_phone_number, "", "the line's own Twilio number (E.164): the caller ID "
                               "helpers see and the sender of texts")
    public_url: str = setting(parse_public_url, "", "the line's public https base URL, as Twilio calls it "
                              "(ivr check, ivr twilio connect)")
    console_users: Path | None = setting(parse_path, None, "the staff console's logins, written by `ivr console "
                                         "add-user` (unset: no console at /console)")

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable of field `name`."""
        return TWILIO_NAMES.get(name, PREFIX + name.upper())

    @classmethod
    def load(cls, environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> "Settings":
        """Read the environment, then `overrides` (keyed by field name in capitals, as Flask's
        config is: `{"RELOAD_SECONDS": 5}`). Raises SettingsError naming the bad variable."""
        known = {f.name: f for f in fields(cls)}
        by_variable = {cls.variable(name): name for name in known}
        for variable in environ:
            if variable.startswith(PREFIX) and variable not in by_variable:
                guess = difflib.get_close_matches(variable, by_variable, n=1)
                hint = f"; did you mean {guess[0]}?" if guess else ""
                raise SettingsError(f"{variable} is not a setting of this line{hint}")
        values: dict[str, Any] = {}
        for variable, name in by_variable.items():
            if variable in environ:
                values[name] = known[name].metadata["parse"](variable, environ[variable])
        for key, value in (overrides or {}).items():
            name = by_variable.get(key, key.lower())
            if name in known:
                values[name] = known[name].metadata["parse"](cls.variable(name), value)
        return cls(**values)

    @classmethod
    def describe(cls) -> list[tuple[str, str]]:
        """(variable, what it does) for every setting, for help texts and the README."""
        return [(cls.variable(f.name), f.metadata["help"]) for f in fields(cls)]
