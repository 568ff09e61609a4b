"""The `ivr` command: the line's own commands, for the people who run it. Content and settings
errors become one plain message and an exit status here, at the boundary, never a traceback."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

from datetime import datetime
from importlib.metadata import version

import click

from . import create_app, default_content_root, schema, translations
from .directory_import import Options as ImportOptions, import_directory
from .flow import check
from .problems import FlowError
from .kinds import KINDS
from .commands import load, root_option, settings
from .console.cli import console
from .golive.cli import register
from .settings import SettingsError
from .stats.cli import report
from .navigator import Navigator
from .transcript import audio_script, transcript
from .simulate import DIAL_OUTCOMES, Simulator, scripted



class LineCommands(click.Group):
    """The `ivr` group: an error a user can fix is one plain message and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FlowError as exc:
            raise click.ClickException("the content does not load:\n" + "\n".join(str(p) for p in exc.problems)
                                       + "\n(`ivr validate` lists every problem)") from None
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)) from None


@click.group(cls=LineCommands)
@click.version_option(version("ivr"), prog_name="ivr", message="%(prog)s %(version)s")
def main() -> None:
    """Check, rehearse and look after the phone line. `make run` serves it."""


@main.command()
@root_option
@click.option("--production", is_flag=True, help="Also fail on placeholder phone numbers.")
def validate(root: Path | None, production: bool) -> None:
    """Check every menu, destination and translation; exit 1 on any error.

    With --production (or IVR_PRODUCTION=1, as the served line has it) placeholder numbers are
    errors too, and every number still to confirm is listed."""
    root = root or default_content_root()
    production = production or settings().production
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


def _language(line, lang: str):
    known = {**line.flow.languages, **line.flow.pending_languages}
    if lang not in known:
        raise click.BadParameter(f"'{lang}' is not one of {', '.join(known)}", param_hint="LANG")
    return known[lang]


@main.command("transcript", )
@root_option
@click.argument("lang", required=False)
@click.option("--all", "write_all", is_flag=True,
              help="Write every language's transcript to content/transcripts/LANG.md.")
def transcript_command(root: Path | None, lang: str | None, write_all: bool) -> None:
    """Print a language's whole flow as a readable script, for staff and translators."""
    line = load(root)
    if write_all:
        folder = Path(line.flow.root) / "content" / "transcripts"
        folder.mkdir(parents=True, exist_ok=True)
        nav = Navigator(line, KINDS)
        for code in line.flow.languages:
            (folder / f"{code}.md").write_text(transcript(nav, code), encoding="utf-8")
            click.echo(f"wrote {folder / (code + '.md')}")
        return
    if not lang:
        raise click.UsageError("name a language, or use --all")
    _language(line, lang)
    click.echo(transcript(Navigator(line, KINDS), lang), nl=False)


@main.command("schema", )
@root_option
def schema_command(root: Path | None) -> None:
    """Regenerate menus/schema.json (what editors check menu files with) from the node kinds."""
    path = (root or default_content_root()) / "menus" / "schema.json"
    if not path.exists():
        raise click.ClickException(f"{path} does not exist")
    changed = schema.write(path)
    click.echo(f"{'updated' if changed else 'already up to date:'} {path}")


@main.group("translations")
def translations_group() -> None:
    """Keep every language's catalog in step with the menus."""


@translations_group.command("update", )
@root_option
def translations_update(root: Path | None) -> None:
    """Collect the prompts into locales/messages.pot and merge them into every catalog.

    Only what changed in the menus changes in the catalogs. New sentences arrive untranslated (or
    fuzzy, with a close old translation to check); the line does not speak them until translated.
    """
    root = root or default_content_root()
    pot_changed, merged = translations.update(root, translations.line_name(root))
    click.echo(f"{'updated' if pot_changed else 'unchanged:'} {root / translations.TEMPLATE}")
    for result in merged:
        todo = (f"{result.untranslated} to translate, {result.fuzzy} fuzzy to check"
                if result.untranslated or result.fuzzy else "complete")
        click.echo(f"{'updated' if result.changed else 'unchanged:'} {result.path}: {todo}")


