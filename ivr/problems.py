"""What is wrong with the content, located for the person who must fix it.

Every loader (menus, catalogs, directory data) reports through these types, so `ivr validate`,
a refused reload and the staff console all say the same thing the same way: `file:line key.path:
message`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """Where a piece of content was written."""

    file: str
    line: int
    path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.path}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content. A warning is served anyway; an error stops the line."""

    file: str
    line: int
    path: str
    message: str
    warning: bool = False

    @classmethod
    def at(cls, where: Where, message: str, warning: bool = False, suffix: str = "") -> "Problem":
        """A problem at `where` (`suffix` adds a key below it, e.g. '.goto')."""
        return cls(where.file, where.line, where.path + suffix, message, warning)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        kind = "warning: " if self.warning else ""
        return f"{where} {self.path}: {kind}{self.message}" if self.path else f"{where} {kind}{self.message}"


class FlowError(Exception):
    """The content cannot be served; `problems` says every reason, located."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
