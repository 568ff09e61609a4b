"""Phase one of loading a line: turn each menu file's data into model objects.

Every problem is noted with its file, line and key path, never raised, so `ivr validate` reports
them all in one pass. What each node kind adds to a node is read by its kind (`ivr.kinds`), which
the caller hands in: this module knows the shared fields only.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Mapping, Protocol

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers

from . import i18n
from .characters import first_control
from .hours import DAYS, HolidayCalendar, Hours, parse_week
from .model import (
    GLOBAL_ACTIONS, ID, KEYPAD, PERSON, Destination, Flow, GlobalKey, Language, LanguageCheck, Node, Option,
    Text, Where,
    placeholders_of,
)
from .problems import Problem
from .source import KeyPath, Source

#: Phrases the engine speaks itself; every line must word them.
REQUIRED_PHRASES = ("not_an_option", "error", "not_connected", "trying_next", "closed", "opens")
STATUSES = ("firm", "verify", "configure", "placeholder")
# The fictional range North American numbers reserve for examples: never a real line.
PLACEHOLDER_NUMBER = re.compile(r"^\+1\d{3}55501\d\d$")
DESTINATION_FIELDS = {"name", "number", "call", "source", "status", "next", "hours", "closed_on",
                      "languages", "caller_id", "whisper", "answered_by"}
ANSWERED_BY = ("person", "service")
LINE_FIELDS = {"name", "start", "person", "goodbye", "default_language", "languages", "keys",
               "phrases", "max_misses", "time_zone", "holidays", "whisper", "directory", "language_check"}
#: In `line.language_check`, the option that goes on with the transfer after all.
CONNECT = "connect"


class FieldSpec(Protocol):
    name: str
    required: bool


class NodeFields(Protocol):
    """What the builder asks of a node kind (`ivr.kinds` implements it)."""

    name: ClassVar[str]
    fields: ClassVar[tuple[FieldSpec, ...]]
    field_names: frozenset[str]
    has_options: ClassVar[bool]
    has_next: ClassVar[bool]
    has_back: ClassVar[bool]

    def parse(self, builder: Builder, src: Source, path: KeyPath, spec: Mapping[str, Any]) -> dict[str, Any]: ...


class Builder:
    """Phase one: turn each file's data into model objects, noting problems as it goes."""

    def __init__(self, kinds: Mapping[str, NodeFields]) -> None:
        self.kinds = kinds
        self.problems: list[Problem] = []
        self.line_section: tuple[Source, dict] | None = None
        self.nodes: dict[str, Node] = {}
        self.destinations: dict[str, Destination] = {}

    def fail(self, src: Source, path: KeyPath, message: str) -> None:
        self.problems.append(src.problem(path, message))

    def where(self, src: Source, path: KeyPath) -> Where:
        return Where(src.file, src.line(path), ".".join(path))

    def text(self, src: Source, path: KeyPath, value: Any) -> Text | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(src, path, "must be some text to say")
            return None
        if "{" in value and not placeholders_of(value) and "{}" not in value:
            self.fail(src, path, "has a '{' or '}' that is not a {destination} placeholder")
        text = " ".join(value.split())
        control = first_control(text)
        if control:
            self.fail(src, path, f"has the character {control}, which cannot be spoken: delete it")
            return None
        return Text(text, self.where(src, path))

    def texts(self, src: Source, path: KeyPath, value: Any) -> tuple[Text, ...]:
        items = value if isinstance(value, list) else [value]
        found = [self.text(src, path + ((str(i),) if isinstance(value, list) else ()), item)
                 for i, item in enumerate(items)]
        return tuple(t for t in found if t)

    def mapping(self, src: Source, path: KeyPath, value: Any) -> dict:
        if not isinstance(value, dict):
            self.fail(src, path, "must be a mapping of names to values")
            return {}
        return value

    def add_file(self, src: Source) -> None:
        data = self.mapping(src, (), src.data)
        for section, value in data.items():
            if section == "line":
                if self.line_section:
                    self.fail(src, ("line",),
                              f"a second 'line' section (the first is in {self.line_section[0].file})")
                else:
                    self.line_section = (src, self.mapping(src, ("line",), value))
            elif section == "nodes":
                for node_id, spec in self.mapping(src, ("nodes",), value).items():
                    self.add_node(src, ("nodes", node_id), node_id, spec)
            elif section == "destinations":
                for dest_id, spec in self.mapping(src, ("destinations",), value).items():
                    self.add_destination(src, ("destinations", dest_id), dest_id, spec)
            else:
                self.fail(src, (section,), "unknown section (expected line, nodes or destinations)")

    def new_id(self, src: Source, path: KeyPath, what: str, name: str, existing: Mapping[str, Any]) -> bool:
        """Whether `name` can be the id of a new node or destination (reported if not)."""
        if not ID.fullmatch(name):
            self.fail(src, path, f"'{name}' cannot be a {what}'s id: use a letter, then letters, digits, "
                      "_, . or - (it travels in URLs and statistics)")
            return False
        if name in existing:
            self.fail(src, path, f"{what} '{name}' is defined twice (also at {existing[name].where})")
            return False
        return True

    def add_node(self, src: Source, path: KeyPath, node_id: str, spec: Any) -> None:
        spec = self.mapping(src, path, spec)
        if not self.new_id(src, path, "node", node_id, self.nodes):
            return
        kind = self.kinds.get(spec.get("type"))  # type: ignore[arg-type]
        if kind is None:
            self.fail(src, path + ("type",),
                      f"type must be one of {', '.join(self.kinds)}, not {spec.get('type')!r}")
            return
        for unknown in sorted(set(spec) - kind.field_names):
            self.fail(src, path + (unknown,), f"unknown field for a {kind.name} (expected one of "
                      f"{', '.join(sorted(kind.field_names))})")
        say = self.texts(src, path + ("say",), spec["say"]) if "say" in spec else ()
        if "say" not in spec and any(f.name == "say" and f.required for f in kind.fields):
            self.fail(src, path, f"a {kind.name} needs 'say': what the caller hears")
        fields: dict[str, Any] = {}
        if kind.has_options:
            fields["options"] = MappingProxyType(self.options(src, path + ("options",), spec.get("options")))
        if kind.has_next:
            fields["next"] = self.node_ref(src, path + ("next",), spec.get("next"), required=True)
        if kind.has_back:
            fields["back"] = self.node_ref(src, path + ("back",), spec.get("back"), required=False)
        if "title" in spec:
            title = spec["title"]
            if isinstance(title, str) and title.strip():
                fields["title"] = " ".join(title.split())
            else:
                self.fail(src, path + ("title",), "must be the node's name in plain words")
        fields.update(kind.parse(self, src, path, spec))
        self.nodes[node_id] = Node(id=node_id, kind=kind.name, say=say, where=self.where(src, path), **fields)

    def node_ref(self, src: Source, path: KeyPath, value: Any, required: bool) -> str | None:
        if value is None:
            if required:
                self.fail(src, path, "needs the id of the node that comes next")
            return None
        if not isinstance(value, str):
            self.fail(src, path, "must be a node id")
            return None
        return value

    def options(self, src: Source, path: KeyPath, value: Any) -> dict[str, Option]:
        found: dict[str, Option] = {}
        for key, spec in self.mapping(src, path, value).items():
            here = path + (key,)
            if len(key) != 1 or key not in KEYPAD:
                self.fail(src, here, f"'{key}' is not a key on a phone keypad (use one of 0-9, * or #)")
                continue
            spec = self.mapping(src, here, spec)
            for unknown in sorted(set(spec) - {"say", "goto"}):
                self.fail(src, here + (unknown,), "unknown field for an option (expected say and goto)")
            say = self.text(src, here + ("say",), spec.get("say"))
            goto = self.node_ref(src, here + ("goto",), spec.get("goto"), required=True)
            if say and goto:
                found[key] = Option(key, say, goto, self.where(src, here))
        if not found:
            self.fail(src, path, "a menu needs at least one option")
        return found

    def add_destination(self, src: Source, path: KeyPath, dest_id: str, spec: Any) -> None:
        spec = self.mapping(src, path, spec)
        if not self.new_id(src, path, "destination", dest_id, self.destinations):
            return
        for unknown in sorted(set(spec) - DESTINATION_FIELDS):
            self.fail(src, path + (unknown,), "unknown field for a destination "
                      f"(expected one of {', '.join(sorted(DESTINATION_FIELDS))})")
        number = spec.get("number")
        if number is not None:
            number = self.phone_number(src, path + ("number",), number)
        call = spec.get("call", number)
        if "number" in spec and number is None:
            call = ""  # the bad number is reported already
        elif not isinstance(call, str) or not re.fullmatch(r"\+?[0-9]{3,15}", call or ""):
            self.fail(src, path + ("call", ) if "call" in spec else path,
                      "needs 'number' (dialled by the line) or 'call' (what a caller dials, e.g. '211')")
            call = ""
        source = spec.get("source")
        if not isinstance(source, str) or not source.strip():
            self.fail(src, path + ("source",), "needs 'source': where this number comes from, so it can be checked")
            source = ""
        status = spec.get("status", "verify")
        if isinstance(number, str) and PLACEHOLDER_NUMBER.match(number):
            status = "placeholder"
        elif status not in STATUSES:
            self.fail(src, path + ("status",), f"status must be one of {', '.join(STATUSES)}")
        name = self.text(src, path + ("name",), spec.get("name"))
        following = spec.get("next")
        if following is not None and not isinstance(following, str):
            self.fail(src, path + ("next",), "must be the id of another destination")
            following = None
        hours = self.hours(src, path, spec)
        languages = spec.get("languages", [])
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            self.fail(src, path + ("languages",), "must be a list of language codes, e.g. [en, es]")
            languages = []
        caller_id = spec.get("caller_id", "line")
        if caller_id not in ("line", "caller"):
            self.fail(src, path + ("caller_id",), "must be 'line' (the helper sees the line's number) "
                      "or 'caller' (the helper sees the caller's number)")
        answered_by = spec.get("answered_by")
        if number is not None and answered_by not in ANSWERED_BY:
            self.fail(src, path + ("answered_by",), "the line dials this number, so say who answers it: "
                      "'answered_by: person' (someone who hears who is calling and presses 1 to accept) or "
                      "'answered_by: service' (a call centre or hotline: its recorded greeting never presses 1)")
        whisper = spec.get("whisper", answered_by == "person")
        if not isinstance(whisper, bool):
            self.fail(src, path + ("whisper",), "must be true or false")
            whisper = False
        elif whisper and answered_by == "service":
            self.fail(src, path + ("whisper",), "a service answers with a recorded greeting that never presses "
                      "1: a whisper would make every transfer to it fail; remove 'whisper'")
            whisper = False
        if name:
            self.destinations[dest_id] = Destination(
                dest_id, name, number, call, source, status, self.where(src, path), following,
                hours=hours, languages=tuple(languages), pass_caller_id=caller_id == "caller",
                whisper=whisper, answered_by=str(answered_by or ""))

    def hours(self, src: Source, path: KeyPath, spec: dict) -> Hours | None:
        """Opening hours and closed days; None (always open) when neither is given."""
        if "hours" not in spec and "closed_on" not in spec:
            return None
        week_spec = spec.get("hours", {day: "00:00-24:00" for day in DAYS})
        if not isinstance(week_spec, dict):
            self.fail(src, path + ("hours",), "must map days to time spans, e.g. mon-fri: 08:00-17:00")
            return None
        week, problems = parse_week(week_spec)
        for key, message in problems:
            self.fail(src, path + ("hours", key), message)
        closed_dates, state_holidays = set(), False
        closed_on = spec.get("closed_on", [])
        for index, item in enumerate(closed_on if isinstance(closed_on, list) else [closed_on]):
            if item == "holidays":
                state_holidays = True
            elif isinstance(item, date):
                closed_dates.add(item)
            else:
                self.fail(src, path + ("closed_on", str(index)),
                          f"'{item}' is not a date (YYYY-MM-DD) or 'holidays'")
        return Hours(MappingProxyType(week), frozenset(closed_dates), state_holidays)

    def phone_number(self, src: Source, path: KeyPath, value: Any) -> str | None:
        text = str(value)
        if re.fullmatch(r"\+?1?[2-9]\d\d", text.replace(" ", "")):
            self.fail(src, path, f"{text} is a three-digit code (like 211, 911, 988): carriers route "
                      "it by the caller's location and Twilio cannot dial it; use the service's "
                      "10-digit line in 'number' and put the short code in 'call'")
            return None
        try:
            parsed = phonenumbers.parse(text, None)
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid or phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != text:
            self.fail(src, path, f"{text!r} is not a valid phone number in E.164 form, like +12075550100")
            return None
        return text


