"""Read YAML while remembering where every key came from.

PyYAML forgets line numbers and silently keeps the last of two equal keys. Staff who edit menus
need both: an error must point at `file:line`, and a repeated key is a mistake to report, not to
paper over. So we compose the node tree ourselves and build plain dicts and lists from it, noting
the line of every key path on the way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, located for the person who must fix it."""

    file: str
    line: int
    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        kind = "warning: " if self.warning else ""
        return f"{where} {self.path}: {kind}{self.message}" if self.path else f"{where} {kind}{self.message}"


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


def _key_text(node: yaml.Node, constructor: SafeConstructor) -> str:
    # Staff write `1:` for keypad keys; YAML reads that as an int. Keys are names here, so text.
    value = constructor.construct_object(node, deep=True)
    return str(value)


def _build(node: yaml.Node, path: KeyPath, src: Source, problems: list[Problem],
           constructor: SafeConstructor) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key_text(key_node, constructor)
            child = path + (key,)
            line = key_node.start_mark.line + 1
            if key in result:
                problems.append(Problem(src.file, line, ".".join(child),
                                        f"repeated key '{key}' (first on line {src.lines[child]})"))
                continue
            src.lines[child] = line
            result[key] = _build(value_node, child, src, problems, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = path + (str(index),)
            src.lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, src, problems, constructor))
        return items
    return constructor.construct_object(node, deep=True)


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
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(name, line, "", f"not valid YAML: {exc.problem or exc}"))
        return src, problems
    if node is None:
        src.data = {}
        return src, problems
    src.data = _build(node, (), src, problems, SafeConstructor())
    return src, problems
