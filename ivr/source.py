"""Read YAML while remembering where every key came from.

PyYAML forgets line numbers and silently keeps the last of two equal keys. Staff who edit menus
need both: an error must point at `file:line`, and a repeated key is a mistake to report, not to
paper over. So we compose the node tree ourselves and build plain dicts and lists from it, noting
the line of every key path on the way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .problems import Problem

KeyPath = tuple[str, ...]
# LibYAML's parser when PyYAML was built with it (five times faster on large flows); same marks.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Source:
    """A parsed YAML file: its data and the line of each key path."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def problem(self, path: KeyPath, message: str, warning: bool = False) -> Problem:
        return Problem(self.file, self.line(path), ".".join(path), message, warning)


# Plain scalars that may be something other than text (a number, true/false, a date, null), as
# SafeLoader's own resolvers decide; everything else is text without asking them, which is most
# of a menu file and most of the time it takes to read one.
_MAYBE_TYPED = re.compile("|".join(
    f"(?:{regexp.pattern})" for _tag, regexp in
    {id(r): (t, r) for rs in yaml.SafeLoader.yaml_implicit_resolvers.values() for t, r in rs}.values()
), re.X)
_RESOLVER = yaml.resolver.Resolver()


class _Frame:
    """A mapping or sequence being read, with the path it sits at."""

    __slots__ = ("path", "value", "key", "index", "start")

    def __init__(self, path: KeyPath, value: Any):
        self.path, self.value, self.key, self.index = path, value, None, 0


#: What a value tagged (or looking like) each YAML type must be, in words.
_TYPE_WORDS = {"timestamp": "date, like 2026-12-24", "int": "whole number", "float": "number",
               "bool": "yes/no value"}


class _BadValue(ValueError):
    """A scalar that YAML reads as a date or number but that is none."""


def _scalar(event: yaml.ScalarEvent, constructor: SafeConstructor) -> Any:
    if not event.implicit[0] or (event.value and not _MAYBE_TYPED.match(event.value)):
        if event.tag in (None, "!", "tag:yaml.org,2002:str"):
            return event.value
    tag = event.tag if event.tag not in (None, "!") else _RESOLVER.resolve(
        yaml.ScalarNode, event.value, event.implicit)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return constructor.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:
        # 2026-02-30, !!int hello: reported where it is written, never a crash.
        kind = tag.rsplit(":", 1)[-1]
        raise _BadValue(f"'{event.value}' is not a valid {_TYPE_WORDS.get(kind, kind)} ({exc})") from None


def _build(events, src: Source, problems: list[Problem]) -> Any:
    """Build plain dicts and lists from parser events, noting the line of every key path.

    Reading events, not a composed node tree, keeps a large flow quick to load and light in
    memory. A repeated key is reported (YAML would keep the last one silently).
    """
    constructor = SafeConstructor()
    anchors: dict[str, Any] = {}
    stack: list[_Frame] = []
    root: Any = None

    def place(value: Any, event) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        frame = stack[-1]
        if isinstance(frame.value, list):
            child = frame.path + (str(frame.index),)
            src.lines[child] = event.start_mark.line + 1
            frame.index += 1
            frame.value.append(value)
        elif frame.key is None:
            # Staff write `1:` for keypad keys; YAML reads that as a number. Keys are names: text.
            frame.key = ("", str(value), event.start_mark.line + 1)
        else:
            _, key, line = frame.key
            frame.key = None
            child = frame.path + (key,)
            if key in frame.value:
                problems.append(Problem(src.file, line, ".".join(child),
                                        f"repeated key '{key}' (first on line {src.lines[child]})"))
                return
            src.lines[child] = line
            frame.value[key] = value

    def child_path() -> KeyPath:
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.value, list):
            return frame.path + (str(frame.index),)
        return frame.path + ((frame.key[1],) if frame.key else ("?",))

    for event in events:
        if isinstance(event, yaml.ScalarEvent):
            try:
                value = _scalar(event, constructor)
            except _BadValue as exc:
                problems.append(Problem(src.file, event.start_mark.line + 1, ".".join(child_path()), str(exc)))
                value = event.value
            if event.anchor:
                anchors[event.anchor] = value
            place(value, event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            is_key = bool(stack) and isinstance(stack[-1].value, dict) and stack[-1].key is None
            container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
            if is_key:
                problems.append(Problem(src.file, event.start_mark.line + 1, ".".join(child_path()),
                                        "a key must be a plain name, not a mapping or a list"))
            frame = _Frame(child_path(), container)
            frame.key = None
            if event.anchor:
                anchors[event.anchor] = container
            stack.append(frame)
            frame.start = event  # type: ignore[attr-defined]
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            place(frame.value, frame.start)  # type: ignore[attr-defined]
        elif isinstance(event, yaml.AliasEvent):
            place(anchors.get(event.anchor), event)
    return root


def load(path: Path, display: str | None = None) -> tuple[Source, list[Problem]]:
    """Parse one YAML file. Returns the source (data None if unreadable) and its problems."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Source(name, None), [Problem(name, 1, "", f"cannot read file: {exc}")]
    return parse(text, name)


def parse(text: str, name: str) -> tuple[Source, list[Problem]]:
    """Parse YAML text; `name` is how problems refer to it."""
    src = Source(name, None)
    problems: list[Problem] = []
    try:
        data = _build(yaml.parse(text, Loader=LOADER), src, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(name, line, "", f"not valid YAML: {exc.problem or exc}"))
        return src, problems
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problems.append(Problem(name, line, "", f"character #x{exc.character:04x} is not allowed "
                                "(a control character, perhaps pasted in): delete it"))
        return src, problems
    except yaml.YAMLError as exc:
        problems.append(Problem(name, 1, "", f"not valid YAML: {exc}"))
        return src, problems
    src.data = {} if data is None else data
    return src, problems
