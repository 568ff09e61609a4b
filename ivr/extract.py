"""A Babel extractor for the menu YAML, registered as `ivr_yaml` under `babel.extractors`.

`pybabel extract -F babel.cfg` then collects every prompt, with its key path as the comment a
translator sees (`#. nodes.main.options.2.say`), so they know where each sentence is spoken.
"""
from __future__ import annotations

from typing import Any, Iterator

from .source import KeyPath, parse


def translatable(path: KeyPath) -> bool:
    """Which YAML strings are spoken in the caller's language (language names are not)."""
    if "say" in path:
        return path[0] in ("nodes", "line") and "languages" not in path
    if path[:2] == ("line", "phrases") and len(path) == 3:
        return True
    return path[0] == "destinations" and len(path) == 3 and path[2] == "name"


def _strings(data: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, path + (str(index),))
    elif isinstance(data, str) and path and translatable(path):
        yield path, data


def extract_yaml(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extractor interface: yield (line, funcname, message, comments)."""
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    src, _ = parse(text, getattr(fileobj, "name", "menu"))
    for path, message in _strings(src.data, ()):
        # The same whitespace folding as the loader, so msgids match what the line looks up.
        yield src.line(path), "", " ".join(message.split()), [".".join(path)]
