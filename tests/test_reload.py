"""A careless edit never takes the line down: every broken file is a located refusal, the last good
line goes on serving, the watcher goes on watching, and /healthz says what happened."""
from __future__ import annotations

import logging
import shutil

import pytest
from click.testing import CliRunner

from conftest import TOKEN, Call, maine_copy
from ivr import create_app
from ivr.cli import main as cli
from ivr.watcher import ContentWatcher

ES = "locales/es/LC_MESSAGES/messages.po"


@pytest.fixture
def line(tmp_path, demo_root):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    return root


def edit(root, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(root, file: str, needle: str) -> int:
    return next(i for i, t in enumerate((root / file).read_text(encoding="utf-8").splitlines(), 1) if needle in t)


BREAKAGES = {
    "a date that does not exist": ("menus/line.yaml", "closed_on: [holidays, 2026-12-24]",
                                   "closed_on: [holidays, 2026-02-30]", "2026-02-30"),
    "a control character pasted in": ("menus/line.yaml", "say: Services.", "say: Serv\x07ices.", "Serv"),
    "a control character written as an escape": ("menus/line.yaml", "say: Services.", 'say: "Serv\\aices."', "Serv"),
    "a number that is not one": ("menus/line.yaml", "timeout:", "timeout: !!int six #", None),
    "a translation with a control character": (ES, 'msgstr "Servicios."', 'msgstr "Servi\x07cios."', 'msgid "Services."'),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_a_broken_edit_is_refused_at_its_file_and_line_and_the_last_good_line_serves(line, name, caplog):
    file, old, new, needle = BREAKAGES[name]
    if name == "a number that is not one":
        edit(line, "menus/line.yaml", "    say: Services.", "    timeout: !!int six\n    say: Services.")
    else:
        edit(line, file, old, new)
    result = CliRunner().invoke(cli, ["validate", "--root", str(line)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    where = f"{file}:{line_of(line, file, needle or 'timeout: !!int')}"
    assert where in result.output, result.output


def test_a_catalog_not_saved_as_utf8_is_located(line):
    path = line / ES
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))  # saved by a Windows editor
    data = path.read_bytes()
    first_accent = next(i for i, byte in enumerate(data) if byte >= 0x80)
    accent_line = data[:first_accent].count(b"\n") + 1
    result = CliRunner().invoke(cli, ["validate", "--root", str(line)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{ES}:{accent_line} is not saved as UTF-8" in result.output


def test_latin_letters_in_a_prompt_of_a_language_in_another_script_are_refused(tmp_path):
    root = maine_copy(tmp_path)
    path = root / "locales/ar/LC_MESSAGES/messages.po"
    text = path.read_text(encoding="utf-8")
    start = text.index('msgid "Main menu. You can press a key at any time."')
    msgstr = text.index("msgstr", start)
    path.write_text(text[:msgstr] + 'msgstr "Main menu بالعربية."' + text[text.index("\n", msgstr):], encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--root", str(root)])
    assert result.exit_code == 1
    expected_line = text[:start].count("\n") + 1
    assert f"locales/ar/LC_MESSAGES/messages.po:{expected_line} nodes.main.say: the ar translation has Latin letters" \
        in result.output


def test_a_cut_short_compiled_catalog_is_ignored(line):
    app = create_app({"CONTENT_ROOT": str(line), "TWILIO_AUTH_TOKEN": TOKEN})
    [cached] = (line / "locales/es/LC_MESSAGES").glob(".messages.*.mo")
    cached.write_bytes(cached.read_bytes()[:200])  # another worker was writing it
    assert app.extensions["ivr"].reload() is True
    assert Call(app.test_client()).choose_language("2").says()[0] == "Menú principal."


def test_a_refused_reload_keeps_serving_and_shows_in_healthz(line, caplog):
    app = create_app({"CONTENT_ROOT": str(line), "TWILIO_AUTH_TOKEN": TOKEN})
    client = app.test_client()
    before = client.get("/healthz").get_json()
    assert before["last_reload_refused"] is None and len(before["version"]) == 12
    edit(line, "menus/line.yaml", "closed_on: [holidays, 2026-12-24]", "closed_on: [holidays, 2026-02-30]")
    with caplog.at_level(logging.ERROR):
        assert app.extensions["ivr"].reload() is False
    after = client.get("/healthz").get_json()
    assert after["version"] == before["version"]
    assert after["last_reload_refused"]["problem"].startswith(f"menus/line.yaml:{line_of(line, 'menus/line.yaml', '2026-02-30')}")
    assert Call(client).choose_language("1").says()[0] == "Main menu."


def test_the_watcher_outlives_a_reload_that_raises(line, monkeypatch):
    app = create_app({"CONTENT_ROOT": str(line), "TWILIO_AUTH_TOKEN": TOKEN})
    holder = app.extensions["ivr"]
    calls = []

    def exploding_load():
        calls.append(1)
        raise MemoryError("the content was too much")

    monkeypatch.setattr(holder, "_load", exploding_load)
    watcher = ContentWatcher(holder, 0.05)
    edit(line, "menus/line.yaml", "say: Services.", "say: More services.")
    assert watcher.check() is False  # an unexpected error is a refusal, not a crash
    assert holder.last_refusal[1].message.startswith("could not be loaded: MemoryError")
    monkeypatch.undo()
    edit(line, "menus/line.yaml", "say: More services.", "say: Services.")
    assert watcher.check() is True


def test_a_cut_short_directory_export_does_not_empty_the_directory(tmp_path):
    root = maine_copy(tmp_path)
    app = create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN})
    holder = app.extensions["ivr"]
    before = holder.current.line.directory.measures
    phones = root / "directory/phones.csv"
    phones.write_text(phones.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert holder.reload() is False
    assert f"0 places with a number to call against {before.with_number}" in holder.last_refusal[1].message
    assert holder.current.line.directory.measures == before
    locations = root / "directory/locations.csv"
    locations.write_text("", encoding="utf-8")  # an empty export
    assert holder.reload() is False
