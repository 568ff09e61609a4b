"""Readable scripts of the whole flow: a transcript per language for review, and the recording
list a voice artist needs for a language spoken from recordings."""
from __future__ import annotations

import csv
import io

from .line import Line
from .model import Node, Text
from .navigator import Navigator, Visit
from .speech import recording_script
from .steps import Prompt, Step

ACTIONS = {"person": "a person", "repeat": "this again", "back": "back"}


class Transcriber:
    """Writes one language's transcript from the navigator's steps: what each node says, and
    where each key leads. Node kinds call back into it (`NodeKind.transcribe`)."""

    def __init__(self, nav: Navigator, lang: str):
        self.nav = nav
        self.lang = lang
        self._kinds_seen: set[str] = set()

    def first_of_its_kind(self, node: Node) -> bool:
        """True for the first node of its kind in the transcript (what all share is shown once)."""
        first = node.kind not in self._kinds_seen
        self._kinds_seen.add(node.kind)
        return first

    def arrive(self, node: Node) -> Step:
        return self.nav.arrive(node, Visit(self.lang))

    def key_of(self, action: str) -> str:
        """The key that does `action` in every menu, e.g. '`*`' for back ('none' if no key does)."""
        key = self.nav.flow.key_for(action)
        return f"`{key.key}`" if key else "none"

    @staticmethod
    def said(prompt: Prompt) -> str:
        return prompt.text + (f"  [recording {prompt.audio}]" if prompt.audio else "")

    def said_lines(self, texts: tuple[Text, ...]) -> list[str]:
        return [f"> {self.said(self.nav.prompt(text, self.lang))}" for text in texts]

    @staticmethod
    def back_line(node: Node) -> list[str]:
        return ["", f"Back: `{node.back}`."] if node.back and node.back != node.id else []

    def node(self, node: Node) -> list[str]:
        return [f"## {node.id} ({node.kind})", "", *self.nav.kinds[node.kind].transcribe(self, node), ""]


def transcript(nav: Navigator, lang: str) -> str:
    """Every prompt of the flow in one language, with its keys and where they lead (Markdown)."""
    flow = nav.flow
    language = flow.languages.get(lang) or flow.pending_languages[lang]
    voice = "recorded audio" if language.audio else f"{language.say_language} {language.voice}"
    t = Transcriber(nav, lang)
    out = [f"# {flow.name}: transcript in {language.name} ({lang})", "",
           f"Spoken with {voice}. Made by `ivr transcript {lang}` from menus/ and locales/; "
           "do not edit by hand, run `ivr transcript --all` after changing the content.", "",
           "Keys that work in every menu:", ""]
    for key in flow.keys.values():
        out.append(f"- `{key.key}` ({ACTIONS[key.action]}): {t.said(nav.prompt(key.say, lang))}")
    out += ["", f"Silence or a wrong key: the menu again; after {flow.max_misses} in a row, "
            f"`{flow.person}`. Wrong key: \"{t.said(nav.phrase('not_an_option', lang))}\"", ""]
    for node in flow.nodes.values():
        out += t.node(node)
    return "\n".join(out).rstrip() + "\n"


def recording_rows(line: Line, lang: str) -> list[dict[str, str]]:
    """Each recording a recorded language needs, once: file (where it must be saved), recorded
    ("yes"/"no"), english, say_this."""
    flow = line.flow
    language = flow.languages.get(lang) or flow.pending_languages[lang]
    rows: dict[str, dict[str, str]] = {}
    for name, english, text, recorded in recording_script(flow, line.speech, language):
        rows.setdefault(name, {"file": f"locales/{lang}/audio/{name}", "recorded": "yes" if recorded else "no",
                               "english": english, "say_this": text})
    return list(rows.values())


def audio_script(line: Line, lang: str) -> str:
    """CSV for a voice artist: the file each recording must be saved as, and what it must say."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["file", "recorded", "english", "say_this"])
    writer.writeheader()
    writer.writerows(recording_rows(line, lang))
    return buffer.getvalue()
