"""The console's pages, read as staff read them: the flow diagram (on a broken copy too), each node in
every language, the languages, the content's health and the statistics."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime

import pytest

from conftest import REPO, TOKEN, maine_copy
from ivr import create_app
from ivr.stats.events import CallAnswered, DirectorySearch, LanguageChosen, TransferEnded
from test_console import log_in, users_file  # noqa: F401 - a fixture

HOUR = datetime(2026, 11, 18, 10)


def staff(root, users_file, **config):
    app = create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN, "CONSOLE_USERS": str(users_file),
                      "STATISTICS": False, **config}, environ={})
    client = app.test_client()
    log_in(client)
    return app, client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def edit(root, file: str, old: str, new: str) -> None:
    path = root / "menus" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def copy(tmp_path, users_file):
    root = maine_copy(tmp_path)
    app, client = staff(root, users_file)
    return root, app, client


def node_box(svg: str, node_id: str) -> str:
    """The SVG of one node's box: its link, rectangle and lines."""
    return re.search(rf'<a href="/console/flow/{node_id}"[^>]*>(.*?)</a>', svg).group(0)


def test_the_diagram_draws_every_node_and_key(copy):
    root, app, client = copy
    flow = app.extensions["ivr"].current.line.flow
    svg = re.search(r"<svg.*</svg>", page(client, "/console/flow"), re.S).group(0)
    for node_id in flow.nodes:
        assert f'href="/console/flow/{node_id}"' in svg
    assert re.search(r'<text class="key"[^>]*>8</text>', svg)  # main's key 8, on its arrow
    crisis = node_box(svg, "crisis")
    assert "dials the Maine Crisis Line" in crisis and "then 2 1 1 Maine" in crisis  # the transfer chain
    assert "dead-end" not in svg and "Nothing leads here" not in svg


def test_a_node_nothing_leads_to_is_marked_on_a_broken_copy(copy):
    root, _app, client = copy
    edit(root, "flow.yaml", "  goodbye:\n", "  orphan:\n    type: goodbye\n    say: Nobody hears this.\n  goodbye:\n")
    svg = page(client, "/console/flow")
    box = node_box(svg, "orphan")
    assert "unreachable" in box and "Nothing leads here" in box and "nothing leads here" in box  # label, words
    assert "The files have changed since the line loaded them" in page(client, "/console/flow")
    assert "nothing leads to this node" in svg  # and in the list of what ivr validate finds


def test_dead_ends_are_marked_on_a_broken_copy(copy):
    root, _app, client = copy
    edit(root, "flow.yaml", '      8: {say: "To find services near you',
         '      "#": {say: "For a loop, press pound.", goto: loop_a}\n      8: {say: "To find services near you')
    edit(root, "flow.yaml", "  goodbye:\n",
         "  loop_a:\n    type: menu\n    say: A.\n    back: loop_b\n    options:\n      1: {say: B, goto: loop_b}\n"
         "  loop_b:\n    type: menu\n    say: B.\n    back: loop_a\n    options:\n      1: {say: A, goto: loop_a}\n"
         "  goodbye:\n")
    text = page(client, "/console/flow")
    for node_id in ("loop_a", "loop_b"):
        box = node_box(text, node_id)
        assert "dead-end" in box and "Dead end" in box
    assert "dead end: no path from here reaches a person or a goodbye" in text
    assert "dead-end" not in node_box(text, "main")


def test_each_node_links_to_its_prompts_in_every_language(copy):
    _root, _app, client = copy
    text = page(client, "/console/flow/main")
    assert "Main menu. You can press a key at any time." in text
    assert 'lang="es" dir="auto">Menú principal.' in text
    assert 'lang="pt-BR"' in text and 'lang="ar"' in text and 'lang="vi"' in text
    assert "recording" in text and "not recorded yet" in text  # Somali, from recordings still to make
    assert 'href="/console/languages/es#node-main"' in text
    assert client.get("/console/flow/no_such_node").status_code == 404


