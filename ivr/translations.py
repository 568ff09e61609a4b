"""The translation round trip: collect every prompt from the menus into `locales/messages.pot`, and
merge it into each language's catalog, changing only what changed.

Catalogs are written one entry per sentence (no re-wrapping) and located by their key path
(`#. nodes.main.say`) and file, not by line number, so that editing one sentence of the menus
changes that sentence in each catalog and nothing else: the review diff stays readable.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .flow import menu_files
from .i18n import catalog_files, catalog_path
from .source import load

TEMPLATE = Path("locales") / "messages.pot"
METHOD_MAP = [("menus/**.yaml", "ivr_yaml")]


def line_name(root: Path) -> str:
    """The line's name from its `line` section, even when the line does not load yet."""
    for path in menu_files(root):
        src, _ = load(path)
        data = src.data if isinstance(src.data, dict) else {}
        line = data.get("line")
        if isinstance(line, dict) and isinstance(line.get("name"), str):
            return line["name"]
    return root.resolve().name


def template(root: Path, project: str) -> Catalog:
    """Every prompt of the menus under `root`, with its key path for the translator."""
    catalog = Catalog(project=project, version="", msgid_bugs_address="", fuzzy=False,
                      header_comment=f"# Every prompt of {project}, for translators. Made by `ivr translations update`\n"
                                     "# from menus/: do not edit it here; edit menus/ and run that again.")
    for filename, lineno, message, comments, context in extract_from_dir(root, METHOD_MAP):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_lineno=False, ignore_obsolete=True)
    return buffer.getvalue()


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


@dataclass(frozen=True)
class Merged:
    """What `update` did to one catalog."""

    path: Path
    changed: bool
    untranslated: int  # entries with no translation yet
    fuzzy: int  # entries whose translation is a guess from a similar sentence, to check


def update(root: Path, project: str) -> tuple[bool, list[Merged]]:
    """Write the template and merge it into every language's catalog. New sentences arrive empty
    (or, when an old sentence is close, with its translation marked fuzzy: a fuzzy entry is not
    spoken until a translator confirms it); sentences gone from the menus are dropped."""
    pot_path = root / TEMPLATE
    fresh = template(root, project)
    if pot_path.exists():
        old = read_po(io.BytesIO(pot_path.read_bytes()))
        fresh.creation_date = old.creation_date  # a date change alone is not a change
    pot_changed = _write_if_changed(pot_path, render(fresh))
    merged = []
    for path in catalog_files(root):
        catalog = read_po(io.BytesIO(path.read_bytes()), locale=path.parent.parent.name)
        catalog.update(fresh, update_creation_date=False)
        changed = _write_if_changed(path, render(catalog))
        entries = [m for m in catalog if m.id]
        merged.append(Merged(path, changed, sum(1 for m in entries if not m.string),
                             sum(1 for m in entries if m.fuzzy)))
    return pot_changed, merged


def add(root: Path, code: str, project: str) -> Path:
    """Start a catalog for a new language; never overwrites one. Raises FileExistsError or ValueError."""
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError) as exc:
        raise ValueError(f"'{code}' is not a language code babel knows (like fr, pt_BR, so): {exc}") from None
    path = catalog_path(root, code)
    if path.exists():
        raise FileExistsError(f"{path} exists already: `ivr translations update` brings it up to date")
    catalog = Catalog(locale=code, project=project, version="", msgid_bugs_address="", fuzzy=False,
                      header_comment=f"# {Locale.parse(code).english_name} translation of {project}.\n"
                                     "# REVIEW STATUS: not yet translated.")
    for message in template(root, project):
        if message.id:
            catalog.add(message.id, None, message.locations, auto_comments=message.auto_comments)
    _write_if_changed(path, render(catalog))
    return path
