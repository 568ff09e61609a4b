"""The node kinds of a plain call flow: menu, message, language, transfer and goodbye."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping

from ..model import PERSON, Node
from ..steps import SILENCE_IGNORED, SILENCE_MISSES, SILENCE_REPEATS, Choice, Goto, Hangup, Listen, Prompt, Step
from ..build import CONNECT
from ..stats.events import LanguageChosen
from ..urls import CHECK, CallState, input_state, node_state
from .base import NODE_REF, SAY_REF, Field, NodeKind

if TYPE_CHECKING:
    from ..build import Builder
    from ..navigator import Navigator, Visit
    from ..source import KeyPath, Source
    from ..transcript import Transcriber

SAY = Field("say", SAY_REF)
BACK = Field("back", NODE_REF)
OPTIONS = Field("options", {
    "type": "object", "minProperties": 1, "propertyNames": {"pattern": "^[0-9*#]$"},
    "additionalProperties": {"type": "object", "additionalProperties": False, "required": ["say", "goto"],
                             "properties": {"say": {"type": "string"}, "goto": NODE_REF}}}, required=True)


def everywhere_choices(nav: Navigator, node: Node, lang: str) -> tuple[Choice, ...]:
    """The keys that work in every menu, as choices of this step."""
    targets = {"person": nav.flow.person, "repeat": node.id, "back": node.back or node.id}
    return tuple(Choice(key.key, targets[key.action], nav.prompt(key.say, lang), everywhere=True)
                 for key in nav.flow.keys.values())


class Menu(NodeKind):
    """A question with keys that lead on."""

    name = "menu"
    fields = (Field("say", SAY_REF, required=True),
              Field("timeout", {"type": "integer", "minimum": 1, "maximum": 60}),
              Field("patient", {"type": "boolean"}), BACK, OPTIONS)
    has_options = has_back = is_menu = True

    def parse(self, builder: Builder, src: Source, path: KeyPath, spec: Mapping[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {"patient": bool(spec.get("patient", False))}
        timeout = spec.get("timeout", 6)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 60:
            builder.fail(src, path + ("timeout",), "timeout must be a whole number of seconds, 1 to 60")
        else:
            fields["timeout"] = timeout
        return fields

    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        lang = visit.lang
        options = tuple(Choice(o.key, o.goto, nav.prompt(o.say, lang)) for o in node.options.values())
        everywhere = everywhere_choices(nav, node, lang)
        prompts = nav.prompts(node.say, lang) + tuple(c.prompt for c in options + everywhere)
        return Step(listen=Listen(input_state(node.id, lang, visit.misses), prompts, timeout=node.timeout,
                                  silence=SILENCE_REPEATS if node.patient else SILENCE_MISSES,
                                  choices=options + everywhere))

    def choose(self, nav: Navigator, node: Node, visit: Visit, key: str) -> Step | None:
        option = node.options.get(key)
        return nav.go(option.goto, visit, node.id) if option else None

    def silence(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        if node.patient:
            # Someone giving rescue breaths cannot press keys: keep coaching, never transfer.
            return nav.go(node.id, visit, node.id)
        return nav.miss(node, visit, spoken=False)

    def transcribe(self, t: Transcriber, node: Node) -> list[str]:
        step = t.arrive(node)
        out = t.said_lines(node.say) + [""]
        for choice in step.listen.choices:
            if not choice.everywhere:
                out.append(f"- `{choice.key}` → `{choice.leads_to}`: {t.said(choice.prompt)}")
        if node.patient:
            out.append("- silence: this step again, as often as needed")
        return out + t.back_line(node)


class Message(NodeKind):
    """Spoken, then on to the next node; keys work while it plays."""

    name = "message"
    fields = (Field("say", SAY_REF, required=True), Field("next", NODE_REF, required=True), BACK,
              Field("languages", {"type": "array", "items": {"type": "string"}}))
    has_next = has_back = True

    def parse(self, builder: Builder, src: Source, path: KeyPath, spec: Mapping[str, Any]) -> dict[str, Any]:
        if "languages" not in spec:
            return {}
        langs = spec["languages"]
        if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
            builder.fail(src, path + ("languages",), "languages must be a list of language codes")
            return {}
        return {"languages": tuple(langs)}

    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        lang = visit.lang
        prompts = tuple(p for code in node.languages or (lang,) if code in nav.flow.languages
                        for p in nav.prompts(node.say, code))
        # Keys work while a message plays: a caller can reach a person without waiting.
        listen = Listen(input_state(node.id, lang), prompts, timeout=1, silence=SILENCE_IGNORED,
                        choices=everywhere_choices(nav, node, lang))
        return Step(listen=listen, then=Goto(node_state(node.next, lang)))

    def choose(self, nav: Navigator, node: Node, visit: Visit, key: str) -> Step | None:
        return nav.go(node.next, visit, node.id)  # any other key skips ahead

    def silence(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        return nav.go(node.next, visit, node.id)

    def transcribe(self, t: Transcriber, node: Node) -> list[str]:
        step = t.arrive(node)
        prefixed = bool(node.languages)
        out = [f"> {f'[{p.lang}] ' if prefixed else ''}{t.said(p)}" for p in step.listen.prompts]
        return out + ["", f"Then `{node.next}`."] + t.back_line(node)


class Language(NodeKind):
    """The language menu: each language offered in itself, in its own voice. Before a language is
    chosen, the person key is announced, and a wrong key answered, in every language; repeat and
    back do nothing here (silence repeats the menu)."""

    name = "language"
    fields = (SAY, Field("next", NODE_REF, required=True))
    has_next = is_menu = True
    everywhere = frozenset({"person"})

    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        languages = tuple(Choice(language.key, node.next, nav.prompt(language.choose, language.code))
                          for language in nav.flow.languages.values())
        person = nav.flow.key_for(PERSON)
        person_prompts = tuple(nav.prompt(person.say, code) for code in nav.flow.languages) if person else ()
        person_choice = (Choice(person.key, nav.flow.person, None, everywhere=True),) if person else ()
        prompts = nav.prompts(node.say, visit.lang) + tuple(c.prompt for c in languages) + person_prompts
        return Step(listen=Listen(input_state(node.id, visit.lang, visit.misses), prompts, timeout=6,
                                  choices=languages + person_choice))

    def choose(self, nav: Navigator, node: Node, visit: Visit, key: str) -> Step | None:
        chosen = next((code for code, language in nav.flow.languages.items() if language.key == key), None)
        if chosen is None:
            return None
        return nav.go(node.next, replace(visit, lang=chosen), node.id).counting(LanguageChosen(chosen))

    def sorry(self, nav: Navigator, node: Node, visit: Visit) -> tuple[Prompt, ...]:
        return tuple(nav.phrase("not_an_option", code) for code in nav.flow.languages)

    def transcribe(self, t: Transcriber, node: Node) -> list[str]:
        step = t.arrive(node)
        choices = {c.prompt for c in step.listen.choices if c.prompt}
        out = [f"> {t.said(p)}" for p in step.listen.prompts if p in choices]
        out += ["", f"Each key chooses a language, then `{node.next}`. Also announced in every language:"]
        out += [f"> [{p.lang}] {t.said(p)}" for p in step.listen.prompts if p not in choices]
        out += ["", "A wrong key hears \"not an option\" in every language, then the menu again; "
                "repeat and back do nothing here (silence repeats the menu)."]
        return out


class Transfer(NodeKind):
    """Connect the caller to a destination, down its fallback chain."""

    name = "transfer"
    fields = (SAY, Field("to", {"type": "string"}, required=True))
    ends = True
    timeless = False  # opening hours, the number line_number and the menu chosen from

    def parse(self, builder: Builder, src: Source, path: KeyPath, spec: Mapping[str, Any]) -> dict[str, Any]:
        to = spec.get("to")
        if not isinstance(to, str):
            builder.fail(src, path + ("to",), "a transfer needs 'to': the destination to connect to")
            return {}
        return {"to": to}

    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        check = nav.flow.language_check
        dest = nav.dialled_now(node.to) if check else None
        if dest is not None and dest.languages and visit.lang not in dest.languages:
            return self.language_check(nav, node, visit)
        return self.connect(nav, node, visit)

    @staticmethod
    def connect(nav: Navigator, node: Node, visit: Visit) -> Step:
        return nav.dial_from(node, visit, node.to).after(*nav.prompts(node.say, visit.lang))

    def language_check(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        """The helpers there may not speak the caller's language: say so, and offer to connect
        anyway or to go where interpreters are (`line.language_check`)."""
        check, lang = nav.flow.language_check, visit.lang
        choices = tuple(Choice(o.key, node.id if o.goto == CONNECT else o.goto, nav.prompt(o.say, lang))
                        for o in check.options.values())
        prompts = nav.prompts(check.say, lang) + tuple(c.prompt for c in choices) + nav.everywhere_prompts(lang)
        state = CallState(CHECK, node.id, lang, visit.misses, origin=visit.origin)
        return Step(listen=Listen(state, prompts, choices=choices))

    def step(self, nav: Navigator, node: Node, state: CallState, digits: str, visit: Visit) -> Step | None:
        check = nav.flow.language_check
        if state.step != CHECK or check is None:
            return None
        back = visit.origin or nav.home()

        def choose(key: str) -> Step | None:
            option = check.options.get(key)
            if option is None:
                return None
            return self.connect(nav, node, visit) if option.goto == CONNECT else nav.go(option.goto, visit, node.id)

        def again(misses: int) -> Step:
            return self.language_check(nav, node, replace(visit, misses=misses))

        return nav.press(digits[:1], node, visit,
                         silence=lambda: nav.miss(node, visit, spoken=False, again=again),
                         repeat=lambda: again(0), back=lambda: nav.go(back, visit, node.id), choose=choose,
                         wrong=lambda: nav.miss(node, visit, spoken=True, again=again))

    def transcribe(self, t: Transcriber, node: Node) -> list[str]:
        out = t.said_lines(node.say) + [""]
        for position, dest in enumerate(t.nav.flow.chain(node.to), 1):
            number = dest.number or dest.call
            out.append(f"{position}. dials {t.said(t.nav.prompt(dest.name, t.lang))}, {number} ({dest.status})")
        out.append(f"If no one answers: \"{t.said(t.nav.phrase('not_connected', t.lang))}\", the numbers "
                   "twice, then goodbye.")
        check = t.nav.flow.language_check
        first = t.nav.flow.chain(node.to)[:1]
        if check and first and first[0].languages and t.lang not in first[0].languages:
            out += ["", f"First, as {first[0].id} lists no `{t.lang}`:"]
            out += t.said_lines(check.say)
            for option in check.options.values():
                goes = "connects as above" if option.goto == CONNECT else f"→ `{option.goto}`"
                out.append(f"- `{option.key}` {goes}: {t.said(t.nav.prompt(option.say, t.lang))}")
        return out


class Goodbye(NodeKind):
    """The last words, then the call ends."""

    name = "goodbye"
    fields = (Field("say", SAY_REF, required=True),)
    ends = True

    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        return Step(say=nav.prompts(node.say, visit.lang), then=Hangup())

    def transcribe(self, t: Transcriber, node: Node) -> list[str]:
        return t.said_lines(node.say) + ["", "Then the call ends."]
