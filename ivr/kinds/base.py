"""What every node kind declares: its fields, and how it is read, navigated and transcribed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from ..steps import Prompt, Step

if TYPE_CHECKING:
    from ..build import Builder
    from ..model import Node
    from ..navigator import Navigator, Visit
    from ..source import KeyPath, Source
    from ..transcript import Transcriber
    from ..urls import CallState

SAY_REF = {"$ref": "#/$defs/say"}
NODE_REF = {"$ref": "#/$defs/nodeId"}
TITLE_SCHEMA = {"type": "string", "description": "The node's name in plain words, for helpers and staff: "
                "a helper's whisper says the caller chose it. Not spoken to callers, not translated."}


@dataclass(frozen=True)
class Field:
    """One field a node of a kind may have in the menu files."""

    name: str
    schema: Mapping[str, Any]  # the JSON Schema of its value, for menus/schema.json
    required: bool = False


class NodeKind:
    """A kind of node: one instance per kind, registered in `ivr.kinds.KINDS`.

    The builder reads the fields every kind shares (`say`, `options`, `next`, `back`) as the flags
    below say; `parse` reads the rest. The navigator asks `arrive` what the caller hears on
    reaching a node, and `choose`/`silence` what a key or a silence there leads to.
    """

    name: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]]
    has_options: ClassVar[bool] = False  # keypad options leading to other nodes
    has_next: ClassVar[bool] = False  # leads on to a next node by itself
    has_back: ClassVar[bool] = False  # may say where the back key leads
    is_menu: ClassVar[bool] = False  # a menu the back key returns to
    ends: ClassVar[bool] = False  # reaching it ends a caller's search: a person, places, goodbye
    timeless: ClassVar[bool] = True  # what it says depends on no clock and no request value
    everywhere: ClassVar[frozenset[str] | None] = None  # the keys-everywhere actions it takes (None: all)

    def parse(self, builder: Builder, src: Source, path: KeyPath, spec: Mapping[str, Any]) -> dict[str, Any]:
        """The Node fields this kind adds, read from `spec` (problems go to `builder`)."""
        return {}

    def arrive(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        """What the caller hears on reaching the node."""
        raise NotImplementedError(f"the {self.name} kind says nothing on arrival")

    def choose(self, nav: Navigator, node: Node, visit: Visit, key: str) -> Step | None:
        """Where a key of the node's own leads; None: it is not an option here."""
        return None

    def silence(self, nav: Navigator, node: Node, visit: Visit) -> Step:
        """What silence leads to: by default, a miss."""
        return nav.miss(node, visit, spoken=False)

    def sorry(self, nav: Navigator, node: Node, visit: Visit) -> tuple[Prompt, ...]:
        """What a wrong key hears before the node again: "Sorry, that is not an option." """
        return (nav.phrase("not_an_option", visit.lang),)

    def step(self, nav: Navigator, node: Node, state: CallState, digits: str, visit: Visit) -> Step | None:
        """A step of the kind's own (`/voice/dir/<node>/<step>`); None: the kind has none."""
        return None

    def transcribe(self, t: Transcriber, node: Node) -> list[str]:
        """The node in a readable transcript, after its heading."""
        raise NotImplementedError(f"the {self.name} kind has no transcript")

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of a node of this kind."""
        properties: dict[str, Any] = {"type": True, "title": TITLE_SCHEMA}
        for field in self.fields:
            properties[field.name] = dict(field.schema)
        return {
            "if": {"properties": {"type": {"const": self.name}}},
            "then": {
                "additionalProperties": False,
                "required": [f.name for f in self.fields if f.required],
                "properties": properties,
            },
        }

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset({"type", "title", *(f.name for f in self.fields)})
