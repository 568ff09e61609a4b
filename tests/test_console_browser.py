"""The console in a real browser (Debian's Chromium through Playwright, headless), against the app
served on loopback: log in, place a whole call on the phone, open the diagram and the statistics,
with the keyboard alone and on a phone-sized screen, and axe-core's accessibility check on every
page. The same tests take the README's screenshots: set IVR_SCREENSHOTS=docs/screenshots to
refresh them (otherwise they go to a temporary folder)."""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from click.testing import CliRunner
from playwright.sync_api import expect

from conftest import REPO, TOKEN, maine_copy
from console_browser import DESKTOP_SIZE, PHONE_SIZE, LiveServer, chromium, spoken_recorder  # noqa: F401
from ivr import create_app
from ivr.cli import main as cli
from ivr.stats.events import CallAnswered, LanguageChosen, TransferEnded
from test_console import PASSWORD

PAGES = {"health": "/console/", "phone": "/console/phone", "flow": "/console/flow", "node": "/console/flow/main",
         "languages": "/console/languages", "language": "/console/languages/es", "recordings": "/console/languages/so",
         "statistics": "/console/statistics"}
SERIOUS = {"serious", "critical"}


@pytest.fixture(autouse=True)
def office_hours():
    """Real time here: the browser's clock is real, and the phone sets the line's clock itself."""
    yield None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The Maine line with the console on, statistics counted, and a few counts to show."""
    folder = tmp_path_factory.mktemp("console")
    users = folder / "console-users"
    CliRunner().invoke(cli, ["console", "add-user", "--file", str(users), "alice"], input=f"{PASSWORD}\n{PASSWORD}\n")
    app = create_app({"CONTENT_ROOT": str(maine_copy(folder)), "TWILIO_AUTH_TOKEN": TOKEN,
                      "CONSOLE_USERS": str(users), "DATABASE_URL": f"sqlite:///{folder / 'stats.sqlite3'}"}, environ={})
    stats = app.extensions["ivr.stats"]
    for lang, calls in (("en", 9), ("es", 6), ("fr", 2)):
        for _ in range(calls):
            stats.record(CallAnswered())
            stats.record(LanguageChosen(lang))
            stats.record(TransferEnded("maine_211", "connected" if lang != "fr" else "busy"))
    stats.flush(final=True)
    live = LiveServer(app)
    yield live, app
    live.stop()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("IVR_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder = folder if folder.is_absolute() else REPO / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_page(chromium, size=DESKTOP_SIZE):
    context = chromium.new_context(viewport=size, locale="en-US")
    context.add_init_script(spoken_recorder())
    context.set_default_timeout(10_000)
    return context.new_page()


def log_in(page, url: str) -> None:
    page.goto(url + "/console/")
    assert "/console/login" in page.url
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/console/")


def line_says(page, text: str) -> None:
    """Wait until the line has said `text` (its case as written: the menus say "services near you"
    long before the directory's own "Services near you")."""
    page.locator("#log li.say", has_text=re.compile(re.escape(text))).last.wait_for()


def test_log_in_and_place_a_whole_call(server, chromium, screenshots):
    live, _app = server
    page = new_page(chromium)
    page.goto(live.url + "/console/login")
    page.screenshot(path=screenshots / "login.png")
    log_in(page, live.url)
    page.get_by_role("link", name="Phone").click()
    page.get_by_role("button", name="Wednesday, 10 am").click()  # a weekday: the liaisons are open
    page.get_by_role("button", name="Call the line").click()
    line_says(page, "If someone may be overdosing, hang up and call 9 1 1 now.")
    line_says(page, "Para español, oprima 2.")
    page.locator("#keypad").get_by_role("button", name="2", exact=True).click()
    line_says(page, "Menú principal")
    spanish = page.locator("#log li.say", has_text="Menú principal").last
    assert spanish.get_attribute("lang") == "es"
    page.locator("#keypad").get_by_role("button", name="1", exact=True).click()  # someone may be overdosing
    line_says(page, "Llame al 9 1 1 ahora.")
    line_says(page, "Paso 1.")
    page.locator("#keypad").get_by_role("button", name="1", exact=True).click()
    line_says(page, "Paso 2. Dele naloxona.")
    for times in (1, 2):  # back to the main menu
        page.locator("#keypad").get_by_role("button", name="star").click()
        expect(page.locator("#log li.caller", has_text="You pressed *")).to_have_count(times)
        expect(page.locator("#log li").last).to_contain_text("asterisco")
    page.locator("#keypad").get_by_role("button", name="7", exact=True).click()  # the crisis line
    page.get_by_text("The line is dialling the Maine Crisis Line").wait_for()
    page.screenshot(path=screenshots / "phone.png")
    page.locator("#dial").get_by_role("button", name="Busy").click()
    line_says(page, "Estamos intentando con otra línea")
    page.get_by_text("The line is dialling 2 1 1 Maine").wait_for()
    page.locator("#dial").get_by_role("button", name="Answered").click()
    page.locator("#log li.end").wait_for()
    assert page.get_by_role("button", name="Call the line").is_enabled()
    spoken = page.evaluate("window.spoken")
    assert {"text": "Paso 1.", "lang": "es-US"} not in spoken  # whole prompts, not pieces
    assert any(s["lang"] == "es-US" and s["text"].startswith("Paso 2. Dele naloxona.") for s in spoken)
    assert any(s["lang"] == "en-US" and "call 9 1 1 now" in s["text"] for s in spoken)
    page.context.close()


def test_the_diagram_and_the_statistics(server, chromium, screenshots):
    live, app = server
    page = new_page(chromium)
    log_in(page, live.url)
    page.screenshot(path=screenshots / "health.png", full_page=True)
    page.get_by_role("link", name="Call flow").click()
    diagram = page.locator("svg.flow")
    assert diagram.locator("a").count() == len(app.extensions["ivr"].current.line.flow.nodes)
    page.screenshot(path=screenshots / "flow.png")
    diagram.locator('a[href="/console/flow/crisis"]').click()
    page.get_by_role("heading", name="Español (es, es-US)").wait_for()
    page.screenshot(path=screenshots / "node.png")
    page.get_by_role("link", name="Statistics").click()
    table = page.get_by_role("table", name=re.compile("^Languages chosen"))
    today = datetime.now(ZoneInfo(app.extensions["ivr"].current.line.flow.time_zone)).date().isoformat()
    row = table.get_by_role("row", name=re.compile(today))
    assert row.get_by_role("cell").all_inner_texts() == ["9", "6", "<5", "15–19"]
    assert "2" not in page.get_by_role("table", name=re.compile("^Languages chosen")).inner_text().split()
    page.screenshot(path=screenshots / "statistics.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download these tables")).click()
    assert download.value.suggested_filename.startswith("statistics-")
    for name in ("languages", "language", "recordings"):
        page.goto(live.url + PAGES[name])
        page.screenshot(path=screenshots / f"{name}.png")
    page.context.close()


