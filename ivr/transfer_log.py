"""How each transfer's leg ended, as JSON lines, with no phone number: for the program's records."""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)


class TransferLog:
    """Appends one JSON line per ended transfer leg. Its own lock: a status callback never waits
    for anything but another status callback."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()

    def record(self, record: dict[str, str]) -> None:
        line = json.dumps({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **record})
        log.info("transfer ended: %s", line)
        if self.path:
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
