"""The published JSON Schema agrees with the loader about what a menu file may say."""
from __future__ import annotations

import json
from datetime import date

import jsonschema
import pytest
import yaml

from conftest import REPO

SCHEMA = json.loads((REPO / "menus" / "schema.json").read_text())
MENU_FILES = sorted((REPO / "menus").glob("*.yaml")) + sorted((REPO / "tests/fixtures/demo/menus").glob("*.yaml"))


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def as_json(value):
    """YAML 1.1 reads 2026-12-24 as a date; editors' YAML 1.2 and JSON Schema see a string."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


@pytest.mark.parametrize("path", MENU_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_menus_match_the_schema(path):
    jsonschema.validate(as_json(yaml.safe_load(path.read_text())), SCHEMA)


@pytest.mark.parametrize("bad", [
    {"nodes": {"x": {"type": "menu", "say": "Hi.", "options": {"10": {"say": "a", "goto": "b"}}}}},
    {"nodes": {"x": {"type": "message", "say": "Hi."}}},
    {"nodes": {"x": {"type": "farewell", "say": "Hi."}}},
    {"destinations": {"d": {"name": "D", "number": "211", "source": "s"}}},
    {"destinations": {"d": {"name": "D", "number": "+12075550100"}}},
])
def test_schema_rejects_what_the_loader_rejects(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
