"""Languages: extraction with pybabel, voices Twilio really has, recorded prompts served for <Play>."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from conftest import REPO, TOKEN, Call, maine_copy
from ivr import create_app
from ivr.flow import check
from ivr.i18n import VOICES_FILE, spoken_number
from ivr.speech import recording_script
from ivr.kinds import KINDS
from ivr.navigator import Navigator, Visit
from ivr.twiml import render

SHARED_VOICES = REPO.parent / "shared" / "reference" / "twilio-tts-voices.json"
CONTENT_ROOTS = [pytest.param(REPO, id="built-in"), pytest.param(REPO / "tests/fixtures/demo", id="demo")]


def reference_voices() -> dict[str, list[str]]:
    """The team's reference list when it is beside the repo (as in CI), else the bundled copy."""
    path = SHARED_VOICES if SHARED_VOICES.exists() else VOICES_FILE
    return json.loads(path.read_text(encoding="utf-8"))["voices_by_language"]


@pytest.mark.parametrize("root", CONTENT_ROOTS)
def test_the_voices_a_line_uses_are_in_both_of_twilios_own_lists(root):
    """The bundled list joins two outside sources (Twilio's voice tables and its helper library's
    SayVoice/SayLanguage types): every voice a line uses must be in both. Where the team's
    reference copy is beside the checkout (CI has it), the bundled list must also equal it."""
    bundled = json.loads(VOICES_FILE.read_text(encoding="utf-8"))
    line, _ = check(root)
    for language in [*line.flow.languages.values(), *line.flow.pending_languages.values()]:
        if language.audio:
            continue
        assert language.voice in bundled["say_voices"], language.voice
        assert language.say_language in bundled["say_languages"], language.say_language
        assert language.voice in bundled["voices_by_language"][language.say_language]
    if SHARED_VOICES.exists():
        assert bundled == json.loads(SHARED_VOICES.read_text(encoding="utf-8"))


def extract(root: Path, tmp_path: Path) -> set[str]:
    """Run pybabel extract as the README says and return the msgids it collected."""
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", str(REPO / "babel.cfg"), "-o", str(pot), "."],
                   cwd=root, check=True, capture_output=True)
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    comments = {m.id: m.auto_comments for m in catalog if m.id}
    assert all(comments.values()), "every extracted string carries its key path for translators"
    return set(comments)


@pytest.mark.parametrize("root", CONTENT_ROOTS)
def test_pybabel_extract_collects_every_menu_string(root, tmp_path):
    line, _ = check(root)
    spoken = {text.source for _, text in line.flow.texts() if not text.only_numbers}
    assert extract(root, tmp_path) == spoken


def test_extracted_strings_carry_their_key_path(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", str(REPO / "babel.cfg"), "-o", str(pot), "."],
                   cwd=REPO / "tests/fixtures/demo", check=True, capture_output=True)
    catalog = read_po(pot.open("rb"))
    assert catalog["Main menu."].auto_comments == ["nodes.main.say"]
    assert catalog["Main menu."].locations[0][0].endswith("menus/line.yaml")


@pytest.mark.parametrize("root", CONTENT_ROOTS)
def test_every_node_in_every_language_uses_a_real_twilio_voice(root):
    line, _ = check(root)
    nav = Navigator(line, KINDS)
    voices = reference_voices()
    pairs = set()
    for lang in line.flow.languages:
        for node_id in line.flow.nodes:
            for misses in (0, 1):
                step = nav.arrive(line.flow.nodes[node_id], Visit(lang, misses))
                for say in ET.fromstring(render(step)).iter("Say"):
                    pairs.add((say.get("language"), say.get("voice")))
                    assert say.text and say.text.strip()
    assert pairs
    for language, voice in pairs:
        assert voice in voices.get(language, []), f"Twilio has no {voice} for {language}"


def test_a_language_missing_a_translation_fails_validation(tmp_path, demo_root):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    po = root / "locales/es/LC_MESSAGES/messages.po"
    po.write_text(po.read_text().replace('msgstr "Menú principal."', 'msgstr ""'))
    line, problems = check(root)
    assert line is None
    line_no = next(i for i, t in enumerate((root / "menus/line.yaml").read_text().splitlines(), 1)
                   if "say: Main menu." in t)
    po_line = next(i for i, t in enumerate(po.read_text().splitlines(), 1) if t == 'msgid "Main menu."')
    assert [str(p) for p in problems] == [
        f'locales/es/LC_MESSAGES/messages.po:{po_line} nodes.main.say: no es translation yet: "Main menu." '
        f"(menus/line.yaml:{line_no})",
        "menus/line.yaml:17 line.languages.es: Español (es) is incomplete (1 problem(s) above): complete it, "
        "or add `optional: true` to leave it out of the language menu until it is"]


def test_numbers_are_read_digit_by_digit():
    assert spoken_number("+18668115695") == "8 6 6, 8 1 1, 5 6 9 5"
    assert spoken_number("211") == "2 1 1"
    assert spoken_number("988") == "9 8 8"


def with_audio_language(tmp_path: Path, demo_root: Path, record: bool) -> Path:
    """The demo line plus a Somali language spoken from recordings (made here as silent files)."""
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    yaml_path = root / "menus/line.yaml"
    yaml_path.write_text(yaml_path.read_text().replace(
        "  keys:\n", "    so:\n      key: 3\n      name: Soomaali\n      choose: Soomaali, riix 3.\n"
        "      audio: true\n      optional: true\n  keys:\n", 1))
    if record:
        line, _ = check(root)
        folder = root / "locales/so/audio"
        folder.mkdir(parents=True)
        for name, _english, _text, _recorded in recording_script(line.flow, line.speech,
                                                                 line.flow.pending_languages["so"]):
            (folder / name).write_bytes(b"ID3")
    return root


