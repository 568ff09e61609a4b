"""Pure functions from (line, node, language, misses) to TwiML. No Flask request in here.

Every URL in the TwiML is an absolute path (Twilio resolves it against the URL it called), so a
rendered step does not depend on the host and can be cached for the life of the loaded flow.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urlencode

from twilio.twiml.voice_response import VoiceResponse

from .flow import Line
from .model import BACK, GOODBYE, LANGUAGE, MENU, MESSAGE, PERSON, REPEAT, TRANSFER, Node, Text

DIAL_TIMEOUT = 20  # seconds a destination rings before the chain moves on


def node_url(node_id: str, lang: str, misses: int = 0, base: str = "") -> str:
    query = {"lang": lang} if not misses else {"lang": lang, "m": misses}
    return f"{base}/voice/node/{quote(node_id, safe='')}?{urlencode(query)}"


def input_url(node_id: str, lang: str, misses: int = 0, base: str = "") -> str:
    query = {"lang": lang} if not misses else {"lang": lang, "m": misses}
    return f"{base}/voice/input/{quote(node_id, safe='')}?{urlencode(query)}"


def dialed_url(node_id: str, lang: str, dest_id: str, base: str = "") -> str:
    query = urlencode({"lang": lang, "to": dest_id})
    return f"{base}/voice/dialed/{quote(node_id, safe='')}?{query}"


def audio_url(lang: str, filename: str, base: str = "") -> str:
    return f"{base}/audio/{quote(lang, safe='')}/{quote(filename, safe='')}"


class Renderer:
    """Renders the steps of one loaded line. Safe to share between threads; caches its output."""

    def __init__(self, line: Line, base: str = ""):
        self.line = line
        self.flow = line.flow
        self.base = base
        self.render_node = lru_cache(maxsize=None)(self._render_node)

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
            for text in node.say:
                self.speak(response, text, lang)
            self.add_dial(response, node, lang, node.to)
        elif node.kind == GOODBYE:
            for text in node.say:
                self.speak(response, text, lang)
            response.hangup()

    def add_dial(self, response: VoiceResponse, node: Node, lang: str, dest_id: str | None) -> None:
        dest = self.flow.destinations.get(dest_id or "")
        if dest is None or dest.number is None:
            self.add_numbers_and_goodbye(response, node, lang)
            return
        dial = response.dial(action=dialed_url(node.id, lang, dest.id, self.base),
                             timeout=DIAL_TIMEOUT, answer_on_bridge=True)
        dial.number(dest.number)

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
    def render_input(self, node_id: str, lang: str, misses: int, digits: str) -> str:
        """What follows a keypress (or silence, when `digits` is empty) at a node."""
        node = self.flow.nodes[node_id]
        key = digits[:1]
        if not key:
            if node.kind == MESSAGE:
                return self.render_node(node.next, lang)
            if node.patient:
                # Someone giving rescue breaths cannot press keys: keep coaching, never transfer.
                return self.render_node(node.id, lang)
            return self.miss(node, lang, misses, spoken=False)
        if key in self.flow.keys:
            action = self.flow.keys[key].action
            if action == PERSON:
                return self.render_node(self.flow.person, lang)
            if action == REPEAT:
                return self.render_node(node.id, lang)
            if action == BACK:
                return self.render_node(node.back or node.id, lang)
        if node.kind == LANGUAGE:
            chosen = next((c for c, l in self.flow.languages.items() if l.key == key), None)
            if chosen:
                return self.render_node(node.next, chosen)
        elif node.kind == MENU and key in node.options:
            return self.render_node(node.options[key].goto, lang)
        elif node.kind == MESSAGE:
            return self.render_node(node.next, lang)  # any other key: skip ahead
        return self.miss(node, lang, misses, spoken=True)

    def miss(self, node: Node, lang: str, misses: int, spoken: bool) -> str:
        """Silence or a wrong key: the menu again, or a person after too many misses in a row."""
        misses += 1
        if misses >= self.flow.max_misses:
            return self.render_node(self.flow.person, lang)
        if not spoken:
            return self.render_node(node.id, lang, misses)
        response = VoiceResponse()
        self.speak(response, self.flow.phrase("not_an_option"), lang)
        self.add_node(response, node, lang, misses)
        return str(response)

    def render_dialed(self, node_id: str, lang: str, dest_id: str, status: str, bridged: bool) -> str:
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
            self.add_dial(response, node, lang, following[0])
        else:
            self.add_numbers_and_goodbye(response, node, lang)
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
