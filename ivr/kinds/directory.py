"""The directory kind: services near the caller, by ZIP code or county, and the list by text.

Its steps live under `/voice/dir/<node>/<step>`: the ZIP code, the offer after two misses, the
county menu (public health district, then county), the results and what follows them. What was
asked travels in the URL (`path`: county-menu keys; `at`: the ZIP code or county).
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping

from ..i18n import spoken_number
from ..model import Node
from ..navigator import Visit
from ..stats import events as counted
from ..steps import Choice, Goto, Listen, SendText, Step
from ..urls import (DIR_AFTER, DIR_AREA, DIR_AREA_KEY, DIR_OFFER, DIR_RESULTS, DIR_ZIP, CallState, dir_state,
                    node_state)
from .base import NODE_REF, SAY_REF, Field, NodeKind

if TYPE_CHECKING:
    from ..build import Builder
    from ..directory import Directory, Place
    from ..navigator import Navigator
    from ..source import KeyPath, Source
    from ..transcript import Transcriber

RESULTS = 3  # places read to the caller
ZIP_DIGITS = 5


class DirectorySearch(NodeKind):
    """Find services of one kind near a ZIP code or in a county."""

    name = "directory"
    fields = (Field("say", SAY_REF),
              Field("kind", {"oneOf": [{"type": "string", "minLength": 1},
                                       {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}],
                             "description": "Taxonomy code(s) of the services to find (taxonomy_terms.csv): one code "
                                            "or a list; a code finds its child terms too (directory/README.md)."},
                    required=True),
              Field("back", NODE_REF))
    has_back = True
    ends = True  # a search ends with places to call, and offers a person when it finds none
    timeless = False  # its steps keep the menu the caller came from, to go back there

    def parse(self, builder: Builder, src: Source, path: KeyPath, spec: Mapping[str, Any]) -> dict[str, Any]:
        kind = spec.get("kind")
        codes = [kind] if isinstance(kind, str) else kind
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) and c.strip() for c in codes):
            builder.fail(src, path + ("kind",), "a directory needs 'kind': the taxonomy code to search, or a "
                         "list of codes (a code finds its child terms too)")
            return {}
        return {"service_codes": tuple(c.strip() for c in codes)}

    # -- the ZIP code ---------------------------------------------------------------------------
    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        lang = visit.lang
        prompts = nav.prompts(node.say, lang) + (nav.phrase("dir_ask_zip", lang),)
        return Step(listen=Listen(self.state(DIR_ZIP, node, visit, misses=visit.misses), prompts, digits=ZIP_DIGITS,
                                  choices=(Choice("zip", "the nearest places"), Choice("*", "the county menu"))))

    @staticmethod
    def state(step: str, node: Node, visit: Visit, misses: int = 0, path: str = "", at: str = "") -> CallState:
        """A step of the search, keeping the menu the caller came from: back leads there."""
        return dir_state(step, node.id, visit.lang, misses, path, at, origin=visit.origin)

    @staticmethod
    def back(nav: Navigator, node: Node, visit: Visit) -> str:
        """Where back (and the end of a search) leads: the menu the caller came from."""
        return visit.origin or node.back or nav.home()

    def step(self, nav: Navigator, node: Node, state: CallState, digits: str, visit: Visit) -> Step | None:
        directory = nav.line.directory
        if directory is None:
            return None
        step = state.step[len("dir/"):]
        if step == DIR_ZIP:
            return self.zip_code(nav, directory, node, visit, digits)
        if step == DIR_OFFER:
            return self.area(nav, node, visit, "") if digits[:1] == "*" else nav.person(visit, node.id)
        if step == DIR_AREA:
            return self.area(nav, node, visit, state.path)
        if step == DIR_AREA_KEY:
            return self.area_key(nav, node, visit, state.path, digits)
        if step == DIR_RESULTS:
            return self.results(nav, directory, node, visit, state.at)
        if step == DIR_AFTER:
            return self.after(nav, directory, node, visit, state.at, digits)
        return None

    def zip_code(self, nav: Navigator, directory: Directory, node: Node, visit: Visit, digits: str) -> Step:
        if "*" in digits:
            return self.area(nav, node, visit, "")
        if len(digits) == ZIP_DIGITS and digits.isdigit():
            place = directory.locate(digits)
            if place is not None and directory.in_state(place):
                return self.results(nav, directory, node, visit, "z" + digits)
            problem = "dir_outside" if place is not None else "dir_unknown_zip"
        else:
            problem = "dir_too_short" if digits else None
        if visit.misses == 0:
            step = self.arrive(nav, node, replace(visit, misses=1))  # ask again once
        else:
            step = self.offer(nav, node, visit)
        return step.after(nav.phrase(problem, visit.lang)) if problem else step

    def offer(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        """After a second miss: the county menu, or a person."""
        return Step(listen=Listen(self.state(DIR_OFFER, node, visit), (nav.phrase("dir_offer", visit.lang),),
                                  choices=(Choice("*", "the county menu"), Choice("", nav.flow.person))))

    # -- the county menu ------------------------------------------------------------------------
    def area(self, nav: Navigator, node: Node, visit: Visit, path: str, misses: int = 0) -> Step:
        settings = nav.flow.directory
        level = settings.area_level(path)
        if level is None:
            return self.area(nav, node, visit, "")
        lang = visit.lang
        choices = tuple(Choice(o.key, f"county {o.county}" if o.county else f"area {path + o.key}",
                               nav.prompt(o.say, lang)) for o in level.values())
        prompts = tuple(c.prompt for c in choices) + nav.everywhere_prompts(lang)
        return Step(listen=Listen(self.state(DIR_AREA_KEY, node, visit, misses, path=path), prompts,
                                  choices=choices))

    def area_key(self, nav: Navigator, node: Node, visit: Visit, path: str, digits: str) -> Step:
        settings = nav.flow.directory
        level = settings.area_level(path) or settings.areas

        def choose(key: str) -> Step | None:
            option = level.get(key)
            if option is None:
                return None
            if option.county:
                return self.results(nav, nav.line.directory, node, visit, "c" + option.county)
            return self.area(nav, node, visit, path + key)

        def again(misses: int) -> Step:
            return self.area(nav, node, visit, path, misses)

        return nav.press(
            digits[:1], node, visit,
            silence=lambda: nav.miss(node, visit, spoken=False, again=again),
            repeat=lambda: self.area(nav, node, visit, path),
            back=lambda: self.area(nav, node, visit, path[:-1]) if path else self.arrive(nav, node, replace(visit, misses=0)),
            choose=choose,
            wrong=lambda: nav.miss(node, visit, spoken=True, again=again),
        )

    # -- the results ----------------------------------------------------------------------------
    def search(self, directory: Directory, node: Node, at: str) -> list[tuple[Place, float]] | None:
        """The nearest places to `at` (a ZIP code or a county); None if it names neither."""
        codes = node.service_codes
        if at.startswith("z") and at[1:] in directory.zips:
            return directory.near_zip(codes, at[1:], RESULTS)
        if at.startswith("c") and at[1:] in directory.county_centres:
            return directory.in_county(codes, at[1:], RESULTS)
        return None

    def results(self, nav: Navigator, directory: Directory, node: Node, visit: Visit, at: str) -> Step:
        lang = visit.lang
        found = self.search(directory, node, at)
        if found is None:
            return nav.apology(lang)
        if not found:
            return self.offer(nav, node, visit).after(nav.phrase("dir_none", lang)).counting(
                counted.DirectorySearch(node.id, self.county(directory, at)))
        prompts = [nav.phrase("dir_results", lang)]
        now = nav.clock()
        for place, _km in found:
            prompts += [nav.data(place.name, lang), nav.data(place.town, lang)]
            prompts += self.hours(nav, place, lang, now)
            phone = place.first_callable
            if phone is not None:
                prompts.append(nav.data(spoken_number(phone.number), lang))
                if phone.extension:
                    extension = nav.phrase("dir_extension", lang)
                    if not extension.audio:
                        prompts.append(replace(extension, text=extension.text.replace("{extension}",
                                                                                     phone.spoken_extension)))
        if visit.can_text:  # offered only when a text can be sent to this caller
            prompts.append(nav.phrase("dir_text_offer", lang))
        prompts.append(nav.phrase("dir_after", lang))
        back = self.back(nav, node, visit)
        choices = ((Choice("1", "the list by text message"),) if visit.can_text else ()) + (Choice("", back),)
        events = ((counted.DirectorySearch(node.id, self.county(directory, at)),)
                  + ((counted.TextMessage("offered"),) if visit.can_text else ()))
        return Step(listen=Listen(self.state(DIR_AFTER, node, visit, at=at), tuple(prompts), choices=choices),
                    events=events)

    @staticmethod
    def county(directory: Directory, at: str) -> str:
        """The county searched in, for the statistics: never the ZIP code itself."""
        if at.startswith("c"):
            return at[1:]
        place = directory.zips.get(at[1:])
        return place.county if place and place.state == directory.state else ""

    @staticmethod
    def hours(nav: Navigator, place: Place, lang: str, now) -> list:
        """'Open now, until 4:30 PM.', 'Closed now. It opens tomorrow at 9:00 AM.', or nothing when
        the data has no hours: in the line's time zone, with its holidays."""
        status = place.status(now, nav.flow.calendar)
        if status is None:
            return []
        if status.open_now:
            return nav.when("dir_open_until", lang, status.closes_at, now) if status.closes_at else []
        return nav.when("dir_closed_opens", lang, status.next_open, now) if status.next_open else []

    def after(self, nav: Navigator, directory: Directory, node: Node, visit: Visit, at: str, digits: str) -> Step:
        """Keys after the results: 1 texts the list (only this sends anything), or the usual keys."""
        lang = visit.lang
        back = self.back(nav, node, visit)
        again = Goto(self.state(DIR_RESULTS, node, visit, at=at))

        def choose(key: str) -> Step | None:
            if key != "1" or not visit.can_text:
                return None
            found = self.search(directory, node, at)
            if found is None:
                return nav.apology(lang)
            # Sent: on to the menu. Not sent: say so, and the list again, to write it down.
            return Step(then=SendText(
                self.text_body(nav, found, lang), f"{node.id}:{at}",
                sent=Step(say=(nav.phrase("dir_text_sent", lang),), then=Goto(node_state(back, lang))),
                failed=Step(say=(nav.phrase("dir_text_failed", lang),), then=again)))

        return nav.press(
            digits[:1], node, visit,
            silence=lambda: nav.go(back, visit),
            repeat=lambda: self.results(nav, directory, node, visit, at),
            back=lambda: nav.go(back, visit),
            choose=choose,
            wrong=lambda: Step(say=(nav.phrase("not_an_option", lang),), then=again),
        )

    def text_body(self, nav: Navigator, found: list[tuple[Place, float]], lang: str) -> str:
        """The text message: a neutral first line (a locked phone shows it), then each place."""
        lines = [nav.phrase("dir_text_header", lang).text]
        for place, _km in found:
            phone = place.first_callable
            lines.append(f"{place.name}, {place.town}" + (f": {phone.display()}" if phone else ""))
        return "\n".join(lines)

    # -- the transcript -------------------------------------------------------------------------
    def transcribe(self, t: Transcriber, node: Node) -> list[str]:
        nav, lang = t.nav, t.lang
        phrase = lambda name: t.said(nav.phrase(name, lang))  # noqa: E731
        back = f"the menu the caller came from (`{node.back or nav.home()}` if none)"
        out = t.said_lines(node.say) + [f"> {phrase('dir_ask_zip')}", ""]
        settings = nav.flow.directory
        state = settings.us_state if settings else ""
        out += [f"- a ZIP code in {state} → the {RESULTS} nearest places: \"{phrase('dir_results')}\", "
                f"then each place's name, town, \"{phrase('dir_open_until')}\" or \"{phrase('dir_closed_opens')}\" "
                f"(nothing when the data has no hours), and its number (\"{phrase('dir_extension')}\"); then, if a text can be sent to the "
                f"caller, \"{phrase('dir_text_offer')}\"; then \"{phrase('dir_after')}\"",
                f"  - `1` → the list by text message: \"{phrase('dir_text_sent')}\", then {back}; or "
                f"\"{phrase('dir_text_failed')}\" and the list again",
                f"  - silence or {t.key_of('back')} → {back}; {t.key_of('repeat')} → the list again",
                f"- no place of this kind near: \"{phrase('dir_none')}\", then the offer below",
                f"- a ZIP code outside {state}: \"{phrase('dir_outside')}\"; unknown: \"{phrase('dir_unknown_zip')}\"; "
                f"too short: \"{phrase('dir_too_short')}\": asked once more, then the offer: \"{phrase('dir_offer')}\" "
                f"(`*` → the county menu, anything else → `{nav.flow.person}`)",
                "- `*` → the county menu"]
        if t.first_of_its_kind(node):
            out[-1] += ":"
            out += _area_lines(t, settings.areas, "  ") if settings else []
        else:
            out[-1] += " (as above)"
        return out


def _area_lines(t: Transcriber, level, indent: str) -> list[str]:
    out = []
    for option in level.values():
        where = f"{option.county} County" if option.county else "its counties"
        out.append(f"{indent}- `{option.key}` → {where}: {t.said(t.nav.prompt(option.say, t.lang))}")
        if option.options:
            out += _area_lines(t, option.options, indent + "  ")
    return out

