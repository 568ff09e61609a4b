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


def test_911_comes_first_within_eight_seconds_then_in_spanish(maine_call):
    first = maine_call.start()
    assert first.find("Gather").get("action").startswith("/voice/input/welcome")
    english, spanish = first.says()
    # About 2.5 words a second, digits spoken singly: "9 1 1" is said within 8 seconds.
    words_to_911 = english.split("9 1 1")[0].split() + ["9", "1", "1"]
    assert len(words_to_911) <= 8 * 2.5 and "overdos" in english
    assert "9 1 1" in spanish and "sobredosis" in spanish
    # Nothing before it but a short greeting; the language menu only comes after.
    assert english.startswith("Maine harm reduction line. If someone may be overdosing")
    assert maine_call.follow().gather().get("action").startswith("/voice/input/language")


def test_language_menu_names_each_language_in_itself_in_its_own_voice(maine_call):
    maine_call.start()
    menu = maine_call.follow()
    offers = [(s.get("language"), s.get("voice")) for s in menu.root.iter("Say")]
    each_in_its_voice = [(lang, voice) for _key, lang, voice in LANGUAGES.values()]
    assert offers == each_in_its_voice * 2  # each language, then the person key in each language


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
    heard, steps = [], []
    for _ in range(5):
        step = maine_call.press("1")
        heard.append(step.says()[0].split(".")[0])
        steps.append(step.text())
    assert heard == ["Step 2", "Step 3", "Step 4", "Step 5", "Step 6"]
    give, breathe, _side, second, _stay = steps
    # Each nasal spray is one dose: never tested, and the second dose is a new spray.
    assert "Each nasal spray holds one dose, so do not test it." in give
    assert "second dose with a new nasal spray, in the other nostril" in second
    # Not breathing or only gasping: chest compressions, if trained or as the dispatcher says.
    assert "one breath every 5 seconds" in breathe
    assert ("If they are not breathing, or only gasping, do chest compressions if you are trained, "
            "or as the 9 1 1 dispatcher tells you.") in breathe
    xylazine = maine_call.press("2")
    assert "Give naloxone anyway" in xylazine.text() and "breathing" in xylazine.text()


def test_without_naloxone_ask_for_it_and_skip_the_second_dose(maine_call, line):
    maine_call.choose_language("1")
    maine_call.press("1")
    maine_call.follow()
    ask = maine_call.press("2")  # step 1: "If you do not have naloxone, press 2."
    assert ask.says()[0] == "Step 2. Ask anyone near you for naloxone, also called Narcan."
    steps = [ask]
    for _ in range(3):
        steps.append(maine_call.press("1"))
    heard = [step.text() for step in steps]
    assert [h.split(".")[0] for h in heard] == ["Step 2", "Step 3", "Step 4", "Step 5"]
    assert steps[-1].says()[0].startswith("Step 5. Stay with them until help arrives")
    assert not any("second dose" in h or "Give naloxone" in h for h in heard)
    assert "chest compressions" in heard[1]
    # Paced like the other steps: silence repeats the step, never a transfer.
    again = maine_call.silence()
    assert again.says()[0] == steps[-1].says()[0] and again.find("Dial") is None
    # Its own nodes, but the same English sentences (and so the same translations) as the main steps.
    nodes = line.flow.nodes
    for branch, main in (("od_nx_breathing", "od_breathing"), ("od_nx_side", "od_side")):
        assert [t.source for t in nodes[branch].say] == [t.source for t in nodes[main].say]
    branch_nodes = {"od_no_naloxone", "od_nx_breathing", "od_nx_side", "od_nx_stay"}
    assert all(nodes[n].patient for n in branch_nodes)
    assert not any(o.goto == "od_second_dose" for n in branch_nodes for o in nodes[n].options.values())
    # If someone brings naloxone, the caller joins the steps at giving it.
    maine_call.post("/voice/node/od_nx_side?lang=en")
    assert maine_call.press("2").says()[0].startswith("Step 2. Give naloxone.")


