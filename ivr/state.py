"""The line being served, swapped whole on reload so a failed reload leaves the last good one."""
from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from .flow import FlowError, load_line
from .twiml import Renderer

log = logging.getLogger(__name__)


class LineState:
    """Holds the current renderer. Readers take `self.renderer` once per request."""

    def __init__(self, root: Path, production: bool = False, transfer_log: str | None = None,
                 reload_seconds: float = 0):
        self.root = Path(root)
        self.production = production
        self.transfer_log = Path(transfer_log) if transfer_log else None
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._signature = self.content_signature()
        self.renderer = self._load()  # raises FlowError: a broken flow never starts serving
        self.last_resort = self.renderer.render_last_resort()
        # The loaded line (and the ZIP code table) is hundreds of thousands of objects that live
        # as long as the process. Frozen, the garbage collector stops walking them on every full
        # collection, which otherwise stalls a request now and then for about 100 ms, and forked
        # workers keep sharing their pages with the master. (Freezing is cheap; a collection
        # first would cost every start the time of a full walk.)
        gc.freeze()
        if reload_seconds > 0:
            self._start_watcher()
            # Threads do not survive a fork: gunicorn's workers, forked from a preloading master,
            # each start their own (at no cost to requests).
            os.register_at_fork(after_in_child=self._start_watcher)

    def _load(self) -> Renderer:
        line = load_line(self.root, self.production)
        for warning in line.warnings:
            log.warning("%s", warning)
        return Renderer(line)

    @staticmethod
    def _settle() -> None:
        """After a reload: let the replaced line be collected, then freeze the new one."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def content_signature(self) -> tuple:
        """Names, sizes and times of every content file, to notice a saved change."""
        patterns = ("menus/*.yaml", "locales/*/LC_MESSAGES/messages.po", "locales/*/audio/*", "*/*.csv")
        found = []
        for pattern in patterns:
            for path in self.root.glob(pattern):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(found))

    def _start_watcher(self) -> None:
        threading.Thread(target=self._watch, name="ivr-content-watcher", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.reload_seconds)
            signature = self.content_signature()
            if signature != self._signature:
                self._signature = signature
                log.info("content changed on disk; reloading")
                self.reload()

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
            self._settle()
            log.info("reloaded the flow from %s", self.root)
            return True
