"""Pure functions from (line, node, language, misses) to TwiML. No Flask request in here.

Every URL in the TwiML is an absolute path (Twilio resolves it against the URL it called), so a
rendered step does not depend on the host and can be cached for the life of the loaded flow.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Callable
from urllib.parse import quote, urlencode

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from twilio.twiml.voice_response import VoiceResponse

from .flow import Line
from .hours import is_open, next_opening, now_in
from .model import (
    DIRECTORY, BACK, GOODBYE, LANGUAGE, MENU, MESSAGE, PERSON, REPEAT, TRANSFER, Destination, Node, Text,
)

DIAL_TIMEOUT = 20  # seconds a destination rings before the chain moves on
WHISPER_TIMEOUT = 5  # seconds a helper has to press 1 after the whisper


def node_url(node_id: str, lang: str, misses: int = 0, base: str = "") -> str:
    query = {"lang": lang} if not misses else {"lang": lang, "m": misses}
    return f"{base}/voice/node/{quote(node_id, safe='')}?{urlencode(query)}"


def input_url(node_id: str, lang: str, misses: int = 0, base: str = "") -> str:
    query = {"lang": lang} if not misses else {"lang": lang, "m": misses}
    return f"{base}/voice/input/{quote(node_id, safe='')}?{urlencode(query)}"


def transfer_url(step: str, node_id: str, lang: str, dest_id: str, base: str = "", origin: str = "") -> str:
    """A URL of one transfer's steps ('dialed', 'whisper'): which node, destination and origin."""
    query = urlencode({"lang": lang, "to": dest_id, **({"from": origin} if origin else {})})
    return f"{base}/voice/{step}/{quote(node_id, safe='')}?{query}"


def status_url(node_id: str, dest_id: str, base: str = "") -> str:
    return f"{base}/voice/status?{urlencode({'node': node_id, 'to': dest_id})}"


def audio_url(lang: str, filename: str, base: str = "") -> str:
    return f"{base}/audio/{quote(lang, safe='')}/{quote(filename, safe='')}"


