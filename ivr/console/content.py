"""What the console says about the content: the checks `ivr validate` runs, on the files as they
are on disk (which may differ from the version served), and each language's state."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import i18n
from ..build import build_flow
from ..flow import check, check_built, menu_files, read_menus
from ..line import Line
from ..model import Flow, Language
from ..problems import Problem
from ..served import LineHolder, content_version
from ..transcript import recording_rows


@dataclass(frozen=True)
class Validation:
    """What `ivr validate` (or `--production`) says about the files on disk."""

    production: bool
    line: Line | None  # None: the line would not start
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]


def validate(root: Path, production: bool) -> Validation:
    line, problems = check(root, production=production)
    return Validation(production, line, tuple(problems))


@dataclass(frozen=True)
class Health:
    """The served version, the last reload, and the files on disk checked both ways."""

    holder: LineHolder
    disk_version: str
    development: Validation
    production: Validation

    @property
    def files_changed(self) -> bool:
        return self.disk_version != self.holder.current.version


def files_changed(holder: LineHolder) -> bool:
    """Whether the content files differ from the version the line serves (the flow page's question;
    the health page's Health answers it with the version it has read)."""
    return content_version(holder.root) != holder.current.version


def health(holder: LineHolder) -> Health:
    root = holder.root
    return Health(holder, content_version(root), validate(root, False), validate(root, True))


def drawn_and_checked(root: Path) -> tuple[Flow | None, Validation]:
    """The flow as the menu files say it, before any check (phase one of `ivr.flow.check`), so a
    broken flow can still be drawn with its problems (None when it cannot be built at all); and
    what `ivr validate` says of the files, the menus read once for both."""
    if not menu_files(root):
        return None, validate(root, False)
    builder = read_menus(root)
    drawn = build_flow(builder, root)
    line, problems = check_built(builder, drawn, root)
    return drawn, Validation(False, line, tuple(problems))


_REVIEW = re.compile(r"^#\s*REVIEW STATUS:\s*(.*)$")


def review_status(root: Path, code: str) -> str | None:
    """The `REVIEW STATUS:` line of a catalog's header (with the comment lines that finish its
    sentence), or None when it has none."""
    path = i18n.catalog_path(root, code)
    try:
        header = path.read_text(encoding="utf-8").split('msgid ""', 1)[0].splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for index, text in enumerate(header):
        found = _REVIEW.match(text)
        if found:
            words = [found.group(1).strip()]
            for more in header[index + 1:]:
                if words[-1].endswith(".") or not more.startswith("#") or not more[1:].strip():
                    break
                words.append(more[1:].strip())
            return " ".join(words)
    return None


@dataclass(frozen=True)
class LanguageState:
    """One language of the line, as a translator or a program manager needs to see it."""

    language: Language
    offered: bool  # in the language menu now
    done: int  # sentences translated, or prompts recorded
    total: int
    review: str | None  # the catalog's REVIEW STATUS line; None for the source language
    source: bool  # the language the menus are written in

    @property
    def complete(self) -> bool:
        return self.done == self.total


def languages(line: Line, root: Path) -> list[LanguageState]:
    """Every language of the served line, offered or still waiting, with how complete it is on disk."""
    flow = line.flow
    sources = {text.source for _path, text in flow.texts() if not text.only_numbers}
    return [language_state(line, root, code, sources) for code in {**flow.languages, **flow.pending_languages}]


def language_state(line: Line, root: Path, code: str, sources: set[str] | None = None,
                   rows: list[dict[str, str]] | None = None) -> LanguageState:
    """One language of the served line (offered or waiting): how complete it is on disk. `sources`
    (the sentences to translate) and a recorded language's `rows` are worked out if not given."""
    flow = line.flow
    language = flow.languages.get(code) or flow.pending_languages[code]
    offered = code in flow.languages
    if sources is None:
        sources = {text.source for _path, text in flow.texts() if not text.only_numbers}
    if code == flow.default_language:
        return LanguageState(language, offered, len(sources), len(sources), None, True)
    if language.audio:
        rows = recording_rows(line, code) if rows is None else rows
        done, total = sum(1 for r in rows if r["recorded"] == "yes"), len(rows)
    else:
        try:
            catalog = i18n.load_catalog(root, code) or {}
        except i18n.CatalogError:
            catalog = {}
        done, total = sum(1 for s in sources if i18n.translation(catalog, s)), len(sources)
    return LanguageState(language, offered, done, total, review_status(root, code), False)


def problems_of_language(problems: tuple[Problem, ...], code: str) -> list[Problem]:
    """The problems `ivr validate` finds in one language: in its catalog, or at its entry in the menus."""
    catalog = str(i18n.catalog_path(Path("."), code))
    entry = f"line.languages.{code}"
    return [p for p in problems if p.file == catalog or p.path == entry or p.path.startswith(entry + ".")]
