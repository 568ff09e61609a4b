"""The line being served, swapped whole on reload so a failed reload leaves the last good one."""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path

from .flow import FlowError, load_line
from .twiml import Renderer

log = logging.getLogger(__name__)


class LineState:
    """Holds the current renderer. Readers take `self.renderer` once per request."""

    def __init__(self, root: Path, production: bool = False, transfer_log: str | None = None):
        self.root = Path(root)
        self.production = production
        self.transfer_log = Path(transfer_log) if transfer_log else None
        self._lock = threading.Lock()
        self.renderer = self._load()  # raises FlowError: a broken flow never starts serving
        self.last_resort = self.renderer.render_last_resort()

    def _load(self) -> Renderer:
        line = load_line(self.root, self.production)
        for warning in line.warnings:
            log.warning("%s", warning)
        return Renderer(line)

    def record_transfer(self, record: dict[str, str]) -> None:
        """One JSON line per ended transfer leg, for analytics; holds no phone number."""
        line = json.dumps({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **record})
        log.info("transfer ended: %s", line)
        if self.transfer_log:
            with self._lock, self.transfer_log.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def reload(self) -> bool:
        """Load the content again; on any problem keep serving the last good flow."""
        with self._lock:
            try:
                renderer = self._load()
            except FlowError as exc:
                for problem in exc.problems:
                    log.error("reload refused, still serving the last good flow: %s", problem)
                return False
            self.renderer = renderer
            self.last_resort = renderer.render_last_resort()
            log.info("reloaded the flow from %s", self.root)
            return True
