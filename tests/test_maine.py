"""The built-in Maine line: what callers hear, in six languages, and where every fact comes from."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from conftest import REPO, TOKEN, Call, maine_copy
from ivr import create_app
from ivr.cli import main as cli
from ivr.flow import check
from ivr.model import MENU
from ivr.kinds import KINDS
from ivr.navigator import Navigator
from ivr.transcript import transcript

LANGUAGES = {  # code: (key, Twilio language, voice)
    "en": ("1", "en-US", "Polly.Joanna-Neural"),
    "es": ("2", "es-US", "Polly.Lupe-Neural"),
    "fr": ("3", "fr-CA", "Polly.Gabrielle-Neural"),
    "pt_BR": ("4", "pt-BR", "Polly.Camila-Neural"),
    "ar": ("5", "ar-XA", "Google.ar-XA-Wavenet-A"),
    "vi": ("6", "vi-VN", "Google.vi-VN-Wavenet-A"),
}
STIGMA = re.compile(r"\b(addicts?|abusers?|abuse|clean|dirty|junkies?)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def line():
    loaded, problems = check(REPO)
    assert loaded is not None, "\n".join(map(str, problems))
    return loaded


@pytest.fixture
def maine_call():
    app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN})
    return Call(app.test_client())


def test_the_six_languages_are_offered_and_somali_waits_for_its_recordings(line):
    assert list(line.flow.languages) == list(LANGUAGES)
    assert list(line.flow.pending_languages) == ["so"]


def test_911_comes_first_within_twenty_words_then_in_spanish(maine_call):
    first = maine_call.start()
    assert first.find("Gather").get("action").startswith("/voice/input/welcome")
    english, spanish = first.says()
    words_before_911 = english.split("9 1 1")[0].split()
    assert len(words_before_911) <= 20 and "overdos" in english
    assert "9 1 1" in spanish and "sobredosis" in spanish
    # Nothing before it but a short greeting; the language menu only comes after.
    assert english.startswith("Maine harm reduction line. If someone may be overdosing")
    assert maine_call.follow().gather().get("action").startswith("/voice/input/language")


def test_language_menu_names_each_language_in_itself_in_its_own_voice(maine_call):
    maine_call.start()
    menu = maine_call.follow()
    offers = [(s.get("language"), s.get("voice")) for s in menu.root.iter("Say")]
    assert offers == [(lang, voice) for _key, lang, voice in LANGUAGES.values()]


@pytest.mark.parametrize("code", LANGUAGES)
def test_overdose_steps_in_one_key_in_every_language_and_voice(maine_call, code, line):
    key, language, voice = LANGUAGES[code]
    main = maine_call.choose_language(key)
    assert main.voices() == {(language, voice)}
    overdose = maine_call.press("1")  # the only key after choosing the language
    assert "9 1 1" in overdose.says()[0]
    step = maine_call.follow()
    expected = line.speech[(code, line.flow.nodes["od_check"].say[0].source)].text
    assert step.says()[0] == expected and step.voices() == {(language, voice)}
    # Paced: silence repeats the step and never hands a busy rescuer to a transfer.
    for _ in range(5):
        again = maine_call.silence()
        assert again.says()[0] == expected and again.find("Dial") is None


def test_overdose_coaching_walks_every_step_in_order(maine_call):
    maine_call.choose_language("1")
    maine_call.press("1")
    maine_call.follow()
    heard = []
    for _ in range(5):
        heard.append(maine_call.press("1").says()[0].split(".")[0])
    assert heard == ["Step 2", "Step 3", "Step 4", "Step 5", "Step 6"]
    xylazine = maine_call.press("2")
    assert "Give naloxone anyway" in xylazine.text() and "breathing" in xylazine.text()


def test_every_menu_reaches_a_person_in_at_most_two_keys(line, maine_call):
    menus = [n for n in line.flow.nodes.values() if n.kind == MENU]
    assert len(menus) > 10
    for node in menus:
        for code in LANGUAGES:
            maine_call.post(f"/voice/node/{node.id}?lang={code}")
            person = maine_call.press("0")
            assert person.find("Dial/Number").text == "+18668115695", (node.id, code)


def test_main_menu_order_of_urgency(maine_call):
    main = maine_call.choose_language("1")
    options = main.says()[1:9]
    assert [re.search(r"press (\d)", s).group(1) for s in options] == list("12345678")
    assert "overdosing" in options[0] and "naloxone" in options[1] and "2 1 1" in options[5]
    assert "suicide" in options[6]


def test_county_liaison_by_district_then_county(maine_call):
    maine_call.choose_language("1")
    maine_call.press("5")
    assert "Western district" in maine_call.press("3").says()[0]
    transfer = maine_call.press("3")  # Oxford County
    assert "Oxford County" in transfer.says()[0]
    assert transfer.find("Dial/Number").text.startswith("+1207555")  # placeholder until configured
    fallback = maine_call.dial_ends("no-answer")
    assert fallback.find("Dial/Number").text == "+18668115695"  # then 2-1-1 Maine


def test_crisis_line_is_dialled_by_its_ten_digit_number(maine_call):
    maine_call.choose_language("1")
    crisis = maine_call.press("7")
    assert "9 1 1" in crisis.says()[0]
    assert crisis.find("Dial/Number").text == "+18885681112"


def test_no_stigmatizing_word_in_the_english_flow(line):
    english = [text.source for _, text in line.flow.texts()]
    english += [line.flow.languages["en"].choose.source]
    offending = [s for s in english if STIGMA.search(s)]
    assert offending == []
    assert STIGMA.search("Stay clean") and STIGMA.search("an addict")  # the check itself works


def test_numbers_are_read_digit_by_digit_in_every_language(line, maine_call):
    for code, (key, _language, _voice) in LANGUAGES.items():
        maine_call.post(f"/voice/node/peer_line?lang={code}")
        assert "8 6 6, 7 7 1, 9 2 7 6" in maine_call.last.text(), code


def test_every_node_is_tied_to_a_source_or_marked_navigation(line):
    sources = (REPO / "content" / "SOURCES.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"nodes\.[a-z0-9_]+", sources))
    assert {f"nodes.{n}" for n in line.flow.nodes} <= listed
    assert listed <= {f"nodes.{n}" for n in line.flow.nodes}, "SOURCES.md names a node that is gone"


def test_every_destination_has_a_source_and_status(line, tmp_path):
    for dest in line.flow.destinations.values():
        assert dest.source.strip() and dest.status in ("firm", "verify", "placeholder", "configure")
    root = maine_copy(tmp_path)
    path = root / "menus" / "destinations.yaml"
    text = path.read_text()
    path.write_text(text.replace('    source: "samhsa.gov/find-help/national-helpline (1-800-662-4357, 24/7, English and Spanish)"\n', ""))
    broken, problems = check(root)
    assert broken is None
    assert [p.path for p in problems if not p.warning] == ["destinations.samhsa.source"]


def test_production_validation_lists_every_placeholder_liaison():
    result = CliRunner().invoke(cli, ["validate", "--root", str(REPO), "--production"])
    assert result.exit_code == 1
    assert result.output.count("is a placeholder: fill in the real number") == 16
    assert "OPTIONS liaison for Aroostook County" in result.output


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != "en"])
def test_catalogs_pass_msgfmt_check_and_state_their_review_status(code):
    po = REPO / "locales" / code / "LC_MESSAGES" / "messages.po"
    header = po.read_text(encoding="utf-8").split('msgid ""')[0]
    assert "REVIEW STATUS:" in header
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("gettext's msgfmt is not installed")
    result = subprocess.run([msgfmt, "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_readme_states_each_languages_review_status():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code in LANGUAGES:
        if code != "en":
            assert re.search(rf"^\| `{code}` .*\|", readme, re.MULTILINE), code


@pytest.mark.parametrize("code", LANGUAGES)
def test_committed_transcripts_are_up_to_date(line, code):
    committed = REPO / "content" / "transcripts" / f"{code}.md"
    assert committed.exists(), "run: ivr transcript --all"
    assert committed.read_text(encoding="utf-8") == transcript(Navigator(line, KINDS), code), \
        f"content/transcripts/{code}.md is out of date: run `ivr transcript --all` and commit it"


def test_transcript_shows_prompts_keys_and_targets(line):
    text = transcript(Navigator(line, KINDS), "es")
    assert "## main (menu)" in text and "- `1` → `overdose`:" in text
    assert "1. dials" in text and "+18668115695" in text


def test_audio_script_writes_what_a_voice_artist_records(tmp_path):
    out = tmp_path / "somali.csv"
    result = CliRunner().invoke(cli, ["audio-script", "so", "--root", str(REPO), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "file,recorded,english,say_this"
    assert rows[1].startswith("locales/so/audio/soomaali-riix-7-") and ",no," in rows[1]
    assert any("If someone may be overdosing" in row for row in rows)
    assert "still to record" in result.output


def test_somali_joins_the_menu_exactly_when_its_recordings_are_complete(tmp_path):
    root = maine_copy(tmp_path)
    out = tmp_path / "so.csv"
    CliRunner().invoke(cli, ["audio-script", "so", "--root", str(root), "-o", str(out)])
    files = [row.split(",")[0] for row in out.read_text().splitlines()[1:]]
    for name in files[:-1]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"ID3")
    almost, _ = check(root)
    assert "so" not in almost.flow.languages
    (root / files[-1]).write_bytes(b"ID3")
    complete, _ = check(root)
    assert "so" in complete.flow.languages
    call = Call(create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN}).test_client())
    call.start()
    menu = call.follow()
    assert [p.text for p in menu.root.iter("Play")][0].startswith("/audio/so/soomaali-riix-7-")
    main = call.press("7")
    assert main.says() == [] and all(call.client.get(p.text).status_code == 200
                                     for p in main.root.iter("Play"))
