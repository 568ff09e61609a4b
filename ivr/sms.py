"""Sending a text message, behind a small interface so tests use a fake and never the network."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    """Sends one text message; raises any exception when it could not."""

    def send(self, to: str, from_: str, body: str) -> None: ...


#: Seconds to connect to Twilio's API, and then to wait for its answer.
HTTP_TIMEOUT = 4.0
#: Seconds the caller waits for a send at the most, whatever hangs (even a name lookup): Twilio
#: gives a webhook 15 seconds, and the caller must hear the answer well before.
SEND_DEADLINE = 6.0
#: Sends run beside the request, so the deadline holds; a few at a time per process.
_SENDERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ivr-sms")


class TwilioSms:
    """Twilio's REST API (`messages.create`), from the line's own number, with timeouts."""

    def __init__(self, account_sid: str, auth_token: str, base_url: str | None = None):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        # Twilio's client logs each request, numbers included, at INFO: give it a logger of its
        # own that nothing listens to.
        quiet = logging.Logger("ivr.sms.twilio-http", level=logging.WARNING)
        http = TwilioHttpClient(timeout=HTTP_TIMEOUT, logger=quiet)
        self.client = Client(account_sid, auth_token, http_client=http)
        if base_url:  # tests point the client at a local server
            self.client.api.base_url = base_url

    def send(self, to: str, from_: str, body: str) -> None:
        self.client.messages.create(to=to, from_=from_, body=body)


class NoSms:
    """Used when no Twilio account is configured: every send fails, and the caller is told."""

    def send(self, to: str, from_: str, body: str) -> None:
        raise RuntimeError("no TWILIO_ACCOUNT_SID configured for text messages")


def send_quietly(sender: SmsSender, to: str, from_: str, body: str, deadline: float | None = None) -> bool:
    """Send once, waiting `deadline` seconds at the most; True if it went. The caller's number is
    used for this send only: it is never logged, and neither is the error text, which may quote it."""
    if not to or not from_:
        return False
    deadline = SEND_DEADLINE if deadline is None else deadline
    try:
        _SENDERS.submit(sender.send, to, from_, body).result(timeout=deadline)
    except FutureTimeout:
        log.warning("a text message could not be sent within %.0f seconds", deadline)
        return False
    except Exception as exc:  # noqa: BLE001 - any failure is told to the caller, never raised
        log.warning("a text message could not be sent (%s%s)", type(exc).__name__,
                    f", status {getattr(exc, 'status', '')}" if getattr(exc, "status", None) else "")
        return False
    log.info("a text message was sent")
    return True
