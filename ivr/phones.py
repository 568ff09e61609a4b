"""Phone numbers from requests, checked before the line uses them for anything."""
from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

#: Number types that can receive a text message (in North America a number is usually
#: "fixed line or mobile": phonenumbers cannot tell them apart, and carriers text both).
TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.VOIP}


@lru_cache(maxsize=256)
def line_e164(text: str) -> str:
    """`e164` of the number a call was made to (Twilio's `To`): the line's own numbers, a handful,
    so remembered (never a caller's number: those are checked afresh, and only when needed)."""
    return e164(text)


def _valid(text: str) -> phonenumbers.PhoneNumber | None:
    """`text` parsed, if it is a valid phone number written in E.164 form (a leading +)."""
    if not text.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def e164(text: str) -> str:
    """`text` if it is a valid phone number in E.164 form (+12075550123), else "". A call that
    arrives by SIP or Twilio Client has `sip:…` or `client:…` here, which is no phone number."""
    number = _valid(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else ""


@lru_cache(maxsize=256)
def region_of(line: str) -> str | None:
    """The country of the line's own number (a valid E.164 number), like "US": a handful of
    numbers, so remembered (a caller's number is never passed here)."""
    number = _valid(line)
    return phonenumbers.region_code_for_number(number) if number else None


def textable(caller: str, region: str | None) -> str:
    """The caller's number if the line may text it: a valid number of the line's own country that
    can receive texts. Never an anonymous, restricted, SIP or client caller, nor a foreign one.
    (Parsed once: nothing of it is remembered.)"""
    number = _valid(caller)
    if number is None or region is None or phonenumbers.region_code_for_number(number) != region:
        return ""
    if phonenumbers.number_type(number) not in TEXTABLE:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
