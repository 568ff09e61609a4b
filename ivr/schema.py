"""`menus/schema.json`, the JSON Schema editors check menu files with: its node part is generated
from the table of node kinds, so a kind's fields are declared once (`ivr schema` rewrites it)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .kinds import node_schema


def with_current_kinds(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its node definition generated from `ivr.kinds`."""
    return {**schema, "$defs": {**schema["$defs"], "node": node_schema()}}


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, ensure_ascii=False) + "\n"


def write(path: Path) -> bool:
    """Regenerate the node part of the schema file at `path`; True if it changed."""
    old = path.read_text(encoding="utf-8")
    new = dump(with_current_kinds(json.loads(old)))
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
