"""What every prompt sounds like in every language, worked out once when the flow loads.

A prompt is either text-to-speech (`<Say>` with the language's Twilio voice) or a recording
(`<Play>`). Translations come from gettext catalogs; `{destination}` placeholders become phone
numbers read digit by digit. Rendering a call step is then a dictionary lookup.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Mapping

from babel.core import get_global

from . import i18n
from .characters import first_control
from .model import Flow, Language, Text, placeholders_of
from .problems import Problem
from .steps import Prompt


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")

#: (language code, English source) -> how the line says it
Speech = Mapping[tuple[str, str], Prompt]


def numbers(flow: Flow) -> dict[str, str]:
    """Each destination's number as it is read aloud, for `{placeholder}` filling."""
    return {d.id: i18n.spoken_number(d.call) for d in flow.destinations.values()}


class _Keep(dict):
    """Fill destination numbers; leave call-time fields such as {opens} for the renderer."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def writes_latin(code: str) -> bool:
    """Whether a language is written in the Latin script (CLDR's likely script for it)."""
    likely = get_global("likely_subtags").get(code.split("_")[0], "")
    return "_Latn" in likely or not likely


_LATIN = re.compile(r"[A-Za-z]")


class _Catalog:
    """One language's catalog, and problems located in it for the translator: file:line, the
    English sentence, and what to do."""

    def __init__(self, root: Path, code: str):
        self.root, self.code = root, code
        self.file = str(i18n.catalog_path(Path("."), code))
        self._entries: dict[str, i18n.Entry] | None = None

    def problem(self, text: Text, message: str) -> Problem:
        if self._entries is None:
            self._entries = i18n.catalog_entries(self.root, self.code)
        entry = self._entries.get(text.source)
        return Problem(self.file, entry.line if entry else 1, text.where.path,
                       f"{message}: \"{text.source}\" ({text.where.file}:{text.where.line})")

    def missing(self, text: Text) -> Problem:
        if self._entries is None:
            self._entries = i18n.catalog_entries(self.root, self.code)
        entry = self._entries.get(text.source)
        if entry is None:
            return self.problem(text, f"not in the {self.code} catalog yet (run `ivr translations update`)")
        if entry.fuzzy and entry.string:
            return self.problem(text, f"the {self.code} translation is marked fuzzy, a guess from a "
                                      "similar sentence: check it, then remove the fuzzy flag")
        return self.problem(text, f"no {self.code} translation yet")


def build_speech(flow: Flow, root: Path) -> tuple[dict[tuple[str, str], Prompt], list[Problem], set[str]]:
    """Work out every utterance; return them, the problems, and the languages that are complete."""
    spoken = numbers(flow)
    speech: dict[tuple[str, str], Prompt] = {}
    problems: list[Problem] = []
    complete: set[str] = set()
    seen: set[str] = set()
    texts = [t for _, t in flow.texts() if not (t.source in seen or seen.add(t.source))]  # each sentence once
    englishes: dict[str, str | None] = {}

    def english_of(text: Text) -> str | None:
        """The sentence as spoken, numbers filled in: worked out once for every language; None when
        its braces are not placeholders (reported by the flow check)."""
        if text.source not in englishes:
            try:
                englishes[text.source] = text.source.format_map(_Keep(spoken))
            except (KeyError, IndexError, ValueError):
                englishes[text.source] = None
        return englishes[text.source]

    for lang in flow.languages.values():
        missing: set[str] = set()
        recordings: set[str] = set()
        catalog = None
        located = _Catalog(root, lang.code)
        problems_before = len(problems)
        unreadable = False
        if lang.code != flow.default_language:
            try:
                catalog = i18n.load_catalog(root, lang.code)
            except i18n.CatalogError as exc:
                problems.append(Problem(located.file, exc.line, "", str(exc)))
                unreadable = True
            if catalog is None and not lang.audio and not unreadable:
                problems.append(Problem.at(lang.where, f"no translations: {located.file} is missing "
                                           f"(start it with `ivr translations add {lang.code}`)"))
                unreadable = True
        latin, limit = writes_latin(lang.code), i18n.say_limit(lang.voice)
        for text in [] if unreadable else [lang.choose, *texts]:
            translated = not (text is lang.choose or lang.code == flow.default_language or text.only_numbers)
            if not translated:
                said = text.source
            else:
                said = i18n.translation(catalog, text.source)
                if said is None and not lang.audio:
                    problems.append(located.missing(text))
                    continue
                if said is not None and placeholders_of(said) != text.placeholders:
                    problems.append(located.problem(text, f"the {lang.code} translation must keep the "
                                                          f"placeholders {sorted(text.placeholders)} exactly"))
                    continue
                if said is not None and first_control(said):
                    problems.append(located.problem(text, f"the {lang.code} translation has the character "
                                                          f"{first_control(said)}, which cannot be spoken"))
                    continue
                if said is not None and not latin and _LATIN.search(_PLACEHOLDER.sub("", said)):
                    problems.append(located.problem(text, f"the {lang.code} translation has Latin letters, "
                                                          "which its voice mispronounces: write names in "
                                                          "the language's own script"))
                    continue
            english = english_of(text)
            if english is None:
                continue
            try:
                said = said.format_map(_Keep(spoken)) if said is not None else english
            except (KeyError, IndexError, ValueError):
                problems.append(located.problem(text, f"the {lang.code} translation has a '{{' or '}}' "
                                                      "that is not a placeholder"))
                continue
            if lang.audio:
                name = i18n.audio_name(english if text is not lang.choose else said)
                found = i18n.find_audio(root, lang.code, name)
                recordings.add(name)  # two prompts that say the same thing share one recording
                if found is None:
                    missing.add(name)
                speech[(lang.code, text.source)] = Prompt(said, lang.code, audio=found or name)
                continue
            if len(said.encode("utf-8")) > limit:
                problems.append(Problem.at(text.where, f"the {lang.code} prompt is "
                                           f"{len(said.encode('utf-8'))} bytes; Twilio's <Say> with "
                                           f"{lang.voice} takes at most {limit}"))
            speech[(lang.code, text.source)] = Prompt(said, lang.code, lang.say_language, lang.voice)
        own = problems[problems_before:]
        if missing:
            own.append(Problem.at(lang.where, f"{len(missing)} of {len(recordings)} recordings are "
                                  f"not in locales/{lang.code}/audio/ yet (ivr audio-script "
                                  f"{lang.code} lists them)"))
        if not own:
            complete.add(lang.code)
        elif lang.optional:
            # Left out of the menu, loudly, rather than stopping the line: offered whole or not at all.
            own = [replace(p, warning=True) for p in own]
            own.append(Problem.at(lang.where, f"{lang.name} ({lang.code}) is incomplete and left out "
                                  f"of the language menu until it is (optional: true): {len(own)} "
                                  "problem(s) above", warning=True))
        else:
            own.append(Problem.at(lang.where, f"{lang.name} ({lang.code}) is incomplete ({len(own)} "
                                  "problem(s) above): complete it, or add `optional: true` to leave it "
                                  "out of the language menu until it is"))
        problems[problems_before:] = own
    return speech, problems, complete


def recording_script(flow: Flow, speech: Speech, lang: Language) -> list[tuple[str, str, str, bool]]:
    """(file name, English, text to record, recorded yet) for every prompt of an audio language."""
    rows = []
    spoken = _Keep(numbers(flow))
    for _path, text in [(lang.choose.where.path, lang.choose), *flow.texts()]:
        utterance = speech[(lang.code, text.source)]
        name = utterance.audio or ""
        recorded = "." in name
        english = text.source.format_map(spoken)
        rows.append((name if recorded else name + ".mp3", english, utterance.text, recorded))
    return rows
