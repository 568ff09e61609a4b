"""The call's decisions, for every channel: given where a call is and what the caller did, the Step
that comes next. No TwiML, no Flask, no request in here.

The keys that work in every menu (a person, repeat, back) and the limit on silences and wrong keys
are handled here, once; what a node does with its own keys belongs to its kind (`ivr.kinds`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, ClassVar, Iterator, Mapping, Protocol
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from .characters import without_controls

from .hours import is_open, next_opening, now_in
from .line import Line
from .model import BACK, PERSON, REPEAT, Destination, Node, Text
from .stats.events import CallAnswered, KeyMissed, MenuReached, TransferEnded, TransferTried
from .steps import SILENCE_IGNORED, Dial, Goto, Hangup, Listen, Prompt, Step
from .urls import (
    DIALED, INPUT, NODE, START, STATUS, UNKNOWN, WHISPER, WHISPER_ANSWER, CallState, UrlReader, node_state,
)

DIAL_TIMEOUT = 20  # seconds a destination rings before the chain moves on
WHISPER_TIMEOUT = 5  # seconds a helper has to press 1 after the whisper


class Deferred:
    """A yes/no worked out the first time it is asked, and only then (whether a caller can be
    texted costs a phone-number check that most steps never need)."""

    __slots__ = ("_decide", "_value")

    def __init__(self, decide: Callable[[], bool]):
        self._decide, self._value = decide, None

    def __bool__(self) -> bool:
        if self._value is None:
            self._value = bool(self._decide())
        return self._value


@dataclass(frozen=True)
class Visit:
    """The call as it reaches a node: its language and what the node's answer depends on."""

    lang: str
    misses: int = 0  # silences and wrong keys in a row at this node
    origin: str = ""  # the node the caller chose this from (a helper hears it)
    line_number: str = ""  # the line's own number: what helpers see as the caller ID
    can_text: bool = True  # a text message can be sent to this caller now


@dataclass(frozen=True)
class Given:
    """What came with the request: the caller's keys, or how a transfer ended."""

    digits: str = ""
    dial_status: str = ""
    bridged: bool = False
    line_number: str = ""  # the line's own number (configured, or the checked number the caller dialled)
    can_text: bool = True  # the line can text this caller (a number that receives texts, under the cap)


class NodeBehaviour(Protocol):
    """What the navigator asks of a node kind (`ivr.kinds` implements it)."""

    timeless: ClassVar[bool]
    everywhere: ClassVar[frozenset[str] | None]

    def sorry(self, nav: Navigator, node: Node, visit: Visit) -> tuple[Prompt, ...]: ...
    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step: ...
    def choose(self, nav: Navigator, node: Node, visit: Visit, key: str) -> Step | None: ...
    def silence(self, nav: Navigator, node: Node, visit: Visit) -> Step: ...
    def step(self, nav: Navigator, node: Node, state: CallState, digits: str, visit: Visit) -> Step | None: ...
    def transcribe(self, t, node: Node) -> list[str]: ...


#: The time a rehearsal (the staff console's phone, `ivr simulate --at`) sets for one request.
REHEARSAL_TIME: ContextVar[datetime | None] = ContextVar("ivr_rehearsal_time", default=None)


@contextmanager
def rehearsing_at(moment: datetime | None) -> Iterator[None]:
    """Within this block, the navigator's clock says `moment` (wall-clock time of the line's zone
    when naive). Set only by in-process callers: no HTTP request can reach it."""
    token = REHEARSAL_TIME.set(moment)
    try:
        yield
    finally:
        REHEARSAL_TIME.reset(token)


def dial_outcome(status: str, bridged: bool) -> str:
    """How a transfer's <Dial> ended, in the statistics' words: connected only when bridged; a
    completed leg that was never bridged was declined (at the whisper, or by its silence)."""
    if status == "completed":
        return "connected" if bridged else "declined"
    return status if status in ("busy", "no-answer", "failed", "canceled") else "failed"


def _in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def day_name(moment: datetime, now: datetime, lang: str) -> str:
    """'today', 'tomorrow' or the weekday of `moment`, in `lang` (CLDR's words)."""
    days = (moment.date() - now.date()).days
    if days in (0, 1):
        relative = Locale.parse(lang)._data["date_fields"]["day"]["relative"]
        if days in relative:
            return relative[days]
    return format_date(moment, "EEEE", locale=lang)


