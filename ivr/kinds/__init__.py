"""The table of node kinds: each kind declares its fields and owns how it is read, navigated and
transcribed. To add a kind, write a `NodeKind` subclass and list it here; `ivr schema` then
regenerates `menus/schema.json`, and the tests check that it renders on every channel."""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from .base import Field, NodeKind
from .directory import DirectorySearch
from .simple import Goodbye, Language, Menu, Message, Transfer

KINDS: Mapping[str, NodeKind] = MappingProxyType(
    {kind.name: kind for kind in (Menu(), Message(), Language(), Transfer(), Goodbye(), DirectorySearch())})


def node_schema() -> dict[str, Any]:
    """The JSON Schema of a node, one branch per kind."""
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": list(KINDS)}},
        "allOf": [kind.schema() for kind in KINDS.values()],
    }


__all__ = ["KINDS", "Field", "NodeKind", "node_schema"]
