"""`ivr report`: the statistics as tables and CSV files; `ivr report prune` and `ivr report migrate`.

Registered on the `ivr` group. Settings come from the options, else from the line's settings
(IVR_DATABASE_URL, IVR_STATS_THRESHOLD, IVR_STATS_RETENTION_MONTHS: ivr.settings, read strictly).
"""
from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import click

from ..commands import settings
from . import DEFAULT_URL
from .recorder import months_before
from .report import PERIODS, build, render, write_csv
from .store import Store

database_option = click.option(
    "--database", "url", default=None,
    help=f"Where the counts are: sqlite:///path or postgresql://user@host/name (default: IVR_DATABASE_URL, "
         f"else {DEFAULT_URL}).")


def _store(url: str | None) -> Store:
    url = url or settings().database_url or DEFAULT_URL
    try:
        store = Store.from_url(url)
        store.migrate()
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable database is a user error
        raise click.ClickException(f"cannot open the statistics database: {exc}") from exc
    return store


def _day(value: datetime | None, default: date) -> date:
    return value.date() if value else default


@click.group(invoke_without_command=True)
@database_option
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (default: the first of this month).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day, included (default: today).")
@click.option("--by", type=click.Choice(list(PERIODS)), default="month", show_default=True,
              help="Count per day, ISO week or month.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write each table as a CSV file in this folder.")
@click.option("--threshold", type=click.IntRange(min=3), default=None,
              help="Counts under this show as '<N' (default: IVR_STATS_THRESHOLD, else 5).")
@click.pass_context
def report(ctx: click.Context, url: str | None, start: datetime | None, end: datetime | None, by: str,
           csv_dir: Path | None, threshold: int | None) -> None:
    """Calls, languages, menus, transfers, searches and texts, small numbers hidden."""
    if ctx.invoked_subcommand:
        return
    threshold = threshold or settings().stats_threshold
    today = date.today()
    first, last = _day(start, today.replace(day=1)), _day(end, today)
    if first > last:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    tables = build(_store(url), first, last, by, threshold)
    click.echo(f"Statistics from {first} to {last}, by {by}; counts under {threshold} show as "
               f"'<{threshold}', and totals that include them as a range.\n")
    click.echo(render(tables))
    if csv_dir:
        for path in write_csv(tables, csv_dir):
            click.echo(f"wrote {path}")


@report.command()
@database_option
@click.option("--retention-months", type=click.IntRange(min=1), default=None,
              help="Keep this many whole months before the current one (default: IVR_STATS_RETENTION_MONTHS, else 24).")
def prune(url: str | None, retention_months: int | None) -> None:
    """Delete counts older than the retention (the writer also does it every 5 minutes)."""
    retention_months = retention_months or settings().stats_retention_months
    cutoff = months_before(datetime.now(), retention_months)
    old, calls = _store(url).prune(cutoff, time.time())
    click.echo(f"deleted {old} hourly counts from before {cutoff:%Y-%m-%d} and the last menus of "
               f"{calls} calls past their expiry")


@report.command()
@database_option
def migrate(url: str) -> None:
    """Create or upgrade the statistics tables (the app also does it when it starts)."""
    _store(url)
    click.echo("the statistics tables are up to date")
