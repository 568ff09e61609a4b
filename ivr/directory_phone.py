"""Phone numbers from HSDS phones.csv: E.164 to dial, the extension kept to be read out, and which
numbers a caller can call at all (a text-only number is never read out as a number to call)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

#: HSDS phone `type` values (RFC 6350) kept for callers; fax, pager, video and textphone are not.
VOICE, CELL, TEXT = "voice", "cell", "text"
# A plain North American number, the bulk of any US export: read without the phonenumbers parser,
# which costs 30 microseconds a number (1.5 s on a 50,000-service export).
_NANP = re.compile(r"^\+?1?[\s.\-]*\(?([2-9]\d\d)\)?[\s.\-]*([2-9]\d\d)[\s.\-]*(\d{4})"
                   r"(?:\s*(?:x|ext\.?|extension|#)\s*(\d{1,10}))?$", re.IGNORECASE)
_EXTENSION = re.compile(r"^(?:x|ext\.?|extension)?\s*(\d{1,10})(?:\.0+)?$", re.IGNORECASE)


class PhoneError(ValueError):
    """A phones.csv value that cannot be dialled; the message says what is wrong."""


@dataclass(frozen=True)
class Phone:
    """A number a caller can use: `number` in E.164 (+12078748300, +441234234567)."""

    number: str
    extension: str = ""  # digits to dial once connected ("" for none)
    type: str = VOICE    # voice, cell or text

    @property
    def callable(self) -> bool:
        """False for a text-only number: it is offered for texts, never read as a number to call."""
        return self.type != TEXT

    @property
    def international(self) -> bool:
        """Outside the North American plan: a caller must dial it with its country code."""
        return not self.number.startswith("+1")

    @property
    def spoken_extension(self) -> str:
        """The extension digit by digit, as a voice should read it: "1 2 3"."""
        return " ".join(self.extension)

    def display(self) -> str:
        """For a text message: (207) 874-8300 ext. 123 at home, +44 1234 234567 abroad."""
        parsed = phonenumbers.parse(self.number, None)
        style = (phonenumbers.PhoneNumberFormat.INTERNATIONAL if self.international
                 else phonenumbers.PhoneNumberFormat.NATIONAL)
        text = phonenumbers.format_number(parsed, style)
        return f"{text} ext. {self.extension}" if self.extension else text


def phone_type(text: str) -> str | None:
    """The RFC 6350 type a phones.csv `type` means for a caller; None for numbers a voice caller
    cannot use (fax, pager, video, textphone/TTY). Unlisted words (main, hotline) are voice."""
    kind = text.strip().lower()
    if kind in ("", VOICE):
        return VOICE
    if any(word in kind for word in ("fax", "pager", "video", "textphone", "tty", "tdd")):
        return None
    if kind in ("cell", "mobile"):
        return CELL
    if "text" in kind or "sms" in kind:
        return TEXT
    return VOICE


def parse_phone(number: str, extension: str = "", kind: str = VOICE, region: str = "US") -> Phone:
    """The number in E.164 with its extension (the `extension` column, else one written in the
    number: "207-874-8300 x123"). Numbers without a country code are read as `region`'s."""
    text = number.strip().strip("\"'").strip()
    ext = ""
    if extension.strip():
        match = _EXTENSION.match(extension.strip())
        if not match:
            raise PhoneError(f"extension '{extension}' is not digits")
        ext = match.group(1)
    nanp = _NANP.match(text) if region in ("US", "CA") or text.startswith("+1") else None
    if nanp and _nanp_valid(nanp.group(1) + nanp.group(2) + nanp.group(3)):
        return Phone("+1" + nanp.group(1) + nanp.group(2) + nanp.group(3), ext or (nanp.group(4) or ""), kind)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"'{number}' is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError(f"'{number}' is not a valid phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164, ext or (parsed.extension or ""), kind)


_NANP_VALID: dict[str, bool] = {}


def _nanp_valid(digits: str) -> bool:
    """The phonenumbers verdict for a 10-digit North American number. Its rules depend on the area
    code and exchange only, so one verdict per first six digits serves every number sharing them."""
    verdict = _NANP_VALID.get(digits[:6])
    if verdict is None:
        parsed = phonenumbers.parse("+1" + digits, None)
        verdict = _NANP_VALID[digits[:6]] = phonenumbers.is_valid_number(parsed)
    return verdict
