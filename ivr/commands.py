"""What every `ivr` command shares: the --root option, loading the line, the line's settings.
Errors a user can fix become click errors here, at the boundary."""
from __future__ import annotations

import os
from pathlib import Path

import click

from . import default_content_root
from .flow import load_line
from .line import Line
from .settings import Settings, SettingsError

root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Content folder holding menus/ and locales/ (default: the built-in line).")


def load(root: Path | None) -> Line:
    """The line in `root` (or the built-in one); a FlowError is turned into a message by the group."""
    return load_line(root or default_content_root())


def settings() -> Settings:
    """The line's settings from the environment, as the served line reads them."""
    try:
        return Settings.load(os.environ)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
