"""Sending a text message, behind a small interface so tests use a fake and never the network."""
from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    """Sends one text message; raises any exception when it could not."""

    def send(self, to: str, from_: str, body: str) -> None: ...


class TwilioSms:
    """Twilio's REST API (`messages.create`), from the line's own number."""

    def __init__(self, account_sid: str, auth_token: str):
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token)

    def send(self, to: str, from_: str, body: str) -> None:
        self.client.messages.create(to=to, from_=from_, body=body)


class NoSms:
    """Used when no Twilio account is configured: every send fails, and the caller is told."""

    def send(self, to: str, from_: str, body: str) -> None:
        raise RuntimeError("no TWILIO_ACCOUNT_SID configured for text messages")


def send_quietly(sender: SmsSender, to: str, from_: str, body: str) -> bool:
    """Send once; True if it went. The caller's number is used for this send only: it is never
    logged, and neither is the error text, which may quote it."""
    if not to or not from_:
        return False
    try:
        sender.send(to, from_, body)
    except Exception as exc:  # noqa: BLE001 - any failure is told to the caller, never raised
        log.warning("a text message could not be sent (%s%s)", type(exc).__name__,
                    f", status {getattr(exc, 'status', '')}" if getattr(exc, "status", None) else "")
        return False
    log.info("a text message was sent")
    return True