def test_an_incomplete_language_stops_the_line_unless_it_is_optional(tmp_path, demo_root):
    root = with_audio_language(tmp_path, demo_root, record=False)
    yaml_path = root / "menus/line.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("      optional: true\n", ""))
    line, problems = check(root)
    assert line is None
    assert any(not p.warning and "add `optional: true`" in p.message for p in problems)


def test_an_optional_language_missing_a_translation_is_left_out_loudly_and_the_line_serves(tmp_path, demo_root):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    yaml_path = root / "menus/line.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("      voice: Polly.Lupe-Neural\n",
                                                      "      voice: Polly.Lupe-Neural\n      optional: true\n"))
    po = root / "locales/es/LC_MESSAGES/messages.po"
    po.write_text(po.read_text().replace('msgstr "Menú principal."', 'msgstr ""'))
    line, problems = check(root)
    assert line is not None and list(line.flow.languages) == ["en"] and "es" in line.flow.pending_languages
    assert any(p.warning and "left out of the language menu" in p.message for p in problems)
    app = create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN})
    call = Call(app.test_client())
    call.start()
    offers = [s.text for s in call.follow().root.iter("Say")]
    assert offers == ["For English, press 1.", "To talk with a person, press 0."]  # no Spanish at all
    assert [s.get("language") for s in call.start().root.iter("Say")] == ["en-US"]


def test_audio_language_is_offered_and_played_only_when_recorded(tmp_path, demo_root):
    root = with_audio_language(tmp_path / "a", demo_root, record=False)
    line, problems = check(root)
    assert "so" not in line.flow.languages and "so" in line.flow.pending_languages
    assert any(p.warning and "recordings are not in locales/so/audio/" in p.message for p in problems)

    root = with_audio_language(tmp_path / "b", demo_root, record=True)
    app = create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN})
    client = app.test_client()
    call = Call(client)
    call.start()
    language_menu = call.follow()
    plays = [p.text for p in language_menu.root.iter("Play")]
    assert len(plays) == 2 and plays[0].startswith("/audio/so/soomaali-riix-3-")  # and its person key
    main = call.press("3")
    plays = [p.text for p in main.root.iter("Play")]
    assert main.says() == [] and len(plays) == 8  # the menu, four options, three keys everywhere
    for url in plays:
        response = client.get(url)
        assert response.status_code == 200 and response.data == b"ID3"
    assert client.get("/audio/so/../../menus/line.yaml").status_code == 404


def test_a_changed_catalog_is_read_afresh_even_with_an_old_date(tmp_path, demo_root):
    import os
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    assert check(root)[0].speech[("es", "Main menu.")].text == "Menú principal."  # compiled cache made
    po = root / "locales/es/LC_MESSAGES/messages.po"
    po.write_text(po.read_text().replace('msgstr "Menú principal."', 'msgstr "Menú de inicio."'))
    os.utime(po, (0, 0))  # as if copied with its date kept: older than the cache
    assert check(root)[0].speech[("es", "Main menu.")].text == "Menú de inicio."
    assert len(list(po.parent.glob(".messages.*.mo"))) == 1


def test_a_catalog_for_a_language_the_line_does_not_list_gets_a_hint(tmp_path, demo_root):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    shutil.copytree(root / "locales/es", root / "locales/fr")
    _line, problems = check(root)
    hint = next(p for p in problems if p.file == "locales/fr/LC_MESSAGES/messages.po")
    assert hint.warning and "menus/line.yaml does not list" in hint.message


def test_translations_add_never_overwrites_and_says_to_list_the_language(tmp_path, demo_root):
    from click.testing import CliRunner
    from ivr.cli import main
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    es = root / "locales/es/LC_MESSAGES/messages.po"
    before = es.read_bytes()
    refused = CliRunner().invoke(main, ["translations", "add", "es", "--root", str(root)])
    assert refused.exit_code == 1 and "exists already" in refused.output and es.read_bytes() == before
    started = CliRunner().invoke(main, ["translations", "add", "fr", "--root", str(root)])
    assert started.exit_code == 0 and "line.languages" in started.output
    assert (root / "locales/fr/LC_MESSAGES/messages.po").exists()


def test_a_one_sentence_change_is_that_sentence_in_each_catalog(tmp_path):
    """The round trip of the README: change one English sentence, update, and the catalogs differ
    from before by that sentence only (no re-wrapping, no moved line numbers, no header churn)."""
    from click.testing import CliRunner
    from ivr.cli import main
    root = maine_copy(tmp_path)
    catalogs = sorted((root / "locales").glob("*/LC_MESSAGES/messages.po"))
    assert CliRunner().invoke(main, ["translations", "update", "--root", str(root)]).exit_code == 0
    before = {p: p.read_text(encoding="utf-8").splitlines() for p in catalogs}
    flow = root / "menus/flow.yaml"
    flow.write_text(flow.read_text().replace('say: "Safer use and infections."', 'say: "Safer use, and infections."'))
    assert CliRunner().invoke(main, ["translations", "update", "--root", str(root)]).exit_code == 0
    for path in catalogs:
        after = path.read_text(encoding="utf-8").splitlines()
        removed = [line for line in before[path] if line not in after]
        added = [line for line in after if line not in before[path]]
        assert removed == ['msgid "Safer use and infections."'], (path, removed)
        assert added == ["#, fuzzy", 'msgid "Safer use, and infections."'], (path, added)
