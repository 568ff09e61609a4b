"""The `ivr` command: Flask's CLI plus validate and simulate. Content errors become click errors
only here, at the boundary."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup

from . import create_app, default_content_root
from .directory_import import Options as ImportOptions, import_directory
from .flow import check, load_line
from .transcript import audio_script, transcript
from .simulate import DIAL_OUTCOMES, Simulator, scripted

root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Content folder holding menus/ and locales/ (default: the built-in line).")


@click.group(cls=FlaskGroup, create_app=create_app)
def main() -> None:
    """Run, check and rehearse the phone line."""


@main.command(with_appcontext=False)
@root_option
@click.option("--production", is_flag=True, help="Also fail on placeholder phone numbers.")
def validate(root: Path | None, production: bool) -> None:
    """Check every menu, destination and translation; exit 1 on any error."""
    root = root or default_content_root()
    line, problems = check(root, production=production)
    for problem in problems:
        click.echo(str(problem), err=not problem.warning)
    if line is None:
        errors = sum(1 for p in problems if not p.warning)
        click.echo(f"{errors} error(s): the line will not start until they are fixed.", err=True)
        sys.exit(1)
    flow = line.flow
    pending = f"; waiting for recordings: {', '.join(flow.pending_languages)}" if flow.pending_languages else ""
    placeholders = [d.id for d in flow.destinations.values() if d.placeholder]
    click.echo(f"OK: {len(flow.nodes)} nodes, {len(flow.destinations)} destinations, languages: "
               f"{', '.join(flow.languages)}{pending}")
    if placeholders:
        click.echo(f"Placeholder numbers (fine for development, refused by --production): "
                   f"{', '.join(placeholders)}")


def _load(root: Path | None):
    try:
        return load_line(root or default_content_root())
    except Exception as exc:  # noqa: BLE001 - a content error becomes a plain message here
        raise click.ClickException(f"the content does not load; run `ivr validate`.\n{exc}") from exc


def _language(line, lang: str):
    known = {**line.flow.languages, **line.flow.pending_languages}
    if lang not in known:
        raise click.BadParameter(f"'{lang}' is not one of {', '.join(known)}", param_hint="LANG")
    return known[lang]


@main.command("transcript", with_appcontext=False)
@root_option
@click.argument("lang", required=False)
@click.option("--all", "write_all", is_flag=True,
              help="Write every language's transcript to content/transcripts/LANG.md.")
def transcript_command(root: Path | None, lang: str | None, write_all: bool) -> None:
    """Print a language's whole flow as a readable script, for staff and translators."""
    line = _load(root)
    if write_all:
        folder = Path(line.flow.root) / "content" / "transcripts"
        folder.mkdir(parents=True, exist_ok=True)
        for code in line.flow.languages:
            (folder / f"{code}.md").write_text(transcript(line, code), encoding="utf-8")
            click.echo(f"wrote {folder / (code + '.md')}")
        return
    if not lang:
        raise click.UsageError("name a language, or use --all")
    _language(line, lang)
    click.echo(transcript(line, lang), nl=False)


@main.command("audio-script", with_appcontext=False)
@root_option
@click.argument("lang")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the CSV here instead of printing it.")
def audio_script_command(root: Path | None, lang: str, output: Path | None) -> None:
    """List every prompt to record for LANG, with the file name each recording must have (CSV)."""
    line = _load(root)
    language = _language(line, lang)
    if not language.audio:
        raise click.ClickException(f"{lang} is spoken by a Twilio voice; it needs no recordings")
    text = audio_script(line, lang)
    if output:
        output.write_text(text, encoding="utf-8")
        missing = text.count(",no,")
        click.echo(f"wrote {output}: {text.count(chr(10)) - 1} prompts, {missing} still to record")
    else:
        click.echo(text, nl=False)


@main.group("directory")
def directory_group() -> None:
    """The directory of services near the caller (Open Referral HSDS data)."""


@directory_group.command("import", with_appcontext=False)
@root_option
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; copy nothing.")
@click.option("--strict", is_flag=True, help="Refuse the whole export if any row would be left out.")
@click.option("--accept-fewer", is_flag=True, help="Accept data with less than half of the current places.")
@click.option("-v", "--verbose", is_flag=True, help="List every problem, not the first ten of each kind.")
def directory_import(root: Path | None, source: Path, dry_run: bool, strict: bool, accept_fewer: bool,
                     verbose: bool) -> None:
    """Check an HSDS 3.0 CSV folder (e.g. a 2-1-1 export) with the whole line, then make it the
    line's directory. Rows that cannot help a caller are left out and listed as file:row: message."""
    outcome = import_directory(root or default_content_root(), source,
                               ImportOptions(dry_run, strict, accept_fewer, verbose))
    for problem in outcome.problems:
        click.echo(problem, err=True)
    for text in outcome.summary:
        click.echo(text, err=not outcome.ok)
    if not outcome.ok:
        sys.exit(1)


class _ShownSms:
    """In the simulator a text message is shown, not sent."""

    def send(self, to: str, from_: str, body: str) -> None:
        click.echo("[text message the caller would get]\n    " + body.replace("\n", "\n    "))


def _ask_key(prompt: str) -> str | None:
    answer = click.prompt("  key (0-9 * #, Enter for silence, q to hang up)", default="",
                          show_default=False)
    return None if answer.strip().lower() == "q" else answer.strip()[:1]


def _ask_dial(numbers: str) -> str | None:
    answer = click.prompt(f"  dialling {numbers}: outcome", type=click.Choice([*DIAL_OUTCOMES, "q"]),
                          default="completed")
    return None if answer == "q" else answer


@main.command(with_appcontext=False)
@root_option
@click.option("--keys", default=None, help="Keys to press, comma-separated, for an unattended call: "
              "'2,1,0'. An empty item or '-' is silence. The caller hangs up when they run out.")
@click.option("--dial", "dials", default=None, help="Outcomes of each transfer, comma-separated "
              f"({', '.join(DIAL_OUTCOMES)}); default: completed.")
def simulate(root: Path | None, keys: str | None, dials: str | None) -> None:
    """Make a call in the terminal through the real app, with signed requests."""
    token = secrets.token_hex(16)  # signatures are checked for real, with a token of this run's own
    app = create_app({"CONTENT_ROOT": str(root or default_content_root()), "TWILIO_AUTH_TOKEN": token,
                      "INSECURE_DEV_MODE": False, "SMS_SENDER": _ShownSms()})
    unattended = keys is not None
    ask_key = scripted([k.strip() for k in keys.split(",")]) if unattended else _ask_key
    if dials is not None:
        ask_dial = scripted([d.strip() for d in dials.split(",")])
    elif unattended:
        ask_dial = lambda _numbers: "completed"  # noqa: E731
    else:
        ask_dial = _ask_dial
    for line in Simulator(app, token, ask_key, ask_dial).run():
        click.echo(line)


__all__ = ["main"]