class Navigator:
    """Decides the steps of calls on one loaded line. Safe to share between threads."""

    def __init__(self, line: Line, kinds: Mapping[str, NodeBehaviour],
                 clock: Callable[[], datetime] | None = None):
        self.line = line
        self.flow = line.flow
        self.kinds = kinds
        self.urls = UrlReader(line.flow)
        self.zone = ZoneInfo(self.flow.time_zone)
        # A given clock may tell the wall-clock time of the line's zone (a rehearsal at 3 am).
        self._clock = (lambda: _in_zone(clock(), self.zone)) if clock else (lambda: now_in(self.flow.time_zone))
        # What a node says on arrival, when it depends on nothing but the node, the language and
        # the misses so far: worked out once per loaded line (nodes x languages x misses).
        self._timeless = lru_cache(maxsize=None)(self._arrive_timeless)
        # The flow never changes under a navigator: its home menu is found once.
        self._home = next((n.next for n in self.flow.nodes.values() if n.kind == "language" and n.next),
                          self.flow.start)

    def clock(self) -> datetime:
        """Now, in the line's zone; or the time a rehearsal set for this request (`rehearsing_at`)."""
        rehearsal = REHEARSAL_TIME.get()
        return _in_zone(rehearsal, self.zone) if rehearsal is not None else self._clock()

    # -- the one entry point --------------------------------------------------------------------
    def navigate(self, state: CallState, given: Given) -> Step:
        """The Step that answers the webhook `state`, given what came with it."""
        flow, step = self.flow, state.step
        if step == START:
            return self.arrive(flow.nodes[flow.start], Visit(flow.default_language, line_number=given.line_number,
                                                             can_text=given.can_text)).counting(CallAnswered())
        if step == WHISPER_ANSWER:
            return self.whisper_answer(given.digits)
        if step in (UNKNOWN, STATUS):
            return self.apology(state.lang)
        node = flow.nodes[state.node]
        visit = Visit(state.lang, state.misses, state.origin, given.line_number, given.can_text)
        if step == NODE:
            return self.arrive(node, visit)
        if step == INPUT:
            return self.answer(node, visit, given.digits.strip())
        if step == DIALED:
            return self.dialed(node, visit, state.to, given.dial_status, given.bridged)
        if step == WHISPER:
            return self.whisper(node, visit, state.to)
        found = self.kinds[node.kind].step(self, node, state, given.digits.strip(), visit)
        return found if found is not None else self.apology(state.lang)

    # -- arriving and answering -----------------------------------------------------------------
    def arrive(self, node: Node, visit: Visit) -> Step:
        """What the caller hears on reaching `node`."""
        kind = self.kinds[node.kind]
        if kind.timeless:
            return self._timeless(node.id, visit.lang, visit.misses)
        return kind.arrive(self, node, visit).counting(MenuReached(node.id, visit.lang))

    def _arrive_timeless(self, node_id: str, lang: str, misses: int) -> Step:
        node = self.flow.nodes[node_id]
        return self.kinds[node.kind].arrive(self, node, Visit(lang, misses)).counting(MenuReached(node_id, lang))

    def go(self, node_id: str, visit: Visit, origin: str = "") -> Step:
        """Arrive at `node_id` afresh (no misses), having come from `origin`."""
        return self.arrive(self.flow.nodes[node_id], Visit(visit.lang, 0, origin, visit.line_number, visit.can_text))

    def answer(self, node: Node, visit: Visit, digits: str) -> Step:
        """A key (or silence) at a node."""
        kind = self.kinds[node.kind]
        return self.press(
            digits[:1], node, visit,
            silence=lambda: kind.silence(self, node, visit),
            repeat=lambda: self.go(node.id, visit, node.id),
            back=lambda: self.go(node.back or node.id, visit, node.id),
            choose=lambda key: kind.choose(self, node, Visit(visit.lang, visit.misses, node.id, visit.line_number,
                                                             visit.can_text), key),
            wrong=lambda: self.miss(node, visit, spoken=True),
            everywhere=kind.everywhere,
        )

    def press(self, key: str, node: Node, visit: Visit, *, silence: Callable[[], Step],
              repeat: Callable[[], Step], back: Callable[[], Step],
              choose: Callable[[str], Step | None], wrong: Callable[[], Step],
              everywhere: frozenset[str] | None = None) -> Step:
        """The meaning of one key wherever the caller listens: the keys that work everywhere
        first (a person, repeat, back: those in `everywhere`, when given), then the listening
        point's own keys, else `wrong`."""
        if not key:
            return silence()
        action = self.everywhere(key)
        if everywhere is not None and action not in everywhere:
            action = None
        if action == PERSON:
            return self.person(visit, node.id)
        if action == REPEAT:
            return repeat()
        if action == BACK:
            return back()
        return choose(key) or wrong()

    def everywhere(self, key: str) -> str | None:
        """The action of a key that works in every menu, if `key` is one."""
        found = self.flow.keys.get(key)
        return found.action if found else None

    def miss(self, node: Node, visit: Visit, spoken: bool,
             again: Callable[[int], Step] | None = None) -> Step:
        """Silence or a wrong key: the step again (`again(misses)`, by default the node), or a
        person once the misses in a row reach the line's limit. Never a hang-up."""
        missed = KeyMissed(node.id, "wrong-key" if spoken else "silence")
        misses = visit.misses + 1
        if misses >= self.flow.max_misses:
            return self.person(visit, node.id).counting(missed)
        step = again(misses) if again else self.arrive(node, replace(visit, misses=misses, origin=""))
        return (step.after(*self.kinds[node.kind].sorry(self, node, visit)) if spoken else step).counting(missed)

    def person(self, visit: Visit, origin: str) -> Step:
        """On to a person: the line's person transfer."""
        return self.go(self.flow.person, visit, origin)

    # -- speaking -------------------------------------------------------------------------------
    def prompt(self, text: Text, lang: str) -> Prompt:
        return self.line.speech[(lang, text.source)]

    def phrase(self, name: str, lang: str) -> Prompt:
        return self.prompt(self.flow.phrase(name), lang)

    def prompts(self, texts: tuple[Text, ...], lang: str) -> tuple[Prompt, ...]:
        return tuple(self.prompt(text, lang) for text in texts)

    def data(self, text: str, lang: str) -> Prompt:
        """Names, towns and numbers from data, spoken by the language's voice (for a language
        spoken from recordings, by the default language's voice: a recording cannot say them)."""
        language = self.flow.languages.get(lang)
        if language is None or language.audio:
            language = self.flow.languages[self.flow.default_language]
        return Prompt(without_controls(text), language.code, language.say_language, language.voice)

    def everywhere_prompts(self, lang: str) -> tuple[Prompt, ...]:
        """The announcements of the keys that work in every menu."""
        return tuple(self.prompt(key.say, lang) for key in self.flow.keys.values())

    # -- transfers ------------------------------------------------------------------------------
    def dialled_now(self, dest_id: str | None) -> Destination | None:
        """The destination a transfer from `dest_id` would dial now (the first open one with a number)."""
        now = self.clock()
        return next((d for d in self.flow.chain(dest_id) if d.number and is_open(d.hours, now, self.flow.calendar)), None)

    def dial_from(self, node: Node, visit: Visit, dest_id: str | None) -> Step:
        """Dial the first destination from `dest_id` on that is open (saying which are closed),
        or read out the numbers and say goodbye when none is."""
        now = self.clock()
        said: list[Prompt] = []
        closed: list[TransferEnded] = []
        for dest in self.flow.chain(dest_id):
            if dest.number is None:
                continue
            if not is_open(dest.hours, now, self.flow.calendar):
                said += self.closed(dest, visit.lang, now)
                closed.append(TransferEnded(dest.id, "closed"))
                continue
            dial = Dial(
                destination=dest.id, number=dest.number, timeout=DIAL_TIMEOUT,
                done=CallState(DIALED, node.id, visit.lang, to=dest.id, origin=visit.origin),
                status=CallState(STATUS, node.id, to=dest.id),
                whisper=(CallState(WHISPER, node.id, visit.lang, to=dest.id, origin=visit.origin)
                         if dest.whisper else None),
                caller_id=None if dest.pass_caller_id else (visit.line_number or None))
            tried = TransferTried(dest.id, visit.origin or node.id)
            return Step(say=tuple(said), then=dial, events=(*closed, tried))
        return self.numbers_and_goodbye(node, visit.lang).after(*said).counting(*closed)

    def closed(self, dest: Destination, lang: str, now: datetime) -> list[Prompt]:
        """'That line is closed right now. It opens Monday 8:00 AM.' in the caller's language."""
        said = [self.prompt(dest.name, lang), self.phrase("closed", lang)]
        opening = next_opening(dest.hours, now, self.flow.calendar) if dest.hours else None
        if opening is not None:
            said += self.when("opens", lang, opening, now)
        return said

    def when(self, phrase: str, lang: str, moment: datetime, now: datetime) -> list[Prompt]:
        """A phrase with {day} ('today', 'tomorrow', 'Monday', in the caller's language) and
        {time} filled in; nothing for a recorded language (a recording cannot say a time that changes)."""
        said = self.phrase(phrase, lang)
        if said.audio:
            return []
        region = self.locale(lang)
        time = format_time(moment, "short", locale=region)
        text = said.text.replace("{day}", day_name(moment, now, region))
        if time.endswith("."):  # "9:00 a.m." ends the sentence itself
            text = text.replace("{time}.", time)
        return [replace(said, text=text.replace("{time}", time))]

    def locale(self, lang: str) -> str:
        """The locale times and days are said in: the voice's own (fr-CA says '9 h 00', es-US
        '9:00 a.m.') when babel knows it, else the language's."""
        language = self.flow.languages.get(lang)
        voice_locale = (language.say_language or "").replace("-", "_") if language else ""
        try:
            Locale.parse(voice_locale)
            return voice_locale
        except (ValueError, UnknownLocaleError):
            return lang

    def numbers_and_goodbye(self, node: Node, lang: str) -> Step:
        """The end of every failed transfer: numbers to call, said twice, then goodbye."""
        chain = self.flow.chain(node.to)
        said = [self.phrase("not_connected", lang)]
        for _ in range(2):
            for dest in chain:
                said += [self.prompt(dest.name, lang), self.prompt(dest.number_text, lang)]
        return self.goodbye(lang).after(*said)

    def goodbye(self, lang: str) -> Step:
        goodbye = self.flow.nodes.get(self.flow.goodbye or "")
        return self.arrive(goodbye, Visit(lang)) if goodbye else Step(then=Hangup())

    def dialed(self, node: Node, visit: Visit, dest_id: str, status: str, bridged: bool) -> Step:
        """After a <Dial>: done if a person talked with the caller; else the next in the chain.
        Only a bridge means they talked: `completed` alone may be a declined whisper."""
        ended = (TransferEnded(dest_id, dial_outcome(status, bridged)),) if dest_id else ()
        if status == "completed" and bridged:
            return self.goodbye(visit.lang).counting(*ended)
        tried = [d.id for d in self.flow.chain(node.to)]
        following = tried[tried.index(dest_id) + 1:] if dest_id in tried else []
        if following:
            return self.dial_from(node, visit, following[0]).after(self.phrase("trying_next", visit.lang)).counting(*ended)
        return self.numbers_and_goodbye(node, visit.lang).counting(*ended)

    def whisper(self, node: Node, visit: Visit, dest_id: str) -> Step:
        """Heard by the helper before the caller is bridged: who calls, and press 1 to accept.

        No key within a few seconds (or a voicemail greeting) hangs up this leg, so the caller's
        <Dial> ends unbridged and the chain moves on instead of leaving a voicemail.
        """
        flow = self.flow
        default = flow.languages[flow.default_language]
        try:
            language = Locale.parse(visit.lang).get_display_name(flow.default_language) or visit.lang
        except (ValueError, UnknownLocaleError):
            language = visit.lang
        text = flow.whisper.format(line=flow.name, language=language, menu=self.menu_words(node, visit, dest_id))
        said = Prompt(text, default.code, default.say_language, default.voice)
        listen = Listen(CallState(WHISPER_ANSWER, to=dest_id), (said, said), timeout=WHISPER_TIMEOUT,
                        silence=SILENCE_IGNORED)
        return Step(listen=listen, then=Hangup())

    def menu_words(self, node: Node, visit: Visit, dest_id: str) -> str:
        """What the caller chose, in words a helper understands: the title of the menu they chose
        the transfer in, else the transfer's own, else the destination's name. Never a node id."""
        origin = self.flow.nodes.get(visit.origin)
        for candidate in (origin, node):
            if candidate is not None and candidate.title:
                return candidate.title
        dest = self.flow.destinations.get(dest_id)
        return dest.name.source if dest else self.flow.name

    @staticmethod
    def whisper_answer(digits: str) -> Step:
        """Accepted (1): an empty answer ends the whisper and bridges the caller. Else hang up."""
        return Step() if digits.strip()[:1] == "1" else Step(then=Hangup())

    # -- when things go wrong -------------------------------------------------------------------
    def apology(self, lang: str) -> Step:
        """A sorry, then a menu that surely exists."""
        lang = self.urls.language(lang)
        return Step(say=(self.phrase("error", lang),), then=Goto(node_state(self.home(), lang)))

    def home(self) -> str:
        """The first menu after the language choice, or the start."""
        return self._home

    def last_resort(self) -> Step:
        """For when even an apology failed: straight to a person, numbers if that fails."""
        lang = self.flow.default_language
        return self.person(Visit(lang), "").after(self.phrase("error", lang))
