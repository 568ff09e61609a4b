"""Fixtures: an app on the demo line, and a `Call` that walks a call with signed requests."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import time_machine
from datetime import datetime
from zoneinfo import ZoneInfo

from ivr import create_app
from ivr.simulate import CallParams, signed_post

pytest_plugins = ["postgres"]  # a real PostgreSQL server for the statistics tests (tests/postgres.py)

TOKEN = "test-auth-token"
HERE = Path(__file__).resolve().parent
DEMO = HERE / "fixtures" / "demo"
REPO = HERE.parent


def maine_copy(tmp_path: Path) -> Path:
    """A copy of the built-in line's content, to change in a test."""
    root = tmp_path / "maine"
    for folder in ("menus", "locales", "directory"):
        shutil.copytree(REPO / folder, root / folder)
    return root


class Twiml:
    """A parsed TwiML answer with the questions tests ask of it."""

    def __init__(self, response):
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        self.root = ET.fromstring(response.data)

    def says(self) -> list[str]:
        return [e.text or "" for e in self.root.iter("Say")]

    def text(self) -> str:
        return " ".join(self.says())

    def voices(self) -> set[tuple[str, str]]:
        return {(e.get("language"), e.get("voice")) for e in self.root.iter("Say")}

    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    def find(self, path: str) -> ET.Element | None:
        return self.root.find(path)


class Call:
    """One caller's call: every request signed as Twilio signs it, state only in the URLs."""

    def __init__(self, client, token: str = TOKEN):
        self.client, self.token = client, token
        self.params = CallParams()
        self.last: Twiml | None = None

    def post(self, url: str, **fields: str) -> Twiml:
        self.last = Twiml(signed_post(self.client, self.token, url, {**self.params.fields(), **fields}))
        return self.last

    def start(self) -> Twiml:
        return self.post("/voice")

    def press(self, key: str) -> Twiml:
        gather = self.last.gather()
        assert gather is not None, "no menu is waiting for a key"
        return self.post(gather.get("action"), Digits=key)

    def silence(self) -> Twiml:
        gather = self.last.gather()
        assert gather is not None and gather.get("actionOnEmptyResult") == "true"
        return self.post(gather.get("action"), Digits="")

    def follow(self) -> Twiml:
        """Follow the <Redirect> that ends the current answer."""
        redirect = self.last.find("Redirect")
        assert redirect is not None
        return self.post(redirect.text)

    def dial_ends(self, status: str, bridged: bool = False) -> Twiml:
        dial = self.last.find("Dial")
        assert dial is not None
        return self.post(dial.get("action"), DialCallStatus=status, DialBridged=str(bridged).lower())

    def choose_language(self, key: str) -> Twiml:
        self.start()
        self.follow()  # past the welcome message
        return self.press(key)


#: A Wednesday morning in Maine, when every destination with office hours is open.
OPEN_HOURS = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture(autouse=True)
def office_hours():
    """Calls are placed at a fixed, open time unless a test travels elsewhere."""
    with time_machine.travel(OPEN_HOURS, tick=False) as traveller:
        yield traveller


@pytest.fixture
def demo_root() -> Path:
    return DEMO


@pytest.fixture
def app(demo_root):
    return create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def call(client) -> Call:
    return Call(client)
