"""Characters that must never reach a caller's TwiML: control characters (a TwiML document that
holds one does not parse, and Twilio plays its error message) and the like."""
from __future__ import annotations

import re
import unicodedata

#: Not allowed in XML 1.0, or not text at all: C0/C1 controls, surrogates, non-characters.
_UNSPEAKABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def first_control(text: str) -> str | None:
    """The first character of `text` that may not be spoken (as 'U+0007'), or None."""
    found = _UNSPEAKABLE.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "a control character")
    return f"U+{ord(char):04X} ({name.lower()})"


def without_controls(text: str) -> str:
    """`text` with every unspeakable character removed: for values from requests and data."""
    return _UNSPEAKABLE.sub("", text)
