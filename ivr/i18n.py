"""Languages: gettext catalogs, Twilio voices, recorded prompts and spoken numbers. No Flask here."""
from __future__ import annotations

import gettext
import hashlib
import io
import json
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import phonenumbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

VOICES_FILE = Path(__file__).with_name("data") / "twilio-tts-voices.json"
AUDIO_SUFFIXES = (".mp3", ".wav")


@dataclass(frozen=True)
class Voices:
    """The text-to-speech voices Twilio's <Say> really has, by language."""

    by_language: Mapping[str, frozenset[str]]

    @classmethod
    def load(cls, path: Path = VOICES_FILE) -> "Voices":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({lang: frozenset(v) for lang, v in data["voices_by_language"].items()})

    def has(self, language: str, voice: str) -> bool:
        return voice in self.by_language.get(language, ())


@lru_cache(maxsize=1)
def voices() -> Voices:
    return Voices.load()


def say_limit(voice: str | None) -> int:
    """Bytes of text one <Say> accepts with this voice (Twilio error 13521)."""
    if voice and voice.startswith("Polly."):
        return 3000
    if voice and voice.startswith("Google."):
        return 5000
    return 4096


def catalog_path(root: Path, code: str) -> Path:
    return root / "locales" / code / "LC_MESSAGES" / "messages.po"


def catalog_files(root: Path) -> list[Path]:
    """Every language's catalog under `root`, listed or not, in order."""
    return sorted(root.glob("locales/*/LC_MESSAGES/messages.po"))


class CatalogError(Exception):
    """A catalog that cannot be read at all; `line` is where the trouble starts."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


def load_catalog(root: Path, code: str) -> Mapping[str, str] | None:
    """A language's finished translations (msgid -> msgstr), read from its .po file directly, so a
    saved edit needs no compile step to be heard. Fuzzy and empty entries are left out. None if
    the language has no catalog; CatalogError if it cannot be read (not UTF-8, say).

    Parsing a large .po takes babel a while, so the result is also kept compiled beside it, named
    by a hash of the .po's bytes (`.messages.<hash>.mo`, ignored by git): an unchanged file is
    read back from there, and any change, however its date was set, is parsed afresh. The cache
    is written whole or not at all, and a cache that cannot be read is ignored.
    """
    path = catalog_path(root, code)
    if not path.exists():
        return None
    data = path.read_bytes()
    cached = path.with_name(f".messages.{hashlib.sha1(data).hexdigest()[:16]}.mo")
    try:
        with cached.open("rb") as handle:
            return _finished(gettext.GNUTranslations(handle)._catalog)
    except Exception:  # noqa: BLE001 - not compiled yet, or cut short: parse the .po instead
        pass
    catalog = _parse(data, code)
    try:
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with partial.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        os.replace(partial, cached)  # another worker reading it sees the whole file or none
        for old in path.parent.glob(".messages.*.mo"):
            if old != cached:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only content folder: parse the .po each time
    return {m.id: m.string for m in catalog
            if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy}


def _parse(data: bytes, code: str):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CatalogError(line, f"is not saved as UTF-8 (byte 0x{data[exc.start]:02x} here): open it "
                                 "in Poedit, or save it as UTF-8 in your editor") from None
    try:
        return read_po(io.BytesIO(data), locale=code)
    except Exception as exc:  # noqa: BLE001 - babel's own errors, whatever they are, located
        raise CatalogError(getattr(exc, "lineno", 1) or 1, f"cannot be read: {exc}") from None


@dataclass(frozen=True)
class Entry:
    """One entry of a catalog, where a translator finds it."""

    line: int
    string: str
    fuzzy: bool


def catalog_entries(root: Path, code: str) -> dict[str, Entry]:
    """Every entry of a language's catalog with its line: for telling a translator where to look."""
    path = catalog_path(root, code)
    try:
        catalog = _parse(path.read_bytes(), code)
    except (OSError, CatalogError):
        return {}
    return {m.id: Entry(m.lineno or 1, m.string if isinstance(m.string, str) else "", m.fuzzy)
            for m in catalog if m.id and isinstance(m.id, str)}


def _finished(messages: Mapping) -> dict[str, str]:
    return {k: v for k, v in messages.items() if isinstance(k, str) and k and v}


def translation(catalog: Mapping[str, str] | None, msgid: str) -> str | None:
    """The finished translation of `msgid`, or None."""
    return catalog.get(msgid) if catalog is not None else None


def spoken_number(number: str) -> str:
    """Write a phone number so any voice reads it digit by digit, in groups: '8 6 6, 8 1 1, 5 6 9 5'.
    A number of another country is read as it is dialled from the US: '0 1 1, 4 4, 2 0, ...'."""
    if number.startswith("+") and not number.startswith("+1"):
        try:
            dialled = phonenumbers.format_out_of_country_calling_number(phonenumbers.parse(number, None), "US")
        except phonenumbers.NumberParseException:
            dialled = number
        return ", ".join(" ".join(group) for group in re.findall(r"\d+", dialled))
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits]
    return ", ".join(" ".join(group) for group in groups)


def audio_name(spoken_english: str) -> str:
    """The file name a recording of this prompt must have.

    Named by a few words and a hash of the English it records, so a changed prompt (or a changed
    phone number in it) asks for a new recording instead of playing a stale one.
    """
    slug = "-".join(re.findall(r"[a-z0-9]+", spoken_english.lower())[:6]) or "prompt"
    digest = hashlib.sha1(spoken_english.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def find_audio(root: Path, code: str, name: str) -> str | None:
    """The recording's file name under locales/<code>/audio/, if it exists."""
    folder = root / "locales" / code / "audio"
    for suffix in AUDIO_SUFFIXES:
        if (folder / (name + suffix)).is_file():
            return name + suffix
    return None
