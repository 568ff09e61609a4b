"""Reload the line when a content file is saved: a thread of its own, started explicitly."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from .served import LineHolder, content_signature

log = logging.getLogger(__name__)


class ContentWatcher:
    """Checks the content folder every `interval` seconds and reloads the line when it changed.

    `after_reload` runs after each successful reload (the runtime lets the old line be collected).
    """

    def __init__(self, holder: LineHolder, interval: float, after_reload: Callable[[], None] = lambda: None):
        self.holder = holder
        self.interval = interval
        self.after_reload = after_reload
        self._stop = threading.Event()
        self._signature = content_signature(holder.root)
        self._thread: threading.Thread | None = None

    def start(self) -> "ContentWatcher":
        self._thread = threading.Thread(target=self._run, name="ivr-content-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def check(self) -> bool | None:
        """Reload if a file changed: True or False for how the reload went, None if nothing changed."""
        signature = content_signature(self.holder.root)
        if signature == self._signature:
            return None
        self._signature = signature
        log.info("content changed on disk; reloading")
        reloaded = self.holder.reload()
        if reloaded:
            self.after_reload()
        return reloaded

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watcher must outlive anything a file does to it
                log.exception("checking the content failed; still watching")