class Renderer:
    """Renders the steps of one loaded line. Safe to share between threads; caches its output."""

    def __init__(self, line: Line, base: str = "", clock: Callable[[], datetime] | None = None):
        self.line = line
        self.flow = line.flow
        self.base = base
        self.clock = clock or (lambda: now_in(self.flow.time_zone))
        self._cached = lru_cache(maxsize=None)(self._render_node)
        from .directory_twiml import DirectoryRenderer  # it builds on this module

        self.directory = DirectoryRenderer(self, line.directory) if line.directory else None

    def render_node(self, node_id: str, lang: str, misses: int = 0, line_number: str = "",
                    origin: str = "") -> str:
        """A node's TwiML. Transfers depend on the clock, the number called and the menu the caller
        came from (`origin`, told to the helper), so they are not cached."""
        if self.flow.nodes[node_id].kind == TRANSFER:
            response = VoiceResponse()
            self.add_transfer(response, self.flow.nodes[node_id], lang, line_number, origin)
            return str(response)
        return self._cached(node_id, lang, misses)

    # -- speaking ---------------------------------------------------------------------------
    def speak(self, verb, text: Text, lang: str) -> None:
        """Append one prompt to `verb` (a response or a gather) as <Say> or <Play>."""
        utterance = self.line.speech[(lang, text.source)]
        if utterance.audio:
            verb.play(audio_url(lang, utterance.audio, self.base))
        else:
            verb.say(utterance.text, language=utterance.language, voice=utterance.voice)

    def language(self, lang: str | None) -> str:
        """The caller's language if the line speaks it, else the line's default."""
        return lang if lang in self.flow.languages else self.flow.default_language

    # -- nodes ------------------------------------------------------------------------------
    def _render_node(self, node_id: str, lang: str, misses: int = 0) -> str:
        node = self.flow.nodes[node_id]
        response = VoiceResponse()
        self.add_node(response, node, lang, misses)
        return str(response)

    def add_node(self, response: VoiceResponse, node: Node, lang: str, misses: int = 0) -> None:
        if node.kind == MENU:
            gather = response.gather(num_digits=1, action=input_url(node.id, lang, misses, self.base),
                                     action_on_empty_result=True, timeout=node.timeout)
            for text in node.say:
                self.speak(gather, text, lang)
            for option in node.options.values():
                self.speak(gather, option.say, lang)
            for key in self.flow.keys.values():
                self.speak(gather, key.say, lang)
        elif node.kind == LANGUAGE:
            gather = response.gather(num_digits=1, action=input_url(node.id, lang, misses, self.base),
                                     action_on_empty_result=True, timeout=6)
            for text in node.say:
                self.speak(gather, text, lang)
            for language in self.flow.languages.values():
                self.speak(gather, language.choose, language.code)
        elif node.kind == MESSAGE:
            # Keys work while a message plays: a caller can reach a person without waiting.
            gather = response.gather(num_digits=1, action=input_url(node.id, lang, 0, self.base), timeout=1)
            for code in node.languages or (lang,):
                if code in self.flow.languages:
                    for text in node.say:
                        self.speak(gather, text, code)
            response.redirect(node_url(node.next, lang, base=self.base), method="POST")
        elif node.kind == TRANSFER:
            self.add_transfer(response, node, lang)
        elif node.kind == GOODBYE:
            for text in node.say:
                self.speak(response, text, lang)
            response.hangup()
        elif node.kind == DIRECTORY:
            self.directory.add_prompt(response, node, lang, misses)

    def add_transfer(self, response: VoiceResponse, node: Node, lang: str, line_number: str = "",
                     origin: str = "") -> None:
        for text in node.say:
            self.speak(response, text, lang)
        self.add_dial(response, node, lang, node.to, line_number, origin)

    def add_dial(self, response: VoiceResponse, node: Node, lang: str, dest_id: str | None,
                 line_number: str = "", origin: str = "") -> None:
        """Dial the first destination from `dest_id` on that is open; numbers and goodbye if none."""
        following = self.chain(dest_id)
        now = self.clock()
        for dest in following:
            if dest.number is None:
                continue
            if not is_open(dest.hours, now, self.flow.calendar):
                self.say_closed(response, dest, lang, now)
                continue
            dial = response.dial(action=transfer_url("dialed", node.id, lang, dest.id, self.base, origin),
                                 timeout=DIAL_TIMEOUT, answer_on_bridge=True,
                                 caller_id=None if dest.pass_caller_id else (line_number or None))
            dial.number(dest.number,
                        url=transfer_url("whisper", node.id, lang, dest.id, self.base, origin) if dest.whisper else None,
                        status_callback=status_url(node.id, dest.id, self.base),
                        status_callback_event="completed")
            return
        self.add_numbers_and_goodbye(response, node, lang)

    def say_closed(self, response: VoiceResponse, dest: Destination, lang: str, now: datetime) -> None:
        """'That line is closed right now. It opens Monday 8:00 AM.' in the caller's language."""
        self.speak(response, dest.name, lang)
        self.speak(response, self.flow.phrase("closed"), lang)
        opening = next_opening(dest.hours, now, self.flow.calendar) if dest.hours else None
        utterance = self.line.speech[(lang, self.flow.phrase("opens").source)]
        if opening is None or utterance.audio:
            return  # a recording cannot say a time that changes
        when = f"{format_date(opening, 'EEEE', locale=lang)} {format_time(opening, 'short', locale=lang)}"
        response.say(utterance.text.replace("{opens}", when), language=utterance.language, voice=utterance.voice)

    def add_numbers_and_goodbye(self, response: VoiceResponse, node: Node, lang: str) -> None:
        """The end of every failed transfer: numbers to call, said twice, then goodbye."""
        self.speak(response, self.flow.phrase("not_connected"), lang)
        for _ in range(2):
            for dest in self.chain(node.to):
                self.speak(response, dest.name, lang)
                self.speak(response, dest.number_text, lang)
        self.add_goodbye(response, lang)

    def add_goodbye(self, response: VoiceResponse, lang: str) -> None:
        goodbye = self.flow.nodes.get(self.flow.goodbye or "")
        if goodbye:
            self.add_node(response, goodbye, lang)
        else:
            response.hangup()

    def chain(self, dest_id: str | None) -> list:
        """The destinations a transfer tries, in order, each once."""
        found, seen = [], set()
        while dest_id and dest_id in self.flow.destinations and dest_id not in seen:
            seen.add(dest_id)
            dest = self.flow.destinations[dest_id]
            found.append(dest)
            dest_id = dest.next
        return found

    # -- input ------------------------------------------------------------------------------
    def render_input(self, node_id: str, lang: str, misses: int, digits: str, line_number: str = "") -> str:
        """What follows a keypress (or silence, when `digits` is empty) at a node."""
        node = self.flow.nodes[node_id]
        key = digits[:1]

        def render_node(node_id: str, lang: str) -> str:
            return self.render_node(node_id, lang, 0, line_number, origin=node.id)

        if not key:
            if node.kind == MESSAGE:
                return render_node(node.next, lang)
            if node.patient:
                # Someone giving rescue breaths cannot press keys: keep coaching, never transfer.
                return render_node(node.id, lang)
            return self.miss(node, lang, misses, False, line_number)
        if key in self.flow.keys:
            action = self.flow.keys[key].action
            if action == PERSON:
                return render_node(self.flow.person, lang)
            if action == REPEAT:
                return render_node(node.id, lang)
            if action == BACK:
                return render_node(node.back or node.id, lang)
        if node.kind == LANGUAGE:
            chosen = next((c for c, l in self.flow.languages.items() if l.key == key), None)
            if chosen:
                return render_node(node.next, chosen)
        elif node.kind == MENU and key in node.options:
            return render_node(node.options[key].goto, lang)
        elif node.kind == MESSAGE:
            return render_node(node.next, lang)  # any other key: skip ahead
        return self.miss(node, lang, misses, True, line_number)

    def miss(self, node: Node, lang: str, misses: int, spoken: bool, line_number: str = "") -> str:
        """Silence or a wrong key: the menu again, or a person after too many misses in a row."""
        misses += 1
        if misses >= self.flow.max_misses:
            return self.render_node(self.flow.person, lang, 0, line_number, origin=node.id)
        if not spoken:
            return self.render_node(node.id, lang, misses)
        response = VoiceResponse()
        self.speak(response, self.flow.phrase("not_an_option"), lang)
        self.add_node(response, node, lang, misses)
        return str(response)

    def render_dialed(self, node_id: str, lang: str, dest_id: str, status: str, bridged: bool,
                      line_number: str = "", origin: str = "") -> str:
        """After a <Dial>: done if a person talked with the caller; else the next in the chain."""
        node = self.flow.nodes[node_id]
        response = VoiceResponse()
        if status == "completed" and bridged:
            self.add_goodbye(response, lang)
            return str(response)
        dest = self.flow.destinations.get(dest_id)
        tried = [d.id for d in self.chain(node.to)]
        following = tried[tried.index(dest_id) + 1:] if dest_id in tried else []
        if dest is not None and following:
            self.speak(response, self.flow.phrase("trying_next"), lang)
            self.add_dial(response, node, lang, following[0], line_number, origin)
        else:
            self.add_numbers_and_goodbye(response, node, lang)
        return str(response)

    # -- the helper's side of a transfer -----------------------------------------------------
    def render_whisper(self, node_id: str, lang: str, dest_id: str, origin: str = "") -> str:
        """Heard by the helper before the caller is bridged: who calls, and press 1 to accept.

        No key within a few seconds (or a voicemail greeting) hangs up this leg, so the caller's
        <Dial> ends unbridged and the chain moves on instead of leaving a voicemail.
        """
        flow = self.flow
        node = flow.nodes.get(node_id)
        default = flow.languages[flow.default_language]
        try:
            language = Locale.parse(lang).get_display_name(flow.default_language) or lang
        except (ValueError, UnknownLocaleError):
            language = lang
        came_from = origin if origin in flow.nodes else (node.back if node and node.back else node_id)
        menu = came_from.replace("_", " ")
        text = flow.whisper.format(line=flow.name, language=language, menu=menu)
        response = VoiceResponse()
        gather = response.gather(num_digits=1, timeout=WHISPER_TIMEOUT,
                                 action=f"{self.base}/voice/whisper-answer?{urlencode({'to': dest_id})}")
        for _ in range(2):
            gather.say(text, language=default.say_language, voice=default.voice)
        response.hangup()
        return str(response)

    @staticmethod
    def whisper_accepted(digits: str) -> bool:
        return digits.strip()[:1] == "1"

    @staticmethod
    def render_whisper_answer(accepted: bool) -> str:
        """Accepted: an empty answer ends the whisper and bridges the caller. Else hang up the leg."""
        response = VoiceResponse()
        if not accepted:
            response.hangup()
        return str(response)

    # -- when things go wrong ---------------------------------------------------------------
    def render_apology(self, lang: str, node_id: str | None = None) -> str:
        """A sorry, then a menu that surely exists."""
        lang = self.language(lang)
        target = node_id if node_id in self.flow.nodes else self.home()
        response = VoiceResponse()
        self.speak(response, self.flow.phrase("error"), lang)
        response.redirect(node_url(target, lang, base=self.base), method="POST")
        return str(response)

    def home(self) -> str:
        """The first menu after the language choice, or the start."""
        for node in self.flow.nodes.values():
            if node.kind == LANGUAGE and node.next:
                return node.next
        return self.flow.start

    def render_last_resort(self) -> str:
        """Used when even an apology failed to render: straight to a person, numbers if that fails."""
        lang = self.flow.default_language
        response = VoiceResponse()
        self.speak(response, self.flow.phrase("error"), lang)
        self.add_node(response, self.flow.nodes[self.flow.person], lang)
        return str(response)