def test_good_samaritan_prompt_states_the_law_as_it_is_now(maine_call):
    maine_call.choose_language("1")
    said = maine_call.press("1").says()
    assert said[0].startswith("Call 9 1 1 now.")
    law = " ".join(said[1:-1])
    # Who: the person who overdosed and anyone there who seeks help or gives aid.
    assert "the person who overdosed, and anyone there who calls for help or helps them" in law
    # From what: arrest, prosecution and revocation, for possession and related offenses.
    assert "cannot be arrested, charged or have their probation revoked" in law
    assert "having drugs and related offenses" in law
    # What it does not cover.
    assert "violent crimes, sex crimes, crimes against children" in law
    assert "evidence found apart from the call" in law
    # Paraphernalia is no longer a crime in Maine.
    assert "Having syringes, pipes or test strips is not a crime in Maine." in said
    assert said[-1] == "I will guide you one step at a time."
    # Short sentences a panicked caller can follow.
    assert all(len(sentence.split()) <= 20 for sentence in said[1:-1])


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
    assert "Interpreters are available in 150 languages." in crisis.says()


CALL_CENTRES = {"maine_211", "maine_crisis", "samhsa", "poison_help"}


def test_whisper_only_to_liaisons_never_to_a_call_centre(line, maine_call):
    """A call centre's recorded greeting never presses 1: a whisper there would fail every transfer."""
    for dest in line.flow.destinations.values():
        assert dest.whisper == dest.id.startswith("options_"), dest.id
    assert CALL_CENTRES <= set(line.flow.destinations)
    maine_call.choose_language("1")
    crisis = maine_call.press("7").find("Dial/Number")
    assert crisis.get("url") is None
    maine_call.choose_language("1")
    maine_call.press("5")
    liaison = maine_call.press("1").find("Dial/Number")  # York County
    assert "/voice/whisper/" in liaison.get("url")
    assert line.flow.whisper.startswith("This is a call from the {line}.") and "press 1" in line.flow.whisper


def test_every_destination_says_the_languages_it_can_serve(line):
    every = set(line.flow.languages) | set(line.flow.pending_languages)
    assert every == {"en", "es", "fr", "pt_BR", "ar", "vi", "so"}
    for dest in line.flow.destinations.values():
        assert dest.languages and set(dest.languages) <= every, dest.id
        if dest.id.startswith("options_"):
            assert dest.languages == ("en",), dest.id
    for interpreted in ("maine_211", "maine_crisis", "crisis_988", "crisis_text", "poison_help"):
        assert set(line.flow.destinations[interpreted].languages) == every, interpreted
    assert set(line.flow.destinations["samhsa"].languages) == {"en", "es"}


def test_the_line_never_dials_a_three_digit_code_and_spoken_numbers_are_not_dialled(line):
    for dest in line.flow.destinations.values():
        if dest.number is not None:
            assert re.fullmatch(r"\+1[2-9]\d{9}", dest.number), dest.id
    spoken_only = {"relay_711": "711", "text_211": "898211", "crisis_988": "988",
                   "crisis_text": "+18885681112", "samhsa_tty": "+18004874889"}
    for dest_id, call in spoken_only.items():
        dest = line.flow.destinations[dest_id]
        assert dest.number is None and dest.call == call and dest.source and dest.status == "firm"
    transfers = [n for n in line.flow.nodes.values() if n.kind == "transfer"]
    assert not any(n.to in spoken_only for n in transfers)


def test_help_by_text_relay_or_tty_from_main_menu_8(maine_call):
    main = maine_call.choose_language("1")
    assert "help by text, press 8." in main.says()[8]
    maine_call.press("8")
    heard = maine_call.press("8").text()
    assert "deaf or hard of hearing, you can dial 7 1 1" in heard
    assert "text your ZIP code to 8 9 8 2 1 1" in heard
    assert "text 9 8 8, or text the Maine Crisis Line at 8 8 8, 5 6 8, 1 1 1 2" in heard
    assert "by TTY, dial 7 1 1, then 9 8 8" in heard
    assert "TTY, the number is 8 0 0, 4 8 7, 4 8 8 9" in heard


