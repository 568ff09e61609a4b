"""`ivr directory import`: take a 2-1-1's HSDS export, check it with the whole line, then swap it in.

Rows that cannot help a caller are left out with the reason (all-or-nothing with `strict`). Before
anything is replaced the line is loaded as it would run with the new data: every search of the flow
must find places, and the new data must not lose most of what the current directory has. The new
folder is written beside `directory/` and renamed into place, so a failure at any step leaves the
old data serving. No click here: the command in cli.py prints what this returns.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .directory import (REFUSED, SAMPLE_MARKER, Directory, Issue, code_key, read_directory, read_manifest,
                        write_manifest)
from .directory_hsds import OPTIONAL_FILES, REQUIRED_FILES, Reader
from .flow import check, menu_files
from .model import DIRECTORY
from .source import load

#: Lines shown per kind of issue unless every one is asked for: enough to see the pattern.
SHOWN_PER_REASON = 10
#: Our own files in directory/ that an import keeps (the export replaces the data, not the notes).
KEPT_FILES = ("README.md",)


@dataclass
class Options:
    dry_run: bool = False
    strict: bool = False        # any row left out refuses the whole import
    accept_fewer: bool = False  # accept a directory with less than half of the current one
    verbose: bool = False       # list every issue, not SHOWN_PER_REASON of each kind


@dataclass
class Outcome:
    """What the command prints: `problems` (stderr) then `summary` (stdout); `ok` is the exit."""

    ok: bool = False
    problems: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    def refuse(self, why: str) -> "Outcome":
        self.ok = False
        self.summary.append(f"Nothing imported: {why}")
        self.summary.append("The line keeps serving its current directory.")
        return self


def import_directory(root: Path, source: Path, options: Options) -> Outcome:
    """Import the export in `source` into the line whose content is in `root`."""
    outcome = Outcome()
    root = Path(root)
    config = line_searches(root)
    if config is None:
        return outcome.refuse("this line has no 'directory' section in menus/ (folder, state, areas)")
    target = root / config.folder
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.import-", dir=target.parent))
    try:
        # mkdtemp makes it private (0700); the served folder keeps the permissions it had.
        staged.chmod(target.stat().st_mode & 0o7777 if target.is_dir() else 0o755)
        _stage(Path(source), staged, target)
        loaded = read_directory(staged, config.state)
        outcome.problems = _shown(loaded.issues, options.verbose)
        outcome.summary = _counts(loaded.read, loaded.issues, loaded.notes, loaded.directory)
        if loaded.directory is None:
            return outcome.refuse(next(i.message for i in loaded.issues if i.reason == REFUSED))
        left_out = sum(1 for i in loaded.issues if i.skipped)
        if options.strict and left_out:
            return outcome.refuse(f"--strict, and {left_out:,} rows would be left out (see above)")
        outcome.summary.append("Searches of the line: " + ", ".join(
            f"{_name(kind)} {loaded.directory.count(kind):,} places" for kind, _ in config.searches)
            + ".")
        refusal = _search_refusal(config.searches, loaded.directory)
        if refusal:
            return outcome.refuse(refusal)
        checked, problems = _check_line(root, config.folder, staged)
        if checked is None or checked.directory is None:
            outcome.problems += [_short(str(p)) for p in problems if not p.warning]
            return outcome.refuse("the line does not load with this data (see the lines above)")
        directory = checked.directory
        lost = _losses(target, directory, config.state)
        if lost and not options.accept_fewer:
            return outcome.refuse(f"it keeps only {'; '.join(lost)} in the current directory: a file cut "
                                  "short? Check the export; --accept-fewer takes it all the same.")
        if options.dry_run:
            outcome.ok = True
            outcome.summary.append("Checked with the whole line: it would serve this data. "
                                   "Nothing copied (--dry-run).")
            return outcome
        write_manifest(staged, directory, Path(source).name,
                       datetime.now(timezone.utc).isoformat(timespec="seconds"))
        _swap(staged, target)
        outcome.ok = True
        outcome.summary.append(f"Imported into {target}. A running line reloads {config.folder}/ by "
                               "itself within IVR_RELOAD_SECONDS (5 s under `make run`); one started "
                               "without it serves the new data after a restart.")
        return outcome
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _stage(source: Path, staged: Path, target: Path) -> None:
    """Copy the files the line reads (by the spec's names or their old aliases) and our notes."""
    export = Reader(source)
    for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
        path = export.path(name)
        if path is not None:
            shutil.copyfile(path, staged / path.name)
    for name in KEPT_FILES:
        if (target / name).is_file():
            shutil.copyfile(target / name, staged / name)


def _check_line(root: Path, folder: str, staged: Path) -> tuple:
    """Load the whole line as it would run with `staged` as its directory folder: a content root
    of symbolic links to `root`'s content, with the folder pointing at `staged`."""
    overlay = Path(tempfile.mkdtemp(prefix="ivr-line-check-"))
    try:
        parts, here, there = Path(folder).parts, root, overlay
        for depth, part in enumerate(parts):
            for child in here.iterdir() if here.is_dir() else ():
                if child.name != part:
                    (there / child.name).symlink_to(child.resolve())
            if depth == len(parts) - 1:
                (there / part).symlink_to(staged.resolve())
            else:
                here, there = here / part, there / part
                there.mkdir()
        return check(overlay)
    finally:
        shutil.rmtree(overlay, ignore_errors=True)


@dataclass
class LineDirectory:
    """What the import needs of the line's menus: where its directory is, and what it searches."""

    folder: str
    state: str
    searches: list[tuple[str | tuple[str, ...], str]]  # (code or codes, where it is written)


def line_searches(root: Path) -> LineDirectory | None:
    """Read from menus/ without checking the line, which cannot load yet when its searches name
    codes only the new data has (changing `kind:` to a 2-1-1's codes comes before its import)."""
    directory, searches = None, {}
    for path in menu_files(root):
        src, _problems = load(path, display=str(path.relative_to(root)))
        data = src.data if isinstance(src.data, dict) else {}
        line = data.get("line") if isinstance(data.get("line"), dict) else {}
        if isinstance(line.get("directory"), dict):
            directory = line["directory"]
        nodes = data.get("nodes") if isinstance(data.get("nodes"), dict) else {}
        for node_id, spec in nodes.items():
            if isinstance(spec, dict) and spec.get("type") == DIRECTORY and spec.get("kind"):
                # Stripped as the line reads it (DirectorySearch.parse).
                kind = spec["kind"].strip() if isinstance(spec["kind"], str) else \
                    tuple(str(code).strip() for code in spec["kind"])
                where = f"{src.file}:{src.line(('nodes', node_id))} {node_id}"
                searches.setdefault(_name(kind), (kind, where))
    if directory is None:
        return None
    return LineDirectory(str(directory.get("folder", "directory")), str(directory.get("state", "")),
                         list(searches.values()))


def _short(text: str, limit: int = 500) -> str:
    """A problem line a person can read: the line's own checks may list every code of the data."""
    return text if len(text) <= limit else f"{text[:limit]} ... ({len(text) - limit:,} more characters)"


def _search_refusal(searches: list, directory: Directory) -> str | None:
    """Why the line's searches cannot run on `directory` (a search that finds no place, or names a
    code the data writes otherwise), or None. Never every code: the 20 most common."""
    missing = [(kind, where) for kind, where in searches if directory.count(kind) == 0]
    spelled = [(kind, where) for kind, where in searches if isinstance(kind, str)
               and directory.count(kind) and kind not in directory.kinds]
    if not missing and not spelled:
        return None
    common = ", ".join(f"{code} ({n:,})" for code, n in directory.common_codes(20)) or "none"
    said = []
    if missing:
        said.append("no place for the search(es) "
                    + "; ".join(f"{_name(kind)} ({where})" for kind, where in missing) + ".")
    for kind, where in spelled:
        written = next(code for code in directory.kinds if code_key(code) == code_key(kind))
        said.append(f"The search {kind} ({where}) is written {written} in the data: write it so in "
                    "menus/.")
    return (" ".join(said) + f" The export's 20 most common taxonomy codes: {common}. Set `kind:` in "
            "menus/ to the codes your 2-1-1 uses (directory/README.md maps the usual ones).")


def _name(kind) -> str:
    return kind if isinstance(kind, str) else "+".join(kind)


def _losses(target: Path, directory: Directory, state: str) -> list[str]:
    """What the new data keeps less than half of, compared with the directory it replaces (the
    shipped sample is not data to keep)."""
    if not target.is_dir() or (target / SAMPLE_MARKER).exists():
        return []
    before = read_manifest(target)
    if before is None:
        current = read_directory(target, state).directory
        if current is None:
            return []
        before = current.measures
    return directory.measures.losses(before)


def _swap(staged: Path, target: Path) -> None:
    """Rename the new folder into place; the old one is renamed aside first and put back if that
    fails, so `target` is never a half-written folder."""
    if not target.exists():
        os.rename(staged, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    aside.rmdir()
    os.rename(target, aside)
    try:
        os.rename(staged, target)
    except OSError:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _shown(issues: list[Issue], verbose: bool) -> list[str]:
    """Each issue as file:row: message, at most SHOWN_PER_REASON of a kind unless `verbose`."""
    shown, seen = [], Counter()
    for issue in issues:
        if issue.reason == REFUSED:
            continue
        seen[issue.reason] += 1
        if verbose or seen[issue.reason] <= SHOWN_PER_REASON:
            shown.append(str(issue))
    hidden = sum(max(0, n - SHOWN_PER_REASON) for n in seen.values())
    if hidden and not verbose:
        shown.append(f"... and {hidden:,} more like these (--verbose lists every one)")
    return shown


def _counts(read: dict[str, int], issues: list[Issue], notes: list[str],
            directory: Directory | None) -> list[str]:
    """The summary's numbers: rows read, places kept, rows left out by reason."""
    lines = ["Read: " + ", ".join(f"{name} {n:,} rows" for name, n in read.items()) + "."]
    lines += [f"Note: {note}." for note in notes]
    if directory is not None:
        m = directory.measures
        lines.append(f"Kept {m.places:,} places to tell callers about: {m.visit:,} to visit, "
                     f"{m.places - m.visit:,} by phone only; {m.with_number:,} with a number to call, "
                     f"{m.with_hours:,} with opening hours.")
    for skipped, title in ((True, "Left out"), (False, "Kept, with a value not used")):
        chosen = [i for i in issues if i.skipped == skipped and i.reason != REFUSED]
        if not chosen:
            continue
        by_reason: dict[str, Counter] = {}
        for issue in chosen:
            by_reason.setdefault(issue.reason, Counter())[issue.file] += 1
        lines.append(f"{title}: {len(chosen):,} rows, by reason:")
        for reason, files in sorted(by_reason.items(), key=lambda item: -sum(item[1].values())):
            per_file = ", ".join(f"{name} {n:,}" for name, n in files.items())
            lines.append(f"  {sum(files.values()):>7,}  {reason} ({per_file})")
    return lines
