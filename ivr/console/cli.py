"""`ivr console`: the staff console's logins (add-user, remove-user, users)."""
from __future__ import annotations

from pathlib import Path

import click

from ..commands import settings
from . import users as users_file

file_option = click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                           help="The users file (default: IVR_CONSOLE_USERS).")


def _path(path: Path | None) -> Path:
    if path is not None:
        return path
    configured = settings().console_users
    if configured is None:
        raise click.UsageError("name the users file with --file, or set IVR_CONSOLE_USERS")
    return configured


@click.group("console")
def console() -> None:
    """The staff console's logins. The console at /console is on when IVR_CONSOLE_USERS names this file."""


@console.command("add-user")
@file_option
@click.argument("name")
@click.password_option(help="The new password (asked twice when not given).")
def add_user(path: Path | None, name: str, password: str) -> None:
    """Add a staff login NAME, or set a new password for it (which ends its sessions)."""
    path = _path(path)
    try:
        new = users_file.add_user(path, name, password)
    except (users_file.UsersFileError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'added' if new else 'changed the password of'} {name} in {path}")


@console.command("remove-user")
@file_option
@click.argument("name")
def remove_user(path: Path | None, name: str) -> None:
    """Remove the staff login NAME; its sessions end at their next page."""
    path = _path(path)
    try:
        removed = users_file.remove_user(path, name)
    except users_file.UsersFileError as exc:
        raise click.ClickException(str(exc)) from None
    if not removed:
        raise click.ClickException(f"{name} is not a login in {path}")
    click.echo(f"removed {name} from {path}")


@console.command("users")
@file_option
def list_users(path: Path | None) -> None:
    """List the staff logins."""
    try:
        found = users_file.read(_path(path))
    except users_file.UsersFileError as exc:
        raise click.ClickException(str(exc)) from None
    for name in sorted(found.hashes):
        click.echo(name)
