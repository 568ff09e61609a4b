"""The call flow as immutable data: what the loader builds and every other module reads."""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Mapping

from .hours import HolidayCalendar, Hours
from .problems import Where

#: What a node's, a destination's, a language's or a search kind's id may be: short, no spaces.
#: It travels in URLs and is counted in statistics (ivr.stats.events checks events against it).
ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")

#: The names of the node kinds; what each kind is and does is declared in `ivr.kinds`.
MENU, MESSAGE, LANGUAGE, TRANSFER, GOODBYE = "menu", "message", "language", "transfer", "goodbye"
DIRECTORY = "directory"  # find services of one kind near a ZIP code or in a county

#: Actions a key that works in every menu may have.
PERSON, REPEAT, BACK = "person", "repeat", "back"
GLOBAL_ACTIONS = (PERSON, REPEAT, BACK)

KEYPAD = frozenset("0123456789*#")


@dataclass(frozen=True)
class Text:
    """A prompt written in English; the English is the gettext msgid.

    `{name}` placeholders stand for destinations and are spoken as their phone numbers.
    """

    source: str
    where: Where

    @cached_property
    def placeholders(self) -> frozenset[str]:
        return placeholders_of(self.source)

    @cached_property
    def only_numbers(self) -> bool:
        """True for a prompt that is nothing but placeholders: there is nothing to translate."""
        return not string.Formatter().vformat(self.source, (), _Blank()).strip(" ,.")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def placeholders_of(text: str) -> frozenset[str]:
    """The `{name}` fields of a prompt (empty if the braces do not parse)."""
    if "{" not in text:
        return frozenset()
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError:
        return frozenset()


@dataclass(frozen=True)
class Language:
    code: str  # gettext locale code, e.g. "pt_BR"; also the value of `lang` in URLs
    key: str  # the key that chooses it in the language menu
    name: str  # the language's name in itself
    choose: Text  # "Para español, oprima 2." written in the language itself, never translated
    say_language: str | None  # Twilio <Say language=…>, e.g. "es-US"
    voice: str | None  # Twilio <Say voice=…>, e.g. "Polly.Lupe-Neural"
    audio: bool  # prompts are recordings played with <Play> instead of text-to-speech
    where: Where
    optional: bool = False  # while incomplete, left out of the menu (with a warning) instead of stopping the line


@dataclass(frozen=True)
class GlobalKey:
    key: str
    action: str  # one of GLOBAL_ACTIONS
    say: Text


@dataclass(frozen=True)
class Option:
    key: str
    say: Text
    goto: str
    where: Where


@dataclass(frozen=True)
class Destination:
    """A person or service the line can connect a caller to, or read out."""

    id: str
    name: Text  # spoken, so translatable: "2-1-1 Maine"
    number: str | None  # E.164 number the line dials; None for numbers it must never dial
    call: str  # what a caller dials themselves, spoken digit by digit: "211", "+18668115695"
    source: str
    status: str  # firm | verify | configure | placeholder
    where: Where
    next: str | None = None  # the destination to try when this one does not answer
    hours: Hours | None = None  # None: always open
    languages: tuple[str, ...] = ()  # languages the helpers there speak
    pass_caller_id: bool = False  # show the helper the caller's number (off: the line's own)
    whisper: bool = False  # the helper hears who is calling and presses 1 to accept
    answered_by: str = ""  # "person" or "service" (a call centre or hotline: never whispered to)

    @property
    def placeholder(self) -> bool:
        return self.status == "placeholder"

    @property
    def number_text(self) -> Text:
        """The number alone as a prompt: nothing to translate, but recorded for audio languages."""
        return Text("{%s}" % self.id, self.where)


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    say: tuple[Text, ...]
    where: Where
    options: Mapping[str, Option] = field(default_factory=lambda: MappingProxyType({}))
    next: str | None = None  # message, language
    to: str | None = None  # transfer: destination id
    languages: tuple[str, ...] = ()  # spoken in these languages before one is chosen
    timeout: int = 6  # seconds a menu waits for a key
    patient: bool = False  # silence repeats the menu and never counts as a miss (paced steps)
    back: str | None = None  # where the back key leads; filled in when the flow is linked
    service_codes: tuple[str, ...] = ()  # directory: taxonomy codes (or their parents) of the services it finds
    title: str | None = None  # a menu's name in plain words, for helpers and staff (not spoken to callers)

    @property
    def targets(self) -> tuple[str, ...]:
        """Nodes this one leads to by its own content (not the keys that work everywhere)."""
        found = [o.goto for o in self.options.values()]
        if self.next:
            found.append(self.next)
        return tuple(found)


