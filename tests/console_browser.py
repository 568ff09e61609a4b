"""A real browser for the console's tests: Playwright driving Debian's Chromium (`apt-get install -y
chromium`; `make test` does it as root), headless, against the app served on loopback by werkzeug's
own server in a thread. Playwright never downloads a browser here (`playwright install` is never
run). Without Chromium the tests that need it fail, saying what to install; they never skip.

Imported by the browser test modules for its fixtures.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("IVR_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL_HINT = "install Debian's Chromium (`apt-get install -y chromium`; `make test` does it when run as root)"
PHONE_SIZE = {"width": 390, "height": 844}  # a phone held upright, in CSS pixels
DESKTOP_SIZE = {"width": 1280, "height": 900}


class LiveServer:
    """A WSGI app served on 127.0.0.1 on a free port, in a thread, until `stop()`."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="console-test-server", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    """Debian's Chromium, launched once for the session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def spoken_recorder() -> str:
    """A script for every page: remembers what the page asks speech synthesis to say, and in
    which language, as window.spoken (headless Chromium has no voices to hear)."""
    return """
      window.spoken = [];
      if (window.speechSynthesis) {
        const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
        window.speechSynthesis.speak = (u) => { window.spoken.push({text: u.text, lang: u.lang}); speak(u); };
      }
    """