@translations_group.command("add", )
@root_option
@click.argument("code")
def translations_add(root: Path | None, code: str) -> None:
    """Start the catalog of a new language CODE (never overwrites an existing one)."""
    root = root or default_content_root()
    try:
        path = translations.add(root, code, translations.line_name(root))
    except (FileExistsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"started {path}. The line speaks the language once it is listed in menus/line.yaml "
               f"under line.languages (its key, name, choose sentence and voice, or audio: true) and "
               f"every sentence is translated; `ivr validate` lists what is missing.")


@main.command("audio-script", )
@root_option
@click.argument("lang")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the CSV here instead of printing it.")
def audio_script_command(root: Path | None, lang: str, output: Path | None) -> None:
    """List every prompt to record for LANG, with the file name each recording must have (CSV)."""
    line = load(root)
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


@directory_group.command("import", )
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


class _RehearsedSms:
    """The simulator's line can text, as a line with Twilio's account set can: its calls are
    rehearsals, so each text is shown from the Rehearsal and this is never asked to send."""

    def send(self, to: str, from_: str, body: str) -> None:
        raise RuntimeError("a rehearsed call's text is never sent")


def _ask_key(prompt: str) -> str | None:
    answer = click.prompt("  keys (0-9 * #, a ZIP code; Enter for silence, q to hang up)", default="",
                          show_default=False)
    return None if answer.strip().lower() == "q" else answer.strip()


def _ask_dial(numbers: str) -> str | None:
    answer = click.prompt(f"  dialling {numbers}: outcome", type=click.Choice([*DIAL_OUTCOMES, "q"]),
                          default="completed")
    return None if answer == "q" else answer


def _dial_outcomes(_ctx, _param, value: str | None) -> list[str] | None:
    """--dial checked: each outcome one of Twilio's DialCallStatus values (any case)."""
    if value is None:
        return None
    outcomes = [item.strip().lower() for item in value.split(",")]
    for outcome in outcomes:
        if outcome not in DIAL_OUTCOMES:
            guess = outcome.replace("_", "-")
            hint = f" (did you mean {guess}?)" if guess in DIAL_OUTCOMES else ""
            raise click.BadParameter(f"'{outcome}' is not an outcome{hint}: use {', '.join(DIAL_OUTCOMES)}")
    return outcomes


def _moment(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a time like '2026-12-25 03:00'") from None


@main.command()
@root_option
@click.option("--keys", default=None, help="What the caller presses, comma-separated, for an unattended "
              "call: '2,8,1,04101'. An empty item or '-' is silence. The caller hangs up when they run out.")
@click.option("--dial", "dials", default=None, callback=_dial_outcomes,
              help=f"Outcomes of each transfer, comma-separated ({', '.join(DIAL_OUTCOMES)}); default: completed.")
@click.option("--at", "moment", default=None, callback=_moment,
              help="The line's clock for this call, in its time zone: '2026-12-25 03:00' (a holiday at 3 am).")
def simulate(root: Path | None, keys: str | None, dials: list[str] | None, moment: datetime | None) -> None:
    """Make a call in the terminal, through the line's own app with signed requests (no server needed)."""
    token = secrets.token_hex(16)  # signatures are checked for real, with a token of this run's own
    app = create_app({"CONTENT_ROOT": str(root or default_content_root()), "TWILIO_AUTH_TOKEN": token,
                      "INSECURE_DEV_MODE": False, "SMS_SENDER": _RehearsedSms(),
                      "STATISTICS": False}, environ={})  # a rehearsal is never counted: no database
    unattended = keys is not None
    ask_key = scripted([k.strip() for k in keys.split(",")]) if unattended else _ask_key
    if dials is not None:
        ask_dial = scripted(dials, "--dial has no outcome left for this transfer: add one")
    elif unattended:
        ask_dial = lambda _numbers: "completed"  # noqa: E731
    else:
        ask_dial = _ask_dial
    for line in Simulator(app, token, ask_key, ask_dial, at=moment).run():
        click.echo(line)


main.add_command(report)
main.add_command(console)
register(main)

__all__ = ["main"]