def test_languages_say_how_complete_and_how_reviewed(copy):
    root, _app, client = copy
    text = page(client, "/console/languages")
    assert "machine-drafted (AI) on 2026-11-26; NOT yet reviewed by a native speaker." in text
    assert text.count("Yes, voice") == 6 and "Not yet" in text  # Somali waits for its recordings
    assert re.search(r"0 of (\d+) recordings", text)
    po = root / "locales" / "es" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text().replace('msgstr "Menú principal. Puede oprimir una tecla en cualquier momento."',
                                         'msgstr ""'))
    assert "(1 to go)" in page(client, "/console/languages")
    spanish = page(client, "/console/languages/es")
    assert "no es translation yet" in spanish  # what ivr validate says of it
    assert '<h3 id="node-main">main (menu)</h3>' in spanish and 'class="said" lang="es"' in spanish


def test_recorded_languages_list_each_recording_found_and_missing(copy):
    root, app, client = copy
    before = page(client, "/console/languages/so")
    first = re.search(r"<code>locales/so/audio/([^<]+)</code></th><td>Missing", before).group(1)
    (root / "locales" / "so" / "audio").mkdir(parents=True, exist_ok=True)
    (root / "locales" / "so" / "audio" / first).write_bytes(b"ID3")
    app.extensions["ivr"].reload()
    after = page(client, "/console/languages/so")
    assert f"<code>locales/so/audio/{first}</code></th><td>Yes" in after
    assert re.search(r"1 recorded, (\d+) missing", after)


def test_a_language_the_line_does_not_have_is_not_found(copy):
    _root, _app, client = copy
    assert client.get("/console/languages/xx").status_code == 404


def test_health_shows_the_version_served_and_a_refused_reload(copy):
    root, app, client = copy
    version = app.extensions["ivr"].current.version
    text = page(client, "/console/")
    assert version in text and "No change refused" in text and "The same as the version served" in text
    assert "Passes: the line can start with these files." in text
    assert "placeholder: fill in the real number" in text  # what ivr validate --production says
    edit(root, "flow.yaml", "goto: naloxone}", "goto: nalox}")
    assert app.extensions["ivr"].reload() is False
    text = page(client, "/console/")
    assert "Refused" in text and "unknown node &#39;nalox&#39;" in text and "Changed" in text
    assert "the line will not start until they are fixed" in text


@pytest.fixture
def counted(tmp_path, users_file):
    app, client = staff(REPO, users_file, STATISTICS=True, DATABASE_URL=f"sqlite:///{tmp_path / 's.sqlite3'}",
                        STATS_THRESHOLD=5)
    stats = app.extensions["ivr.stats"]
    for _ in range(7):
        stats.record(CallAnswered(hour=HOUR))
        stats.record(LanguageChosen("es", hour=HOUR))
        stats.record(TransferEnded("maine_211", "connected", hour=HOUR))
    for _ in range(2):
        stats.record(LanguageChosen("fr", hour=HOUR))
        stats.record(TransferEnded("maine_211", "busy", hour=HOUR))
        stats.record(DirectorySearch("naloxone", "Kennebec", hour=HOUR))
    stats.flush(final=True)
    return client


def test_statistics_show_the_suppressed_tables(counted):
    text = page(counted, "/console/statistics?from=2026-11-01&to=2026-11-30&by=day")
    for title in ("Calls answered", "Languages chosen", "Where calls ended", "Transfers by destination",
                  "Directory searches, by county"):
        assert title in text
    row = re.search(r"<th scope=\"row\">2026-11-18</th>(.*?)</tr>", text.split(">Languages chosen</h2>")[1]).group(1)
    assert "<td>7</td>" in row and "<td>&lt;5</td>" in row and "<td>2</td>" not in row  # 2 French: hidden
    assert "<td>7–11</td>" in row  # the day's total includes a hidden count: a range
    searches = text.split(">Directory searches, by county and kind of service</h2>")[1].split("</table>")[0]
    assert "Kennebec" in searches and "<td>&lt;5</td>" in searches and "<td>2</td>" not in searches


def test_statistics_download_as_csv(counted):
    response = counted.get("/console/statistics.zip?from=2026-11-01&to=2026-11-30&by=month")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    rows = list(csv.reader(io.StringIO(archive.read("languages-chosen.csv").decode())))
    assert rows[0] == ["Month", "es", "fr", "Total"] and rows[1] == ["2026-11", "7", "<5", "7–11"]


def test_statistics_refuse_an_impossible_range(counted):
    response = counted.get("/console/statistics?from=2026-11-30&to=2026-11-01")
    assert response.status_code == 400 and "The first day is after the last day." in response.get_data(as_text=True)
    assert counted.get("/console/statistics.zip?from=x").status_code == 400
