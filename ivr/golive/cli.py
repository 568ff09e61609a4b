"""The going-live commands of `ivr`: fallback, check, twilio connect, nginx-config."""
from __future__ import annotations

import os
from pathlib import Path

import click

from .. import default_content_root
from ..flow import load_line
from ..settings import Settings, SettingsError
from .deploy import nginx_site, production_values
from .fallback import fallback_twiml

root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Content folder holding menus/ and locales/ (default: the built-in line).")


def settings() -> Settings:
    """The line's settings from the environment; a bad one is a plain error here."""
    try:
        return Settings.load(os.environ)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def load(root: Path | None):
    try:
        return load_line(root or default_content_root())
    except Exception as exc:  # noqa: BLE001 - a content error becomes a plain message here
        raise click.ClickException(f"the content does not load; run `ivr validate`.\n{exc}") from exc


@click.command("fallback")
@root_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the document here instead of printing it.")
@click.option("--line-number", default=None,
              help="The caller ID helpers see (default: IVR_LINE_NUMBER; none: the caller's own number).")
def fallback_command(root: Path | None, output: Path | None, line_number: str | None) -> None:
    """Write the TwiML a caller hears when the line's servers cannot answer.

    Paste it into a TwiML Bin (or serve it from any static host), then give its URL to
    `ivr twilio connect --fallback-url`. It needs no server of ours: the 9 1 1 instruction, a
    transfer to a person down the whole chain, then the numbers read out twice.
    """
    number = settings().line_number if line_number is None else line_number
    document = fallback_twiml(load(root), number)
    if output is None:
        click.echo(document)
        return
    output.write_text(document + "\n", encoding="utf-8")
    click.echo(f"wrote {output}: paste it into a TwiML Bin, then run "
               f"`ivr twilio connect --fallback-url <the bin's URL>`", err=True)


@click.command("nginx-config")
@click.argument("domain")
@click.option("--app", "apps", multiple=True, default=["127.0.0.1:8000"], show_default=True,
              help="An app host's gunicorn, HOST:PORT; repeat it for each of several hosts.")
def nginx_config_command(domain: str, apps: tuple[str, ...]) -> None:
    """Print deploy/nginx.conf filled in for DOMAIN (Debian's nginx, certbot's certificate)."""
    click.echo(nginx_site(production_values(domain, apps)), nl=False)


def register(main: click.Group) -> None:
    """Add the going-live commands to the `ivr` command."""
    for command in (fallback_command, nginx_config_command):
        main.add_command(command)
