"""The `line.directory` section, and the directory data checked against the flow that searches it."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .build import Builder
from .directory import Directory, code_key, load_directory
from .model import DIRECTORY, AreaOption, DirectorySettings, Flow
from .problems import Problem
from .source import KeyPath, Source

#: What the line says in a directory search; required once the flow has a directory node.
DIRECTORY_PHRASES = ("dir_ask_zip", "dir_unknown_zip", "dir_outside", "dir_too_short", "dir_offer",
                     "dir_results", "dir_none", "dir_open_until", "dir_closed_opens", "dir_extension",
                     "dir_text_offer", "dir_after", "dir_text_sent", "dir_text_failed", "dir_text_header")
#: Words a shared phone's message preview must not show.
PRIVATE_WORDS = re.compile(r"overdos|drug|naloxone|narcan|opioid|syringe|needle|addict", re.IGNORECASE)


def parse(builder: Builder, src: Source, spec: Any) -> DirectorySettings:
    path: KeyPath = ("line", "directory")
    spec = builder.mapping(src, path, spec)
    for unknown in sorted(set(spec) - {"folder", "state", "areas"}):
        builder.fail(src, path + (unknown,), "unknown field (expected folder, state, areas)")
    us_state = spec.get("state")
    if not isinstance(us_state, str) or not re.fullmatch(r"[A-Z]{2}", us_state):
        builder.fail(src, path + ("state",), "needs 'state': the two-letter US state, e.g. ME")
        us_state = ""
    areas = _areas(builder, src, path + ("areas",), spec.get("areas"))
    return DirectorySettings(str(spec.get("folder", "directory")), us_state, MappingProxyType(areas))


def _areas(builder: Builder, src: Source, path: KeyPath, spec: Any) -> dict[str, AreaOption]:
    found: dict[str, AreaOption] = {}
    for key, option in builder.mapping(src, path, spec).items():
        here = path + (key,)
        if len(key) != 1 or key not in "123456789":
            builder.fail(src, here, f"'{key}' must be a key from 1 to 9 (0, 9 and * work everywhere)")
            continue
        option = builder.mapping(src, here, option)
        say = builder.text(src, here + ("say",), option.get("say"))
        county, children = option.get("county"), option.get("options")
        if (county is None) == (children is None):
            builder.fail(src, here, "needs either 'county' (a county's name) or 'options' (its counties)")
            continue
        nested = _areas(builder, src, here + ("options",), children) if children is not None else {}
        if say:
            found[key] = AreaOption(key, say, str(county) if county else None, MappingProxyType(nested))
    return found


def check_directory(flow: Flow, root: Path, production: bool) -> tuple[Directory | None, list[Problem]]:
    """Load the HSDS data the directory nodes search and check the nodes against it."""
    nodes = [n for n in flow.nodes.values() if n.kind == DIRECTORY]
    if not nodes:
        return None, []
    problems: list[Problem] = []
    settings = flow.directory
    if settings is None:
        return None, [Problem.at(nodes[0].where, "a directory node needs a 'directory' section in 'line' "
                                                 "(folder, state, areas)")]
    for name in DIRECTORY_PHRASES:
        if name not in flow.phrases:
            problems.append(Problem(nodes[0].where.file, 1, "line.phrases", f"missing the phrase '{name}'"))
    header = flow.phrases.get("dir_text_header")
    if header and PRIVATE_WORDS.search(header.source):
        problems.append(Problem.at(header.where, "the text message's first line shows on a locked, shared "
                                                 "phone: keep words like drug, overdose and naloxone out of it"))
    folder = root / settings.folder
    shown = f"{settings.folder}/"
    try:
        directory, data_problems = load_directory(folder, settings.us_state)
    except (csv.Error, UnicodeDecodeError, OSError) as exc:  # a file the loader could not read at all
        return None, [Problem(shown, 1, "", f"the directory cannot be read: {type(exc).__name__}: {exc}")]
    for problem in data_problems:  # bad rows are skipped, not fatal: the good ones still serve
        problems.append(Problem(shown + problem.file, problem.line, "", problem.message, warning=True))
    if directory is None:
        problems.append(Problem(shown, 1, "", "the directory cannot be read (see above)"))
        return None, problems
    written = {code_key(k) for k in directory.kinds}
    for node in nodes:
        if directory.count(node.service_codes):
            continue
        codes = ", ".join(node.service_codes)
        if any(code_key(code) in written for code in node.service_codes):  # a term of the data that no place has yet: callers hear "no listing", and 2-1-1
            problems.append(Problem.at(node.where, f"no place in {shown} has the code(s) {codes} yet: callers "
                                                   "will hear that there is no listing near them", warning=True,
                                       suffix=".kind"))
        else:
            common = ", ".join(code for code, _count in directory.common_codes(20))
            problems.append(Problem.at(node.where, f"{codes}: no such taxonomy code in {shown} (a typo, or the "
                                                   f"2-1-1's own codes?); the data's most common codes: {common}",
                                       suffix=".kind"))
    for county in _counties(settings.areas):
        if county not in directory.county_centres:
            problems.append(Problem(nodes[0].where.file, 1, "line.directory.areas",
                                    f"'{county}' is not a county of {settings.us_state}"))
    if production and directory.sample:
        problems.append(Problem(shown, 1, "", "this is the shipped sample directory: load the real "
                                "data with `ivr directory import PATH` before going live"))
    return directory, problems


def _counties(areas: Mapping[str, AreaOption]) -> list[str]:
    found = []
    for option in areas.values():
        if option.county:
            found.append(option.county)
        found.extend(_counties(option.options))
    return found
