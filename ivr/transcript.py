"""Readable scripts of the whole flow: a transcript per language for review, and the recording
list a voice artist needs for a language spoken from recordings."""
from __future__ import annotations

import csv
import io

from .flow import Line
from .model import GOODBYE, LANGUAGE, MENU, MESSAGE, TRANSFER, Node, Text
from .speech import recording_script
from .twiml import Renderer

ACTIONS = {"person": "a person", "repeat": "this again", "back": "back"}


def _said(line: Line, text: Text, lang: str) -> str:
    utterance = line.speech[(lang, text.source)]
    return utterance.text + (f"  [recording {utterance.audio}]" if utterance.audio else "")


def transcript(line: Line, lang: str) -> str:
    """Every prompt of the flow in one language, with its keys and where they lead (Markdown)."""
    flow = line.flow
    language = flow.languages.get(lang) or flow.pending_languages[lang]
    voice = "recorded audio" if language.audio else f"{language.say_language} {language.voice}"
    out = [f"# {flow.name}: transcript in {language.name} ({lang})", "",
           f"Spoken with {voice}. Made by `ivr transcript {lang}` from menus/ and locales/; "
           "do not edit by hand, run `ivr transcript --all` after changing the content.", "",
           "Keys that work in every menu:", ""]
    for key in flow.keys.values():
        out.append(f"- `{key.key}` ({ACTIONS[key.action]}): {_said(line, key.say, lang)}")
    out += ["", f"Silence or a wrong key: the menu again; after {flow.max_misses} in a row, "
            f"`{flow.person}`. Wrong key: \"{_said(line, flow.phrase('not_an_option'), lang)}\"", ""]
    renderer = Renderer(line)
    for node in flow.nodes.values():
        out += _node(line, renderer, node, lang)
    return "\n".join(out).rstrip() + "\n"


def _node(line: Line, renderer: Renderer, node: Node, lang: str) -> list[str]:
    flow = line.flow
    out = [f"## {node.id} ({node.kind})", ""]
    if node.kind == LANGUAGE:
        for language in flow.languages.values():
            out.append(f"> {_said(line, language.choose, language.code)}")
        out += ["", f"Each key chooses a language, then `{node.next}`.", ""]
        return out
    for code in node.languages or (lang,):
        for text in node.say:
            prefix = f"[{code}] " if node.languages else ""
            out.append(f"> {prefix}{_said(line, text, code)}")
    if node.kind == MENU:
        out.append("")
        for option in node.options.values():
            out.append(f"- `{option.key}` → `{option.goto}`: {_said(line, option.say, lang)}")
        if node.patient:
            out.append("- silence: this step again, as often as needed")
    elif node.kind == MESSAGE:
        out += ["", f"Then `{node.next}`."]
    elif node.kind == TRANSFER:
        out += [""]
        for position, dest in enumerate(renderer.chain(node.to), 1):
            number = dest.number or dest.call
            out.append(f"{position}. dials {_said(line, dest.name, lang)}, {number} ({dest.status})")
        out.append(f"If no one answers: \"{_said(line, flow.phrase('not_connected'), lang)}\", the numbers "
                   "twice, then goodbye.")
    elif node.kind == GOODBYE:
        out += ["", "Then the call ends."]
    if node.kind in (MENU, MESSAGE) and node.back and node.back != node.id:
        out += ["", f"Back: `{node.back}`."]
    out.append("")
    return out


def audio_script(line: Line, lang: str) -> str:
    """CSV for a voice artist: the file each recording must be saved as, and what it must say."""
    flow = line.flow
    language = flow.languages.get(lang) or flow.pending_languages[lang]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "recorded", "english", "say_this"])
    seen = set()
    for name, english, text, recorded in recording_script(flow, line.speech, language):
        if name in seen:
            continue
        seen.add(name)
        writer.writerow([f"locales/{lang}/audio/{name}", "yes" if recorded else "no", english, text])
    return buffer.getvalue()