def test_peer_support_line_is_a_mental_health_line_for_adults_not_treatment(maine_call, line):
    maine_call.choose_language("1")
    maine_call.press("8")
    peer = maine_call.press("7").text()
    assert "for adults 18 and older" in peer and "mental health" in peer
    assert "8 6 6, 7 7 1, 9 2 7 6" in peer and "call or text 9 8 8" in peer
    assert "substance" not in peer and "recovery support" not in peer
    treatment = line.flow.nodes["treatment"]
    assert all(o.goto != "peer_line" for o in treatment.options.values())
    assert not any("Peer Support Line" in o.say.source for o in treatment.options.values())


def test_no_claim_that_naltrexone_lowers_the_risk_of_dying(maine_call):
    maine_call.choose_language("1")
    maine_call.press("4")
    said = maine_call.press("1").says()
    naltrexone = [s for s in said if "altrexone" in s]
    assert naltrexone and not any(re.search(r"dying|death|die|lower", s) for s in naltrexone)
    assert any("stop taking naltrexone, your risk of overdose goes up" in s for s in naltrexone)
    assert any(s.startswith("Buprenorphine and methadone") and "lower the risk of dying" in s for s in said)
    assert any("TTY" in s and "8 0 0, 4 8 7, 4 8 8 9" in s for s in said)


def test_options_transfers_say_free_not_confidential(line):
    liaisons = [n for n in line.flow.nodes.values() if n.kind == "transfer" and n.to.startswith("options_")]
    assert len(liaisons) == 16
    for node in liaisons:
        said = " ".join(t.source for t in node.say)
        assert "free" in said and "confidential" not in said, node.id


def test_safer_use_facts_as_corrected(maine_call):
    maine_call.choose_language("1")
    maine_call.press("3")
    strips = maine_call.press("4").says()
    assert "whether fentanyl or xylazine is in a drug, but not how much" in strips[0]
    assert "A negative result does not mean a drug is safe." in strips
    maine_call.post("/voice/node/syringe_services?lang=en")
    assert "Many also offer testing for HIV and hepatitis C." in maine_call.last.text()
    maine_call.post("/voice/node/wound_care?lang=en")
    assert "away from where a person injects" in maine_call.last.text()
    maine_call.post("/voice/node/naloxone?lang=en")
    assert "Some people may qualify to have injectable naloxone mailed to them" in maine_call.last.text()


def test_uppers_and_poison_help_where_a_caller_looks(maine_call):
    maine_call.choose_language("1")
    maine_call.press("1")
    maine_call.follow()
    uppers = maine_call.press("3")  # step 1: "If they are awake after using uppers ..."
    assert uppers.says()[0].startswith("Call 9 1 1 if they have a seizure, chest pain")
    assert "do not force them or hold them down" in uppers.text()
    assert "cool cloths on their neck and forehead" in uppers.text()
    assert "Poison Help" in uppers.text() and "8 0 0, 2 2 2, 1 2 2 2" in uppers.text()
    again = maine_call.silence()  # paced like the steps
    assert again.says()[0] == uppers.says()[0] and again.find("Dial") is None
    poison = maine_call.press("1").find("Dial/Number")
    assert poison.text == "+18002221222" and poison.get("url") is None
    # From safer use too.
    maine_call.choose_language("1")
    maine_call.press("3")
    stimulants = maine_call.press("8")
    assert "overamping" in stimulants.text() and "8 0 0, 2 2 2, 1 2 2 2" in stimulants.text()


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
    assert msgfmt, "gettext's msgfmt is not installed: make test installs it (apt-get install gettext)"
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
