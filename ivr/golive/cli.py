"""The going-live commands of `ivr`: fallback, check, twilio connect, nginx-config."""
from __future__ import annotations

from pathlib import Path

import click
from twilio.base.exceptions import TwilioException

from ..commands import load, root_option, settings
from ..settings import SettingsError, parse_public_url
from .check import NAMES, OK, LiveLine, check
from .connect import VOICE_PATH, ConnectError, answers_as, apply, find_number, plan, twilio_client
from .deploy import nginx_site, production_values
from .fallback import fallback_twiml


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


def line_url(url: str | None) -> str:
    """The line's public URL: given, or IVR_PUBLIC_URL."""
    url = (url or settings().public_url).rstrip("/")
    if not url:
        raise click.UsageError("give the line's URL (https://...), or set IVR_PUBLIC_URL")
    return url


def token() -> str:
    found = settings().auth_token
    if not found:
        raise click.ClickException("TWILIO_AUTH_TOKEN is not set: requests are signed with the line's token")
    return found


@click.command("check")
@root_option
@click.argument("url", required=False)
def check_command(root: Path | None, url: str | None) -> None:
    """A synthetic call against the live line at URL (default: IVR_PUBLIC_URL).

    Checks /healthz, the TLS certificate, that an unsigned request is refused, then signed
    requests through the start, the language menu, the first menu and a transfer, with timings.
    Exit code: 0 OK, 1 WARNING, 2 CRITICAL (for cron or a monitor). TWILIO_AUTH_TOKEN must be the
    line's token.
    """
    live = LiveLine(line_url(url), token())
    worst = OK
    for result in check(live, load(root)):
        worst = max(worst, result.status)
        click.echo(str(result))
    click.echo(f"{live.base_url}: {NAMES[worst]}")
    raise SystemExit(worst)


@click.group("twilio")
def twilio_group() -> None:
    """The line's Twilio account: connect a number to the line."""


@twilio_group.command("connect")
@root_option
@click.option("--number", default=None, help="The account's number to connect, E.164 (default: IVR_LINE_NUMBER).")
@click.option("--url", default=None, help="The line's public https base URL (default: IVR_PUBLIC_URL).")
@click.option("--fallback-url", default=None,
              help="Where Twilio turns when the line cannot answer: the URL of `ivr fallback`'s document "
                   "(a TwiML Bin, or a static host). Left as it is when not given.")
@click.option("--fallback-method", type=click.Choice(["POST", "GET"]), default="POST", show_default=True,
              help="GET only for a static host that refuses POST: the caller's number then appears "
                   "in that host's access log.")
@click.option("--yes", is_flag=True, help="Change without asking.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def connect_command(root: Path | None, number: str | None, url: str | None, fallback_url: str | None,
                    fallback_method: str, yes: bool, dry_run: bool) -> None:
    """Point a number of the account at the line: its voice URL, status callback and fallback URL.

    Needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN. Before changing anything it checks that the
    line's URL answers a signed test call with this line's TwiML.
    """
    config = settings()
    number = number or config.line_number
    if not number:
        raise click.UsageError("give --number, or set IVR_LINE_NUMBER")
    if not config.account_sid:
        raise click.ClickException("TWILIO_ACCOUNT_SID is not set")
    base = line_url(url)
    try:
        base = parse_public_url("--url", base)
        if fallback_url is not None:
            fallback_url = parse_public_url("--fallback-url", fallback_url)
        live = LiveLine(base, token())
        answers_as(live, load(root))
        click.echo(f"{base}{VOICE_PATH} answers a signed test call with this line's TwiML.")
        client = twilio_client(config.account_sid, token())
        found = find_number(client, number)
        planned = plan(found, base, fallback_url, fallback_method)
    except (ConnectError, SettingsError) as exc:
        raise click.ClickException(f"{exc}. Nothing changed.") from None
    except TwilioException as exc:
        raise click.ClickException(f"Twilio's API refused: {exc}. Nothing changed.") from None
    if fallback_url is None and not found.voice_fallback_url:
        click.echo("Warning: the number has no fallback URL: if the line fails, callers hear 'an application "
                   "error'. Write one with `ivr fallback` and give its URL with --fallback-url.", err=True)
    changes = [setting for setting in planned if setting.changes]
    if not changes:
        click.echo(f"{number} is already connected to {base}: nothing to change.")
        return
    click.echo(f"{number} ({found.sid}) will change:")
    for change in changes:
        click.echo(f"  {change.label}: {change.old or '(none)'} -> {change.new or '(none)'}")
    if dry_run:
        click.echo("--dry-run: nothing changed.")
        return
    if not yes and not click.confirm("Change the number now?", default=False):
        click.echo("Nothing changed.")
        return
    try:
        apply(client, found, planned)
    except TwilioException as exc:
        raise click.ClickException(f"Twilio's API refused the change: {exc}") from None
    click.echo(f"{number} now answers with {base}{VOICE_PATH}. Call it, and run `ivr check {base}`.")


def register(main: click.Group) -> None:
    """Add the going-live commands to the `ivr` command."""
    for command in (fallback_command, nginx_config_command, check_command, twilio_group):
        main.add_command(command)
