"""A loaded line: the checked flow, what every prompt sounds like, and the directory it searches."""
from __future__ import annotations

from dataclasses import dataclass

from .directory import Directory
from .model import Flow
from .problems import Problem
from .speech import Speech


@dataclass(frozen=True)
class Line:
    """A loaded line, ready to navigate; never changed after loading."""

    flow: Flow
    speech: Speech
    warnings: tuple[Problem, ...] = ()
    directory: Directory | None = None