def parse_language(builder: Builder, src: Source, path: KeyPath, code: str, spec: Any) -> Language | None:
    spec = builder.mapping(src, path, spec)
    if not ID.fullmatch(code):
        builder.fail(src, path, f"'{code}' is not a language code like es or pt_BR")
        return None
    key = str(spec.get("key", ""))
    if len(key) != 1 or key not in KEYPAD:
        builder.fail(src, path + ("key",), "needs 'key': the keypad key that chooses this language")
    name = spec.get("name") if isinstance(spec.get("name"), str) else code
    choose = builder.text(src, path + ("choose",), spec.get("choose"))
    if choose and key and key not in choose.source:
        builder.fail(src, path + ("choose",), f"does not tell the caller to press {key}")
    audio = bool(spec.get("audio", False))
    optional = spec.get("optional", False)
    if not isinstance(optional, bool):
        builder.fail(src, path + ("optional",), "must be true (leave the language out of the menu while it "
                     "is incomplete) or false (an incomplete language stops the line)")
        optional = False
    for unknown in sorted(set(spec) - {"key", "name", "choose", "say_language", "voice", "audio", "optional"}):
        builder.fail(src, path + (unknown,), "unknown field for a language (expected key, name, choose, "
                     "say_language, voice, audio, optional)")
    say_language, voice = spec.get("say_language"), spec.get("voice")
    if not audio:
        if not say_language or not voice:
            builder.fail(src, path, "has neither a Twilio voice (say_language and voice) nor recorded "
                         "audio (audio: true)")
        elif not i18n.voices().has(say_language, voice):
            builder.fail(src, path + ("voice",), f"Twilio has no voice {voice!r} for language "
                         f"{say_language!r} (see ivr/data/twilio-tts-voices.json)")
    if not choose:
        return None
    return Language(code, key, name, choose, say_language, voice, audio, builder.where(src, path), optional)


