"""Load a line from its content folder in two phases: build every piece (`ivr.build`), then link
and check the whole (`ivr.checks`), then work out what every prompt sounds like (`ivr.speech`).

Every problem is collected, not just the first, each as `file:line key.path: message`, so the
person editing the menus fixes them all in one pass. Nothing here knows about Flask, TwiML or any
one state's services.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from . import directory_settings, i18n
from .build import Builder, build_flow
from .checks import back_targets_and_problems, check_chains, check_keys, check_placeholders
from .kinds import KINDS
from .line import Line
from .model import Flow
from .problems import FlowError, Problem
from .source import load
from .speech import build_speech


def menu_files(root: Path) -> list[Path]:
    return sorted((root / "menus").glob("*.yaml"))


def read_menus(root: Path) -> Builder:
    """Phase one's input: every menu file read (the YAML problems kept in the builder)."""
    builder = Builder(KINDS)
    for path in menu_files(root):
        src, problems = load(path, display=str(path.relative_to(root)))
        builder.problems.extend(problems)
        if src.data is not None:
            builder.add_file(src)
    return builder


def check(root: Path, production: bool = False) -> tuple[Line | None, list[Problem]]:
    """Load and check the line in `root`; return it (None if broken) and every problem found."""
    root = Path(root)
    if not menu_files(root):
        return None, [Problem(str(root / "menus"), 1, "", "no menu files (*.yaml) found")]
    builder = read_menus(root)
    return check_built(builder, build_flow(builder, root), root, production)


def check_built(builder: Builder, flow: Flow | None, root: Path,
                production: bool = False) -> tuple[Line | None, list[Problem]]:
    """The rest of `check`, on menus already read and built (read_menus, build_flow): the console
    draws that phase-one flow and checks it without reading the menus twice."""
    if flow is None:
        return None, builder.problems
    src, spec = builder.line_section  # type: ignore[misc]  # build_flow found it
    if "directory" in spec:
        flow = replace(flow, directory=directory_settings.parse(builder, src, spec["directory"]))
    back = back_targets_and_problems(builder, flow, KINDS)
    check_keys(builder, flow)
    check_chains(builder, flow.languages)
    flow = replace(flow, nodes=MappingProxyType({nid: replace(n, back=back.get(nid)) for nid, n in flow.nodes.items()}))
    check_placeholders(builder, [text for _, text in flow.texts()])
    directory, directory_problems = directory_settings.check_directory(flow, root, production)
    builder.problems.extend(directory_problems)
    if production:
        builder.problems.extend(production_problems(flow))
    # Translations are checked even when the menus have errors: every problem in one run.
    speech, speech_problems, complete = build_speech(flow, root)
    builder.problems.extend(speech_problems)
    builder.problems.extend(unlisted_catalogs(root, flow.languages))
    if any(not p.warning for p in builder.problems):
        return None, builder.problems
    available = {c: lang for c, lang in flow.languages.items() if c in complete}
    pending = {c: lang for c, lang in flow.languages.items() if c not in complete}
    flow = replace(flow, languages=MappingProxyType(available), pending_languages=MappingProxyType(pending))
    warnings = tuple(p for p in builder.problems if p.warning)
    return Line(flow, speech, warnings, directory), builder.problems


def unlisted_catalogs(root: Path, languages) -> list[Problem]:
    """A catalog in locales/ for a language the line does not list is never spoken: say so."""
    found = []
    for path in i18n.catalog_files(root):
        code = path.parent.parent.name
        if code not in languages:
            found.append(Problem(str(path.relative_to(root)), 1, "", f"a catalog for '{code}', which "
                                 "menus/line.yaml does not list, so it is never spoken: add it under "
                                 "line.languages (its key, name, choose sentence, and a voice or audio: true)",
                                 warning=True))
    return found


def production_problems(flow) -> list[Problem]:
    """What stops a line going live (placeholder numbers), and what to confirm first (numbers
    from secondary sources, `status: verify`), in plain words."""
    found = []
    for dest in flow.destinations.values():
        shown = dest.number or dest.call
        if dest.placeholder:
            found.append(Problem.at(dest.where, f"{shown} is a placeholder: fill in the real number of "
                                                f"{dest.name.source} before going live"))
        elif dest.status == "verify":
            found.append(Problem.at(dest.where, f"confirm {shown} for {dest.name.source} before going live "
                                                f"(its source: {dest.source})", warning=True))
    return found


def load_line(root: Path, production: bool = False) -> Line:
    """Load the line or raise FlowError with every problem."""
    line, problems = check(root, production)
    if line is None:
        raise FlowError([p for p in problems if not p.warning])
    return line