@dataclass(frozen=True)
class AreaOption:
    """One key of the county menu: a county, or a group of counties (a district) to choose from."""

    key: str
    say: Text
    county: str | None = None
    options: Mapping[str, "AreaOption"] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class DirectorySettings:
    """The `line.directory` section: where the data is and how callers say where they are."""

    folder: str  # HSDS CSV folder, relative to the content root
    us_state: str  # two-letter US state: ZIP codes elsewhere are "outside our area"
    areas: Mapping[str, AreaOption]  # for callers who choose a county instead of a ZIP code

    def area_texts(self) -> list[Text]:
        found: list[Text] = []
        stack = list(self.areas.values())
        while stack:
            option = stack.pop(0)
            found.append(option.say)
            stack.extend(option.options.values())
        return found

    def area_level(self, path: str) -> Mapping[str, AreaOption] | None:
        """The options after pressing the keys in `path` ('' is the top); None if no such level."""
        level = self.areas
        for key in path:
            option = level.get(key)
            if option is None or not option.options:
                return None
            level = option.options
        return level


@dataclass(frozen=True)
class LanguageCheck:
    """Said before a transfer to a destination that does not list the caller's language."""

    say: tuple[Text, ...]
    options: Mapping[str, Option]  # goto: a node, or "connect" to go on with the transfer
    where: Where


@dataclass(frozen=True)
class Flow:
    """A whole line: validated and linked, never changed after loading."""

    name: str
    start: str
    person: str  # node the person key and repeated misses lead to
    goodbye: str | None
    default_language: str
    languages: Mapping[str, Language]  # available ones only, in menu order
    pending_languages: Mapping[str, Language]  # configured but not yet complete (recordings)
    keys: Mapping[str, GlobalKey]
    phrases: Mapping[str, Text]
    nodes: Mapping[str, Node]
    destinations: Mapping[str, Destination]
    max_misses: int
    root: str  # the content folder, for audio files and catalogs
    time_zone: str = "America/New_York"
    calendar: HolidayCalendar = HolidayCalendar("US", None)
    whisper: str = ("This is a call from {line}. The caller speaks {language} and chose {menu}. "
                    "Press 1 to accept the call.")
    directory: DirectorySettings | None = None
    language_check: "LanguageCheck | None" = None

    def key_for(self, action: str) -> GlobalKey | None:
        """The key that does `action` in every menu, if one does."""
        return next((key for key in self.keys.values() if key.action == action), None)

    def chain(self, dest_id: str | None) -> list[Destination]:
        """The destinations a transfer to `dest_id` tries, in order, each once."""
        found, seen = [], set()
        while dest_id and dest_id in self.destinations and dest_id not in seen:
            seen.add(dest_id)
            found.append(self.destinations[dest_id])
            dest_id = self.destinations[dest_id].next
        return found

    def phrase(self, name: str) -> Text:
        return self.phrases[name]

    def texts(self) -> list[tuple[str, Text]]:
        """Every translatable prompt with its key path, in file order."""
        found: list[tuple[str, Text]] = []
        for key in self.keys.values():
            found.append((key.say.where.path, key.say))
        for text in self.phrases.values():
            found.append((text.where.path, text))
        if self.language_check:
            found.extend((text.where.path, text) for text in self.language_check.say)
            found.extend((o.say.where.path, o.say) for o in self.language_check.options.values())
        if self.directory:
            found.extend((text.where.path, text) for text in self.directory.area_texts())
        for dest in self.destinations.values():
            found.append((dest.name.where.path, dest.name))
            found.append((dest.where.path + ".number", dest.number_text))
        for node in self.nodes.values():
            for text in node.say:
                found.append((text.where.path, text))
            for option in node.options.values():
                found.append((option.say.where.path, option.say))
        return found