def build_flow(builder: Builder, root: Path) -> Flow | None:
    """The whole line from the `line` section and every node and destination read so far, not
    yet linked or checked (every configured language counts as available until speech is built).
    None when there is no `line` section."""
    if builder.line_section is None:
        if builder.problems:
            return None  # a file that did not parse probably holds it; that error says enough
        builder.problems.append(Problem("menus", 1, "line", "no file has a 'line' section "
                                        "(start node, languages, keys and phrases)"))
        return None
    src, spec = builder.line_section
    for unknown in sorted(set(spec) - LINE_FIELDS):
        builder.fail(src, ("line", unknown), f"unknown field (expected one of {', '.join(sorted(LINE_FIELDS))})")
    languages: dict[str, Language] = {}
    for code, lspec in builder.mapping(src, ("line", "languages"), spec.get("languages")).items():
        lang = parse_language(builder, src, ("line", "languages", code), code, lspec)
        if lang:
            clash = next((o for o in languages.values() if o.key == lang.key), None)
            if clash:
                builder.fail(src, ("line", "languages", code, "key"),
                             f"key {lang.key} already chooses {clash.code}")
            languages[code] = lang
    keys: dict[str, GlobalKey] = {}
    for key, kspec in builder.mapping(src, ("line", "keys"), spec.get("keys")).items():
        path = ("line", "keys", key)
        kspec = builder.mapping(src, path, kspec)
        if len(key) != 1 or key not in KEYPAD:
            builder.fail(src, path, f"'{key}' is not a key on a phone keypad (use one of 0-9, * or #)")
            continue
        action = kspec.get("action")
        if action not in GLOBAL_ACTIONS:
            builder.fail(src, path + ("action",), f"action must be one of {', '.join(GLOBAL_ACTIONS)}")
            continue
        say = builder.text(src, path + ("say",), kspec.get("say"))
        if say:
            keys[key] = GlobalKey(key, action, say)
    if not any(k.action == PERSON for k in keys.values()):
        builder.fail(src, ("line", "keys"), "no key leads to a person: declare one with action: person")
    phrases: dict[str, Text] = {}
    for name, value in builder.mapping(src, ("line", "phrases"), spec.get("phrases")).items():
        text = builder.text(src, ("line", "phrases", name), value)
        if text:
            phrases[name] = text
    for name in REQUIRED_PHRASES:
        if name not in phrases:
            builder.fail(src, ("line", "phrases"), f"missing the phrase '{name}'")
    max_misses = spec.get("max_misses", 3)
    if not isinstance(max_misses, int) or not 1 <= max_misses <= 10:
        builder.fail(src, ("line", "max_misses"), "must be a whole number from 1 to 10")
        max_misses = 3
    default = spec.get("default_language", next(iter(languages), "en"))
    if default not in languages:
        builder.fail(src, ("line", "default_language"), f"'{default}' is not one of the languages")
    refs = {}
    for field_name in ("start", "person", "goodbye"):
        value = spec.get(field_name)
        if value is None and field_name != "goodbye":
            builder.fail(src, ("line",), f"needs '{field_name}': a node id")
        refs[field_name] = value
    time_zone = spec.get("time_zone", "America/New_York")
    try:
        ZoneInfo(str(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        builder.fail(src, ("line", "time_zone"), f"'{time_zone}' is not a time zone, like America/New_York")
        time_zone = "America/New_York"
    holiday_spec = builder.mapping(src, ("line", "holidays"), spec.get("holidays", {"country": "US"}))
    calendar = HolidayCalendar(str(holiday_spec.get("country", "US")), holiday_spec.get("subdivision"))
    try:
        holidays.country_holidays(calendar.country, subdiv=calendar.subdivision)
    except NotImplementedError as exc:
        builder.fail(src, ("line", "holidays"), f"the holidays package does not know it: {exc}")
        calendar = HolidayCalendar("US", None)
    whisper = spec.get("whisper", Flow.whisper)
    if not isinstance(whisper, str) or placeholders_of(whisper) - {"line", "language", "menu"}:
        builder.fail(src, ("line", "whisper"), "must be text; it may use {line}, {language} and {menu}")
        whisper = Flow.whisper
    language_check = (_language_check(builder, src, spec["language_check"])
                      if "language_check" in spec else None)
    return Flow(
        name=str(spec.get("name", "")), start=refs["start"], person=refs["person"], goodbye=refs["goodbye"],
        default_language=default, languages=MappingProxyType(languages), pending_languages=MappingProxyType({}),
        keys=MappingProxyType(keys), phrases=MappingProxyType(phrases), nodes=MappingProxyType(dict(builder.nodes)),
        destinations=MappingProxyType(dict(builder.destinations)), max_misses=max_misses, root=str(root),
        time_zone=str(time_zone), calendar=calendar, whisper=" ".join(whisper.split()),
        language_check=language_check)


def _language_check(builder: Builder, src: Source, spec: Any) -> LanguageCheck | None:
    """`line.language_check`: what a caller hears before a transfer to a destination that does
    not list their language, and their choices (`goto: connect` goes on with the transfer)."""
    path: KeyPath = ("line", "language_check")
    spec = builder.mapping(src, path, spec)
    for unknown in sorted(set(spec) - {"say", "options"}):
        builder.fail(src, path + (unknown,), "unknown field (expected say and options)")
    say = builder.texts(src, path + ("say",), spec.get("say"))
    options = builder.options(src, path + ("options",), spec.get("options"))
    if options and not any(o.goto == CONNECT for o in options.values()):
        builder.fail(src, path + ("options",), f"one option must have 'goto: {CONNECT}', so the caller can "
                     "still be connected")
    if not say or not options:
        return None
    return LanguageCheck(say, MappingProxyType(options), builder.where(src, path))


