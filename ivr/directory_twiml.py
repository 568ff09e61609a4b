"""The steps of a directory search as TwiML: ZIP code or county, the three nearest places, and the
list by text message when the caller asks for it. Pure functions of the request's state."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, urlencode

import phonenumbers
from twilio.twiml.voice_response import VoiceResponse

from .directory import Directory, Place
from .i18n import spoken_number
from .model import BACK, PERSON, REPEAT, Node
from .twiml import Renderer, node_url

RESULTS = 3  # places read to the caller


def dir_url(step: str, node_id: str, lang: str, base: str = "", **query: str | int) -> str:
    params = {"lang": lang, **{k: v for k, v in query.items() if v not in ("", 0)}}
    return f"{base}/voice/dir/{quote(node_id, safe='')}/{step}?{urlencode(params)}"


@dataclass
class SearchResult:
    places: list[tuple[Place, float]]
    where: str  # "z04101" or "cYork": how the caller said where they are


class DirectoryRenderer:
    """Directory steps for one loaded line; shares the line renderer's voices and transfers."""

    def __init__(self, renderer: Renderer, directory: Directory):
        self.r = renderer
        self.flow = renderer.flow
        self.directory = directory
        self.config = renderer.flow.directory

    # -- speaking helpers -------------------------------------------------------------------
    def phrase(self, verb, name: str, lang: str) -> None:
        self.r.speak(verb, self.flow.phrase(name), lang)

    def say_data(self, verb, text: str, lang: str) -> None:
        """Names, towns and numbers from the data: spoken by the language's voice (or, for a
        language spoken from recordings, by the default language's)."""
        language = self.flow.languages.get(lang)
        if language is None or language.audio:
            language = self.flow.languages[self.flow.default_language]
        verb.say(text, language=language.say_language, voice=language.voice)

    def global_action(self, key: str) -> str | None:
        found = self.flow.keys.get(key)
        return found.action if found else None

    def person(self, node: Node, lang: str, line_number: str) -> str:
        return self.r.render_node(self.flow.person, lang, 0, line_number, origin=node.id)

    # -- ZIP code ---------------------------------------------------------------------------
    def add_prompt(self, response: VoiceResponse, node: Node, lang: str, misses: int = 0) -> None:
        gather = response.gather(num_digits=5, timeout=6, action_on_empty_result=True,
                                 action=dir_url("zip", node.id, lang, self.r.base, m=misses))
        for text in node.say:
            self.r.speak(gather, text, lang)
        self.phrase(gather, "dir_ask_zip", lang)

    def zip_input(self, node: Node, lang: str, misses: int, digits: str, line_number: str) -> str:
        if "*" in digits:
            return self.area(node, lang, "")
        if len(digits) == 5 and digits.isdigit():
            place = self.directory.locate(digits)
            if place is not None and self.directory.in_state(place):
                return self.results(node, lang, "z" + digits)
            problem = "dir_outside" if place is not None else "dir_unknown_zip"
        else:
            problem = "dir_too_short" if digits else None
        response = VoiceResponse()
        if problem:
            self.phrase(response, problem, lang)
        if misses == 0:
            self.add_prompt(response, node, lang, 1)  # ask again once
        else:
            self.add_offer(response, node, lang)
        return str(response)

    def add_offer(self, response: VoiceResponse, node: Node, lang: str) -> None:
        """After a second miss: the county menu, or a person."""
        gather = response.gather(num_digits=1, timeout=6, action_on_empty_result=True,
                                 action=dir_url("offer", node.id, lang, self.r.base))
        self.phrase(gather, "dir_offer", lang)

    def offer_input(self, node: Node, lang: str, digits: str, line_number: str) -> str:
        if digits[:1] == "*":
            return self.area(node, lang, "")
        return self.person(node, lang, line_number)  # 0, silence or anything else: a person

    # -- county menu ------------------------------------------------------------------------
    def area(self, node: Node, lang: str, path: str, misses: int = 0, prefix: str | None = None) -> str:
        level = self.config.area_level(path)
        if level is None:
            return self.area(node, lang, "")
        response = VoiceResponse()
        if prefix:
            self.phrase(response, prefix, lang)
        gather = response.gather(num_digits=1, timeout=6, action_on_empty_result=True,
                                 action=dir_url("area-key", node.id, lang, self.r.base, path=path, m=misses))
        for option in level.values():
            self.r.speak(gather, option.say, lang)
        for key in self.flow.keys.values():
            self.r.speak(gather, key.say, lang)
        return str(response)

    def area_input(self, node: Node, lang: str, path: str, misses: int, digits: str,
                   line_number: str) -> str:
        key = digits[:1]
        level = self.config.area_level(path) or self.config.areas
        action = self.global_action(key)
        if action == PERSON:
            return self.person(node, lang, line_number)
        if action == REPEAT:
            return self.area(node, lang, path)
        if action == BACK:
            if path:
                return self.area(node, lang, path[:-1])
            response = VoiceResponse()
            self.add_prompt(response, node, lang)
            return str(response)
        option = level.get(key) if key else None
        if option is not None:
            if option.county:
                return self.results(node, lang, "c" + option.county)
            return self.area(node, lang, path + key)
        if misses + 1 >= self.flow.max_misses:
            return self.person(node, lang, line_number)
        return self.area(node, lang, path, misses + 1, prefix="not_an_option" if key else None)

    # -- results ----------------------------------------------------------------------------
    def search(self, node: Node, where: str) -> SearchResult:
        """Raises KeyError for a `where` that names no ZIP code or county: the caller then hears
        an apology and a menu, as for any broken URL."""
        kind = node.service_kind or ""
        if where.startswith("z") and where[1:] in self.directory.zips:
            return SearchResult(self.directory.near_zip(kind, where[1:], RESULTS), where)
        if where.startswith("c") and where[1:] in self.directory.county_centres:
            return SearchResult(self.directory.in_county(kind, where[1:], RESULTS), where)
        raise KeyError(where)

    def results(self, node: Node, lang: str, where: str) -> str:
        found = self.search(node, where)
        response = VoiceResponse()
        if not found.places:
            self.phrase(response, "dir_none", lang)
            self.add_offer(response, node, lang)
            return str(response)
        gather = response.gather(num_digits=1, timeout=6, action_on_empty_result=True,
                                 action=dir_url("after", node.id, lang, self.r.base, at=where))
        self.phrase(gather, "dir_results", lang)
        today = self.r.clock().weekday()
        for place, _km in found.places:
            self.say_data(gather, place.name, lang)
            self.say_data(gather, place.town, lang)
            if place.open_days is None:
                self.phrase(gather, "dir_hours_unknown", lang)
            else:
                self.phrase(gather, "dir_open_today" if today in place.open_days else "dir_closed_today", lang)
            if place.phone:  # a place to visit may have no number
                self.say_data(gather, spoken_number(place.phone), lang)
        self.phrase(gather, "dir_after", lang)
        return str(response)

    def after_input(self, node: Node, lang: str, where: str, digits: str, line_number: str,
                    send: Callable[[str], bool]) -> str:
        """Keys after the results: 1 texts the list (only this sends anything), or the usual keys."""
        key = digits[:1]
        action = self.global_action(key)
        if key == "1":
            response = VoiceResponse()
            self.phrase(response, "dir_text_sent" if send(self.text_body(node, lang, where)) else
                        "dir_text_failed", lang)
            response.redirect(node_url(node.back or self.r.home(), lang, base=self.r.base), method="POST")
            return str(response)
        if action == PERSON:
            return self.person(node, lang, line_number)
        if action == REPEAT:
            return self.results(node, lang, where)
        if action == BACK or not key:
            return self.r.render_node(node.back or self.r.home(), lang, 0, line_number)
        response = VoiceResponse()
        self.phrase(response, "not_an_option", lang)
        response.redirect(dir_url("results", node.id, lang, self.r.base, at=where), method="POST")
        return str(response)

    def text_body(self, node: Node, lang: str, where: str) -> str:
        """The text message: a neutral first line (a locked phone shows it), then each place."""
        header = self.r.line.speech[(lang, self.flow.phrase("dir_text_header").source)].text
        lines = [header]
        for place, _km in self.search(node, where).places:
            phone = next((p for p in place.phones if p.callable), None)
            lines.append(f"{place.name}, {place.town}" + (f": {phone.display()}" if phone else ""))
        return "\n".join(lines)
