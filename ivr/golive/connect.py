"""`ivr twilio connect`: point a Twilio number at the line, through Twilio's REST API.

Sets the number's voice URL (POST), its call status callback and its fallback URL. Nothing is
switched until the line's URL has answered a signed test request with this line's own TwiML, so a
typo, a server that is down or one serving other content never takes the number.
"""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .. import twiml
from ..kinds import KINDS
from ..line import Line
from ..navigator import Given, Navigator
from ..urls import START, CallState
from .check import CheckFailed, LiveLine

#: Where the line answers calls and hears how calls ended (the lead's statistics route).
VOICE_PATH = "/voice"
CALL_STATUS_PATH = "/voice/call-status"
#: Seconds to connect to Twilio's API, and then to wait for its answer.
API_TIMEOUT = 15.0
#: The Twilio library's HTTP client; tests put a fake of Twilio's API here, and nothing else changes.
http_client: HttpClient | None = None


class ConnectError(Exception):
    """Why the number was not connected; nothing was changed."""


def twilio_client(account_sid: str, token: str) -> Client:
    # Twilio's client logs each request at INFO, numbers included: a logger nothing listens to.
    quiet = logging.Logger("ivr.golive.twilio-http", level=logging.WARNING)
    return Client(account_sid, token, http_client=http_client or TwilioHttpClient(timeout=API_TIMEOUT, logger=quiet))


def expected_start(line: Line) -> str:
    """The TwiML this line answers a new call with (the start node does not depend on the hour)."""
    return twiml.render(Navigator(line, KINDS).navigate(CallState(START), Given()))


def answers_as(live: LiveLine, line: Line) -> None:
    """Raise ConnectError unless the live line answers a signed new call with `line`'s TwiML."""
    try:
        answer = live.post(VOICE_PATH)
    except CheckFailed as exc:
        raise ConnectError(f"{live.base_url} did not answer: {exc}") from None
    if answer.status != 200:
        hint = " (is TWILIO_AUTH_TOKEN the server's, and IVR_PROXY_FIX=1 behind the proxy?)" if answer.status == 403 else ""
        raise ConnectError(f"{live.base_url}{VOICE_PATH} answered a signed test call with HTTP {answer.status}{hint}")
    try:
        same = ET.canonicalize(answer.body.decode()) == ET.canonicalize(expected_start(line))
    except ET.ParseError:
        same = False
    if not same:
        raise ConnectError(f"{live.base_url}{VOICE_PATH} does not answer with this line's TwiML (another line, "
                           "or other content than this checkout's: deploy it, or run from the server's checkout)")


@dataclass(frozen=True)
class Setting:
    """One field of the number: what it is and what connecting makes it."""

    label: str
    field: str  # the API's parameter name (the twilio library's keyword)
    old: str
    new: str

    @property
    def changes(self) -> bool:
        return self.old != self.new


def plan(number, base_url: str, fallback_url: str | None, fallback_method: str) -> list[Setting]:
    """Every field connecting `number` (an IncomingPhoneNumberInstance) sets, with its value now."""
    wanted = [("voice URL", "voice_url", base_url + VOICE_PATH), ("voice method", "voice_method", "POST"),
              ("status callback", "status_callback", base_url + CALL_STATUS_PATH),
              ("status callback method", "status_callback_method", "POST")]
    if fallback_url is not None:
        wanted += [("fallback URL", "voice_fallback_url", fallback_url),
                   ("fallback method", "voice_fallback_method", fallback_method)]
    if number.voice_application_sid:  # Twilio ignores the voice URL while a TwiML app is set
        wanted.append(("TwiML app (overrides the voice URL)", "voice_application_sid", ""))
    return [Setting(label, name, getattr(number, name) or "", new) for label, name, new in wanted]


def find_number(client: Client, phone_number: str):
    """The account's number `phone_number`, or ConnectError."""
    found = client.incoming_phone_numbers.list(phone_number=phone_number, limit=2)
    exact = [n for n in found if n.phone_number == phone_number]
    if not exact:
        raise ConnectError(f"{phone_number} is not a number of account {client.account_sid}")
    return exact[0]


def apply(client: Client, number, settings: list[Setting]) -> None:
    """Set every field at once, the unchanged ones too: the number ends exactly as planned."""
    client.incoming_phone_numbers(number.sid).update(**{setting.field: setting.new for setting in settings})
