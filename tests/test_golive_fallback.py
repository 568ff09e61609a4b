"""`ivr fallback`: the TwiML Twilio plays when the line's servers cannot answer. It must work with
no server of ours: only <Say>, <Dial> and <Number>, and no URL at all."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from conftest import REPO
from ivr.cli import main

LINE_NUMBER = "+12075550123"


def fallback(*args: str) -> ET.Element:
    result = CliRunner().invoke(main, ["fallback", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return ET.fromstring(result.stdout)


def urls_in(root: ET.Element) -> list[str]:
    """Every attribute or text that points somewhere: a URL, or a path on some server."""
    found = []
    for element in root.iter():
        for value in [element.text or "", *element.attrib.values()]:
            if "://" in value or value.strip().startswith("/") or "/voice" in value or "/audio" in value:
                found.append(value)
    return found


def said(root: ET.Element) -> list[tuple[str | None, str]]:
    return [(e.get("language"), e.text or "") for e in root.iter("Say")]


def test_the_built_in_lines_fallback_needs_no_server(monkeypatch):
    monkeypatch.setenv("IVR_LINE_NUMBER", LINE_NUMBER)
    root = fallback("--root", str(REPO))
    assert root.tag == "Response"
    assert {e.tag for e in root.iter()} <= {"Response", "Say", "Dial", "Number"}
    assert urls_in(root) == []
    tags = [child.tag for child in root]
    # The 9 1 1 instruction first, in English then Spanish, as the line's start node says it.
    (en_lang, en), (es_lang, es) = said(root)[:2]
    assert (en_lang, es_lang) == ("en-US", "es-US")
    assert "hang up and call 9 1 1 now" in en and "cuelgue y llame al 9 1 1" in es
    # Then 2-1-1 Maine's 10-digit line, showing the line's own number to the helper.
    dials = root.findall("Dial")
    assert [d.findtext("Number") for d in dials] == ["+18668115695"]
    assert dials[0].get("callerId") == LINE_NUMBER and dials[0].get("timeout") == "20"
    # Then, if no one answered, the numbers, twice, and goodbye.
    after = [text for _, text in said(root)[tags.index("Dial"):]]
    assert after[0].startswith("We could not connect your call")
    assert after.count("2 1 1 Maine") == 2 and after.count("2 1 1") == 2
    assert after[-1].startswith("Thank you for calling")


def test_the_whole_chain_is_dialled_whatever_the_hour(demo_root, office_hours):
    # Sunday night: the demo helpline is closed, yet a document pasted once serves every hour.
    office_hours.move_to(datetime(2026, 11, 22, 23, 0, tzinfo=ZoneInfo("America/New_York")))
    root = fallback("--root", str(demo_root), "--line-number", "")
    assert [d.findtext("Number") for d in root.findall("Dial")] == ["+12075550100", "+12075550101"]
    assert all(d.get("callerId") is None for d in root.findall("Dial"))  # no number: none invented
    texts = [text for _, text in said(root)]
    assert not any("closed" in text for text in texts)
    between = [child for child in root][[c.tag for c in root].index("Dial") + 1]
    assert between.text == "No one answered. We are trying another line."
    assert texts.count("the demo helpline") == 2 and texts.count("the demo backup line") == 2
    assert urls_in(root) == []


def test_the_document_is_written_to_a_file(tmp_path, demo_root):
    out = tmp_path / "fallback.xml"
    result = CliRunner().invoke(main, ["fallback", "--root", str(demo_root), "-o", str(out)])
    assert result.exit_code == 0
    assert ET.parse(out).getroot().find("Dial/Number").text == "+12075550100"
    assert "--fallback-url" in result.stderr
