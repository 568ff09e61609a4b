"""What a serving process does beyond answering requests: logging, the garbage collector, and the
content watcher. Called by gunicorn's hooks (gunicorn.conf.py) or an explicit start, never by
`create_app`, so a test or a second app in one process inherits none of it."""
from __future__ import annotations

import gc
import logging.config
from typing import Any

from flask import Flask

from .security import is_loopback
from .watcher import ContentWatcher

#: Logging for a serving process (gunicorn's `logconfig_dict`, or `configure_logging()`).
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}},
    # Other libraries' warnings reach stderr through Python's last-resort handler.
    "root": {"level": "WARNING", "handlers": []},
    "loggers": {
        "ivr": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # Twilio's HTTP client logs each API request at INFO, numbers included: keep it quieter.
        "twilio.http_client": {"level": "WARNING"},
    },
}


def configure_logging() -> None:
    logging.config.dictConfig(LOGGING)


def stop_worker(app: Flask) -> None:
    """When a worker exits: store the counts it still holds."""
    if isinstance(app, Flask) and "ivr.stats" in app.extensions:
        app.extensions["ivr.stats"].stop()


def unsafe_binding(app: Flask, addresses: list) -> str | None:
    """Why the line must not serve on these socket addresses, or None. The development mode
    checks no signature, so it may listen on a loopback address (or a unix socket) only."""
    settings = app.extensions.get("ivr.settings") if isinstance(app, Flask) else None
    if settings is None or not settings.insecure_dev_mode:
        return None
    for address in addresses:
        host = address[0] if isinstance(address, tuple) else None
        if host is None:
            continue  # a unix socket: this machine only
        if not is_loopback(host):
            return (f"IVR_INSECURE_DEV_MODE checks no Twilio signature, so it serves on a loopback "
                    f"address only (127.0.0.1 or ::1), not {host}: set TWILIO_AUTH_TOKEN instead")
    return None


def freeze_loaded() -> None:
    """After loading: the loaded line (and the ZIP code table) is hundreds of thousands of objects
    that live as long as the process. Frozen, the garbage collector stops walking them on every
    full collection, which otherwise stalls a request now and then for about 100 ms, and forked
    workers keep sharing their pages with the master. (Freezing is cheap; a collection first
    would cost every start the time of a full walk.)"""
    gc.freeze()


def settle_after_reload() -> None:
    """After a reload: let the replaced line be collected, then freeze the new one."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def start_worker(app: Flask) -> ContentWatcher | None:
    """In each serving process (a gunicorn worker, after the fork): the statistics' writer, and
    the content watcher if the line reloads its content. Threads do not survive a fork, so each
    worker starts its own."""
    settings = app.extensions.get("ivr.settings") if isinstance(app, Flask) else None
    if settings is None:
        return None  # not the line (a benchmark's floor app)
    app.extensions["ivr.stats"].start()
    if settings.reload_seconds <= 0:
        return None
    seconds = settings.reload_seconds
    watcher = ContentWatcher(app.extensions["ivr"], seconds, after_reload=settle_after_reload).start()
    app.extensions["ivr.watcher"] = watcher
    return watcher
