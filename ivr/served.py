"""The line being served: loaded whole, swapped whole, so a refused reload leaves the last good one.

Readers take `holder.current` once per request and use that snapshot to the end of it.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import twiml
from .flow import load_line
from .line import Line
from .kinds import KINDS
from .navigator import Navigator
from .problems import FlowError, Problem

log = logging.getLogger(__name__)

#: The files a line is made of, relative to its content folder.
CONTENT_PATTERNS = ("menus/*.yaml", "locales/*/LC_MESSAGES/messages.po", "locales/*/audio/*", "*/*.csv")


@dataclass(frozen=True)
class Served:
    """One loaded version of the line and what is worked out from it once."""

    line: Line
    navigator: Navigator
    last_resort: str  # TwiML for when even an apology fails: straight to a person (rendered once)
    version: str  # a hash of the content files, to tell which version a host serves
    loaded_at: datetime


def content_files(root: Path) -> list[Path]:
    found = []
    for pattern in CONTENT_PATTERNS:
        found.extend(p for p in root.glob(pattern) if p.is_file())
    return sorted(found)


def content_signature(root: Path) -> tuple:
    """Names, sizes and times of every content file, to notice a saved change cheaply."""
    found = []
    for path in content_files(root):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def content_version(root: Path) -> str:
    digest = hashlib.sha256()
    for path in content_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()[:12]


class LineHolder:
    """Holds the served line, and loads it again on request."""

    def __init__(self, root: Path, production: bool = False, clock: Callable[[], datetime] | None = None):
        self.root = Path(root)
        self.production = production
        self.clock = clock
        self._lock = threading.Lock()  # one reload at a time; readers never wait for it
        self.last_refusal: tuple[datetime, Problem] | None = None
        self.current = self._load()  # raises FlowError: a broken line never starts serving

    def _load(self) -> Served:
        version = content_version(self.root)
        line = load_line(self.root, self.production)
        for warning in line.warnings:
            log.warning("%s", warning)
        navigator = Navigator(line, KINDS, self.clock)
        return Served(line, navigator, twiml.render(navigator.last_resort()), version,
                      datetime.now(timezone.utc))

    def reload(self) -> bool:
        """Load the content again; on any problem keep serving the last good line. Never raises:
        whatever goes wrong is a refusal, logged, and shown by /healthz."""
        with self._lock:
            try:
                served = self._load()
                problems = shrunk_directory(self.current.line, served.line)
            except FlowError as exc:
                problems = exc.problems
            except Exception as exc:  # noqa: BLE001 - a reload must never take the line down
                log.exception("reload failed unexpectedly")
                problems = [Problem("content", 1, "", f"could not be loaded: {type(exc).__name__}: {exc}")]
            if problems:
                for problem in problems:
                    log.error("reload refused, still serving the last good line: %s", problem)
                self.last_refusal = (datetime.now(timezone.utc), problems[0])
                return False
            self.current = served
            self.last_refusal = None
            log.info("reloaded the line from %s (version %s)", self.root, served.version)
            return True


def shrunk_directory(old: Line, new: Line) -> list[Problem]:
    """Problems if `new` would lose most of the places (or of their numbers, or of what a search can
    find) that callers hear about in `old`: a cut-short export (a file cut to its header row, a
    renamed column) must not empty the directory."""
    if old.directory is None:
        return []
    folder = new.flow.directory.folder if new.flow.directory else "directory"
    if new.directory is None:
        return [Problem(f"{folder}/", 1, "", "the directory would be empty (see the warnings above)")]
    losses = new.directory.measures.losses(old.directory.measures)
    if not losses:
        return []
    return [Problem(f"{folder}/", 1, "", f"the directory would keep only {'; '.join(losses)}: a file is "
                    "probably cut short or a column renamed (see the warnings above). If that is right, "
                    "restart the line to serve it")]