def test_a_broken_copy_is_drawn_with_its_problems(server, chromium, screenshots):
    live, app = server
    flow_file = app.extensions["ivr"].root / "menus" / "flow.yaml"
    original = flow_file.read_text()
    flow_file.write_text(original.replace("  goodbye:\n", "  orphan:\n    type: goodbye\n    say: Nobody.\n  goodbye:\n", 1))
    try:
        page = new_page(chromium)
        log_in(page, live.url)
        page.goto(live.url + "/console/flow")
        orphan = page.locator('svg.flow a[href="/console/flow/orphan"]')
        assert "Nothing leads here" in orphan.text_content()
        orphan.scroll_into_view_if_needed()
        page.screenshot(path=screenshots / "flow-broken.png")
        page.context.close()
    finally:
        flow_file.write_text(original)


def test_the_keyboard_alone_logs_in_and_calls(server, chromium):
    live, _app = server
    page = new_page(chromium)
    page.goto(live.url + "/console/phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    page.keyboard.press("Tab")
    page.keyboard.type("alice")  # the name field comes first on the page
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + "/console/phone")
    for _ in range(40):  # Tab along to the call button, as a keyboard user does
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "call":
            break
    page.keyboard.press("Enter")
    line_says(page, "Para español, oprima 2.")
    # The digits typed on the keyboard are the keypad's, and keys typed while the line is still
    # answering are kept for it, as a phone keeps them: 1 English, 8 services near you, 1 by ZIP code.
    page.keyboard.type("181", delay=0)
    line_says(page, "Services near you")
    page.get_by_label(re.compile("Type the keys")).wait_for()
    page.get_by_label(re.compile("Type the keys")).focus()
    page.keyboard.type("04330")
    page.keyboard.press("Enter")
    line_says(page, "Kennebec")
    page.context.close()


def test_a_phone_sized_screen(server, chromium, screenshots):
    live, _app = server
    page = new_page(chromium, PHONE_SIZE)
    log_in(page, live.url)
    for path in PAGES.values():
        page.goto(live.url + path)
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{path} is {wide}px wider than a phone's screen"
    page.goto(live.url + "/console/phone")
    keys = page.locator("#keypad button")
    for index in range(keys.count()):
        box = keys.nth(index).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44  # large enough for a finger
    page.get_by_role("button", name="Call the line").click()
    line_says(page, "For English, press 1.")
    page.locator("#keypad").get_by_role("button", name="1", exact=True).click()
    line_says(page, "Main menu.")
    page.screenshot(path=screenshots / "phone-small.png")
    page.context.close()


@pytest.mark.parametrize("name", ["login", *PAGES])
def test_no_serious_accessibility_problems(server, chromium, name):
    live, _app = server
    page = new_page(chromium)
    if name == "login":
        page.goto(live.url + "/console/login")
    else:
        log_in(page, live.url)
        page.goto(live.url + PAGES[name])
    if name == "phone":  # the phone in a call: the keypad, the log and the keys' list showing
        page.get_by_role("button", name="Call the line").click()
        line_says(page, "For English, press 1.")
    results = Axe().run(page)
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert serious == [], serious
    page.context.close()
