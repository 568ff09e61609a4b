"""menus/README.md shows every node kind and every field, and its examples are a line that works."""
from __future__ import annotations

import re
import shutil

import pytest
import yaml

from conftest import REPO
from ivr.build import DESTINATION_FIELDS, LINE_FIELDS
from ivr.flow import check
from ivr.kinds import KINDS

README = (REPO / "menus" / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
LANGUAGE_FIELDS = {"key", "name", "choose", "say_language", "voice", "audio", "optional"}


def merged() -> dict:
    """The README's examples as one menu file: each block adds to its section."""
    whole: dict = {}
    section = None
    for block in BLOCKS:
        if not re.match(r"^[a-z]", block):  # a block that goes on with the section above
            block = f"{section}:\n{block}"
        data = yaml.safe_load(block)
        for name, value in data.items():
            section = name
            if name == "line":
                line = whole.setdefault("line", {})
                for key, item in value.items():
                    if isinstance(item, dict) and isinstance(line.get(key), dict):
                        line[key].update(item)
                    else:
                        line[key] = item
            else:
                whole.setdefault(name, {}).update(value)
    return whole


def test_the_examples_are_a_line_that_passes_validation(tmp_path):
    root = tmp_path / "example"
    (root / "menus").mkdir(parents=True)
    (root / "menus" / "line.yaml").write_text(yaml.safe_dump(merged(), allow_unicode=True), encoding="utf-8")
    shutil.copytree(REPO / "directory", root / "directory")
    line, problems = check(root)
    errors = [str(p) for p in problems if not p.warning]
    assert line is not None, errors
    assert set(line.flow.languages) == {"en"} and set(line.flow.pending_languages) == {"so"}


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_and_every_field_of_it_has_an_example(name):
    every = merged()["nodes"].values()
    nodes = [n for n in every if n["type"] == name]
    assert nodes, f"menus/README.md shows no {name} node"
    shown = set().union(*(set(n) for n in nodes))
    expected = KINDS[name].field_names - {"title"}  # a field of every kind, shown once below
    assert expected <= shown, f"{name}: no example of {expected - shown}"
    assert any("title" in n for n in every), "menus/README.md shows no node with a title"


def test_every_field_of_the_line_destinations_and_languages_has_an_example():
    whole = merged()
    assert LINE_FIELDS <= set(whole["line"]), LINE_FIELDS - set(whole["line"])
    shown = set().union(*(set(d) for d in whole["destinations"].values()))
    assert DESTINATION_FIELDS <= shown, DESTINATION_FIELDS - shown
    languages = set().union(*(set(spec) for spec in whole["line"]["languages"].values()))
    assert LANGUAGE_FIELDS <= languages, LANGUAGE_FIELDS - languages
