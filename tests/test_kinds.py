"""The table of node kinds: each kind is declared once and works on every channel."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from conftest import REPO
from ivr.cli import main as cli
from ivr.flow import load_line
from ivr.kinds import KINDS, NodeKind
from ivr.navigator import Navigator, Visit
from ivr.schema import dump, with_current_kinds
from ivr.simulate import Simulator
from ivr.transcript import Transcriber
from ivr.twiml import render

SCHEMA = REPO / "menus" / "schema.json"


@pytest.fixture(scope="module")
def maine():
    return Navigator(load_line(REPO), KINDS)


def test_the_published_schema_is_generated_from_the_kinds():
    committed = SCHEMA.read_text(encoding="utf-8")
    assert committed == dump(with_current_kinds(json.loads(committed))), \
        "menus/schema.json is out of date: run `ivr schema`"
    node = json.loads(committed)["$defs"]["node"]
    assert node["properties"]["type"]["enum"] == list(KINDS)
    assert [branch["if"]["properties"]["type"]["const"] for branch in node["allOf"]] == list(KINDS)


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_says_something_on_arrival_and_has_a_transcript(name):
    kind = type(KINDS[name])
    assert kind.arrive is not NodeKind.arrive, f"the {name} kind has no arrive()"
    assert kind.transcribe is not NodeKind.transcribe, f"the {name} kind has no transcript"
    assert any(f.name == "say" for f in kind.fields), f"the {name} kind cannot say anything"


def test_the_built_in_line_uses_every_kind(maine):
    assert {node.kind for node in maine.flow.nodes.values()} == set(KINDS), \
        "give the new kind a node in the built-in line, so every channel is tested with it"


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_renders_on_every_channel(maine, name):
    """TwiML for Twilio, text for the transcript and the terminal simulator."""
    nodes = [n for n in maine.flow.nodes.values() if n.kind == name]
    for node in nodes:
        for lang in maine.flow.languages:
            step = maine.arrive(node, Visit(lang, line_number="+12075550123"))
            doc = ET.fromstring(render(step))
            assert list(doc), f"{node.id} renders an empty answer"
            assert [Simulator.heard(None, p) for p in step.prompts() if not p.audio]
            lines = Transcriber(maine, lang).node(node)
            assert lines[0] == f"## {node.id} ({name})" and len(lines) > 3


def test_ivr_schema_rewrites_a_stale_schema(tmp_path):
    root = tmp_path / "line"
    (root / "menus").mkdir(parents=True)
    stale = json.loads(SCHEMA.read_text(encoding="utf-8"))
    stale["$defs"]["node"]["allOf"] = stale["$defs"]["node"]["allOf"][:2]
    (root / "menus" / "schema.json").write_text(json.dumps(stale), encoding="utf-8")
    result = CliRunner().invoke(cli, ["schema", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert (root / "menus" / "schema.json").read_text(encoding="utf-8") == SCHEMA.read_text(encoding="utf-8")
    assert "updated" in result.output
