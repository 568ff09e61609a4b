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


def e164(text: str) -> str:
    """`text` if it is a valid phone number in E.164 form (+12075550123), else "". A call that
    arrives by SIP or Twilio Client has `sip:…` or `client:…` here, which is no phone number."""
    if not text.startswith("+"):
        return ""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(number: str) -> str | None:
    """The country of a valid E.164 number, like "US"."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) if e164(number) else None


def textable(caller: str, region: str | None) -> str:
    """The caller's number if the line may text it: a valid number of the line's own country that
    can receive texts. Never an anonymous, restricted, SIP or client caller, nor a foreign one."""
    number = e164(caller)
    if not number or region is None or region_of(number) != region:
        return ""
    if phonenumbers.number_type(phonenumbers.parse(number, None)) not in TEXTABLE:
        return ""
    return number
