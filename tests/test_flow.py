"""Every kind of content mistake is reported with its file, line, key path and a plain message."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr import create_app
from ivr.flow import check
from ivr.problems import FlowError
from ivr.model import MENU

LINE_FILE = "menus/line.yaml"


def demo_copy(tmp_path: Path, demo_root: Path) -> Path:
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    return root


def edit(root: Path, old: str, new: str, file: str = LINE_FILE) -> None:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(root: Path, needle: str, file: str = LINE_FILE) -> int:
    lines = (root / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def errors(root: Path, production: bool = False) -> list:
    """The errors, less the summary an incomplete language adds ("Español (es) is incomplete")."""
    line, problems = check(root, production=production)
    assert line is None
    return [p for p in problems if not p.warning and ") is incomplete (" not in p.message]


@pytest.fixture
def root(tmp_path, demo_root) -> Path:
    return demo_copy(tmp_path, demo_root)


def test_the_demo_line_is_valid(demo_root):
    line, problems = check(demo_root)
    assert line is not None and problems == []
    assert line.flow.nodes["main"].kind == MENU


def test_unknown_target(root):
    edit(root, "goto: services}", "goto: servcies}")
    [problem] = [p for p in errors(root) if "servcies" in p.message]
    assert (problem.file, problem.line) == (LINE_FILE, line_of(root, "servcies"))
    assert problem.path == "nodes.main.options.2.goto"
    assert problem.message == "goes to unknown node 'servcies'"
    assert str(problem).startswith(f"{LINE_FILE}:{problem.line} nodes.main.options.2.goto: goes to")


def test_unreachable_node(root):
    edit(root, "  goodbye:\n    type: goodbye", "  orphan:\n    type: goodbye\n    say: Nobody hears this.\n"
         "  goodbye:\n    type: goodbye")
    problems = errors(root)
    [problem] = [p for p in problems if p.path == "nodes.orphan"]
    assert problem.line == line_of(root, "orphan:")
    assert problem.message == "nothing leads to this node"


def test_dead_end(root):
    # A message loop that nothing but the person key leaves: no way on, no way back.
    edit(root, '    "*": {action: back, say: "To go back, press star."}\n', "")
    edit(root, "      4: {say: \"To end the call, press 4.\", goto: goodbye}\n",
         "      4: {say: \"To end the call, press 4.\", goto: loop_a}\n"
         "      5: {say: \"For goodbye, press 5.\", goto: goodbye}\n")
    edit(root, "  goodbye:\n", "  loop_a:\n    type: message\n    say: A.\n    next: loop_b\n"
         "  loop_b:\n    type: message\n    say: B.\n    next: loop_a\n  goodbye:\n")
    problems = errors(root)
    dead = {p.path: p for p in problems if p.message.startswith("dead end")}
    # Without a back key the services submenu is a trap too: only its own options lead on.
    assert set(dead) == {"nodes.loop_a", "nodes.loop_b", "nodes.services", "nodes.testing"}
    assert dead["nodes.loop_a"].line == line_of(root, "  loop_a:")
    assert dead["nodes.loop_a"].message == "dead end: no path from here reaches a person or a goodbye"


def test_repeated_key(root):
    edit(root, '      2: {say: "For more services, press 2.", goto: services}\n',
         '      2: {say: "For more services, press 2.", goto: services}\n'
         '      2: {say: "Again, press 2.", goto: naloxone}\n')
    [problem] = [p for p in errors(root) if "repeated" in p.message]
    assert problem.line == line_of(root, "Again, press 2.")
    assert problem.path == "nodes.main.options.2"
    assert problem.message == f"repeated key '2' (first on line {line_of(root, 'For more services')})"


@pytest.mark.parametrize("key", ["10", "A", "+"])
def test_impossible_key(root, key):
    edit(root, '      4: {say: "To end the call', f'      "{key}": {{say: "To end the call')
    [problem] = [p for p in errors(root) if "keypad" in p.message]
    assert problem.line == line_of(root, "To end the call")
    assert problem.path == f"nodes.main.options.{key}"
    assert problem.message == f"'{key}' is not a key on a phone keypad (use one of 0-9, * or #)"


def test_option_key_that_clashes_with_a_key_that_works_everywhere(root):
    edit(root, '      4: {say: "To end the call, press 4."', '      0: {say: "To end the call, press 0."')
    [problem] = [p for p in errors(root) if "every menu" in p.message]
    assert problem.path == "nodes.main.options.0" and problem.line == line_of(root, "press 0.\", goto")
    assert problem.message == "key 0 is already the 'person' key in every menu"


@pytest.mark.parametrize("number", ["12075550100", "+1207555010", "+1 207 555 0100", "+10005550100"])
def test_bad_phone_number(root, number):
    edit(root, 'number: "+12075550101"', f'number: "{number}"')
    [problem] = [p for p in errors(root) if p.path == "destinations.backup.number"]
    assert problem.line == line_of(root, f'number: "{number}"')
    assert problem.message == f"'{number}' is not a valid phone number in E.164 form, like +12075550100"


@pytest.mark.parametrize("number", ["211", "+1211", "988", "911"])
def test_n11_numbers_are_refused_with_the_reason(root, number):
    edit(root, 'number: "+12075550101"', f'number: "{number}"')
    [problem] = [p for p in errors(root) if p.path == "destinations.backup.number"]
    assert "three-digit code" in problem.message and "cannot dial" in problem.message


def test_prompt_longer_than_say_accepts(root):
    long_text = "Words " * 600  # 3,600 bytes: over Polly's 3,000
    edit(root, "say: Main menu.", f"say: {long_text}")
    [problem] = [p for p in errors(root) if "takes at most" in p.message]
    assert (problem.line, problem.path) == (line_of(root, "Words Words"), "nodes.main.say")
    assert problem.message.startswith("the en prompt is 3599 bytes; Twilio's <Say> with "
                                      "Polly.Joanna-Neural takes at most 3000")


def test_language_with_neither_voice_nor_audio(root):
    edit(root, "      say_language: es-US\n      voice: Polly.Lupe-Neural\n", "")
    [problem] = [p for p in errors(root) if p.path == "line.languages.es"]
    assert problem.line == line_of(root, "    es:")
    assert problem.message == ("has neither a Twilio voice (say_language and voice) nor recorded "
                               "audio (audio: true)")


def test_voice_twilio_does_not_have(root):
    edit(root, "voice: Polly.Lupe-Neural", "voice: Polly.Joanna-Neural")
    [problem] = [p for p in errors(root) if p.path == "line.languages.es.voice"]
    assert problem.message.startswith("Twilio has no voice 'Polly.Joanna-Neural' for language 'es-US'")


def catalog_line(root, text: str) -> int:
    return line_of(root, text, file=ES_CATALOG)


ES_CATALOG = "locales/es/LC_MESSAGES/messages.po"


def test_missing_translation_is_located_in_the_catalog_for_the_translator(root):
    edit(root, 'msgstr "Servicios."', 'msgstr ""', file=ES_CATALOG)
    [problem] = errors(root)
    assert (problem.file, problem.line, problem.path) == (ES_CATALOG, catalog_line(root, 'msgid "Services."'),
                                                          "nodes.services.say")
    assert problem.message == (f'no es translation yet: "Services." ({LINE_FILE}:{line_of(root, "say: Services.")})')


def test_fuzzy_translation_counts_as_missing_and_says_fuzzy(root):
    edit(root, 'msgid "Services."', '#, fuzzy\nmsgid "Services."', file=ES_CATALOG)
    [problem] = errors(root)
    assert problem.file == ES_CATALOG and "marked fuzzy" in problem.message and '"Services."' in problem.message


def test_a_sentence_not_yet_in_the_catalog_says_how_to_add_it(root):
    edit(root, "say: Services.", "say: Other services.")
    [problem] = errors(root)
    assert problem.file == ES_CATALOG and "ivr translations update" in problem.message


def test_translation_must_keep_placeholders(root):
    edit(root, "El número de la línea de ayuda es {helpline}.", "El número de la línea de ayuda es {ayuda}.",
         file="locales/es/LC_MESSAGES/messages.po")
    [problem] = errors(root)
    assert (problem.file, problem.path) == (ES_CATALOG, "nodes.helpline_number.say")
    assert problem.message.startswith("the es translation must keep the placeholders ['helpline'] exactly")


def test_translation_with_a_stray_brace(root):
    edit(root, 'msgstr "Servicios."', 'msgstr "Servicios {."', file="locales/es/LC_MESSAGES/messages.po")
    [problem] = errors(root)
    assert (problem.file, problem.line, problem.path) == (ES_CATALOG, catalog_line(root, 'msgid "Services."'),
                                                          "nodes.services.say")
    assert problem.message.startswith("the es translation has a '{' or '}' that is not a placeholder")


def test_placeholder_must_name_a_destination(root):
    edit(root, "The helpline number is {helpline}.", "The helpline number is {helpdesk}.")
    problem = next(p for p in errors(root) if "is not a destination" in p.message)
    assert problem.line == line_of(root, "{helpdesk}") and problem.message == "{helpdesk} is not a destination"


def test_not_yaml(root):
    edit(root, "  main:\n    type: menu", "  main:\n    type: [menu")
    [problem] = errors(root)
    assert problem.file == LINE_FILE and problem.message.startswith("not valid YAML")
    assert problem.line >= line_of(root, "type: [menu")


def test_unquoted_comma_in_a_flow_mapping_is_caught(root):
    # `{say: Hello, press 1.}` splits at the comma in YAML: the stray half is reported, not ignored.
    edit(root, '{say: "For testing, press 1.", goto: testing}', "{say: For testing, press 1., goto: testing}")
    problem = next(p for p in errors(root) if "unknown field" in p.message)
    assert problem.path == "nodes.services.options.1.press 1."


def test_every_problem_is_reported_at_once(root):
    edit(root, "goto: services}", "goto: nowhere}")
    edit(root, 'number: "+12075550101"', 'number: "5555"')
    edit(root, "type: goodbye", "type: farewell")
    messages = " | ".join(p.message for p in errors(root))
    assert "unknown node 'nowhere'" in messages and "E.164" in messages and "type must be" in messages


def test_destination_without_source(root):
    edit(root, "    source: demonstration data, not a real line\n    status: placeholder\n    answered_by: person",
         "    status: placeholder\n    answered_by: person")
    [problem] = errors(root)
    assert problem.path == "destinations.helpline.source"
    assert problem.message.startswith("needs 'source'")


def test_fallback_chain_that_loops(root):
    edit(root, "name: the demo backup line\n", "name: the demo backup line\n    next: helpline\n")
    problem = next(p for p in errors(root) if "loops" in p.message)
    assert problem.path == "destinations.helpline.next"
    assert problem.message == "the fallback chain loops: helpline -> backup -> helpline"


def test_placeholders_fail_only_in_production(demo_root):
    line, _ = check(demo_root)
    assert line is not None
    problems = errors(demo_root, production=True)
    assert {p.path for p in problems} == {"destinations.helpline", "destinations.backup"}
    assert all("placeholder" in p.message for p in problems)


def test_a_broken_flow_never_starts_serving(root):
    edit(root, "goto: services}", "goto: servcies}")
    with pytest.raises(FlowError) as caught:
        create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": "x"})
    assert "menus/line.yaml:" in str(caught.value) and "servcies" in str(caught.value)


def test_flow_is_immutable(demo_root):
    line, _ = check(demo_root)
    with pytest.raises(TypeError):
        line.flow.nodes["x"] = line.flow.nodes["main"]
    with pytest.raises(AttributeError):
        line.flow.nodes["main"].kind = "goodbye"


def test_ids_are_short_names_that_travel_in_urls_and_statistics(root):
    edit(root, "  services:\n", "  more services:\n")
    problems = [p for p in errors(root) if "cannot be a node's id" in p.message]
    assert problems and problems[0].path == "nodes.more services"
