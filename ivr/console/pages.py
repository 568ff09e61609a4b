"""The console's pages: the content's health, the flow diagram and each node's prompts, languages,
and statistics. Server-rendered HTML that works without JavaScript."""
from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, render_template, request, url_for

from ..hours import now_in
from ..kinds import KINDS
from ..navigator import Visit
from ..stats.report import PERIODS, write_csv
from ..transcript import recording_rows, transcript
from ..voice import holder
from . import bp, content, diagram

#: The console's pages, as the menu at the top lists them.
PAGES = (("console.health", "Health"), ("console.phone", "Phone"), ("console.flow", "Call flow"),
         ("console.languages", "Languages"), ("console.statistics", "Statistics"))
#: The longest span a report by day may cover (longer: by week or month).
MAX_DAYS_BY_DAY = 92


@bp.context_processor
def navigation() -> dict:
    return {"console_pages": PAGES, "line_name": holder().current.line.flow.name}


@bp.app_template_filter("local")
def local_time(moment) -> str:
    """A time in the line's own zone, as staff read it."""
    zone = ZoneInfo(holder().current.line.flow.time_zone)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@bp.route("/")
def health():
    found = content.health(holder())
    return render_template("console/health.html", title="Health", health=found,
                           reload_seconds=current_app.extensions["ivr.settings"].reload_seconds)


@bp.route("/flow")
def flow():
    """The flow as the files on disk say it, with what `ivr validate` finds marked on it."""
    root = holder().root
    drawn, checked = content.drawn_and_checked(root)
    picture = boxes = None
    if drawn is not None:
        laid = diagram.layout(drawn, checked.problems)
        picture = diagram.render(laid, lambda nid: url_for("console.node", node_id=nid), "The call flow")
        boxes = list(laid.boxes.values())
    return render_template("console/flow.html", title="Call flow", picture=picture, boxes=boxes, flow=drawn,
                           checked=checked, changed=content.files_changed(holder()))


@bp.route("/flow/<node_id>")
def node(node_id: str):
    """What one node says, in every language of the served line."""
    served = holder().current
    flow = served.line.flow
    found = flow.nodes.get(node_id)
    if found is None:
        return render_template("console/error.html", title="Not served", message=(
            f"The line being served has no node '{node_id}'. It may be new in the files: the line "
            "serves it once the files pass `ivr validate`.")), 404
    languages = {**flow.languages, **flow.pending_languages}
    spoken = [(language, served.navigator.arrive(found, Visit(code)).prompts()) for code, language in languages.items()]
    return render_template("console/node.html", title=f"Node {node_id}", node=found, spoken=spoken,
                           kind=KINDS[found.kind])


@bp.route("/languages")
def languages():
    states = content.languages(holder().current.line, holder().root)
    return render_template("console/languages.html", title="Languages", states=states)


@bp.route("/languages/<code>")
def language(code: str):
    served = holder().current
    line = served.line
    language = line.flow.languages.get(code) or line.flow.pending_languages.get(code)
    if language is None:
        abort(404)
    records = recording_rows(line, code) if language.audio else []
    state = content.language_state(line, holder().root, code, rows=records)
    checked = content.validate(holder().root, production=False)
    return render_template("console/language.html", title=state.language.name, state=state,
                           transcript=transcript(served.navigator, code).splitlines(),
                           problems=content.problems_of_language(checked.problems, code), records=records)


def report_range() -> tuple[date, date, str, str | None]:
    """The statistics' days and period from the query, with what is wrong with them, if anything."""
    today = now_in(holder().current.line.flow.time_zone).date()
    by = request.args.get("by", "day")
    try:
        end = date.fromisoformat(request.args.get("to") or today.isoformat())
        start = date.fromisoformat(request.args.get("from") or (end - timedelta(days=27)).isoformat())
    except ValueError:
        return today - timedelta(days=27), today, "day", "Those are not dates: use the calendar, or YYYY-MM-DD."
    if by not in PERIODS:
        return start, end, "day", f"Count by {', '.join(PERIODS)}."
    if start > end:
        return start, end, by, "The first day is after the last day."
    if by == "day" and (end - start).days >= MAX_DAYS_BY_DAY:
        return start, end, by, f"By day shows up to {MAX_DAYS_BY_DAY} days: choose week or month for longer."
    return start, end, by, None


def report_tables(start: date, end: date, by: str) -> tuple[list, str | None]:
    """The suppressed tables (ivr.stats), or why there are none."""
    stats = current_app.extensions["ivr.stats"]
    if not current_app.extensions["ivr.settings"].statistics:
        return [], "Statistics are switched off on this line (IVR_STATISTICS=0)."
    try:
        return stats.report(start, end, by), None
    except Exception:  # noqa: BLE001 - a database that is down is a message, not an error page
        current_app.logger.exception("the statistics could not be read")
        return [], "The statistics database cannot be read just now. The calls are still counted; try again later."


@bp.route("/statistics")
def statistics():
    start, end, by, wrong = report_range()
    tables, unavailable = ([], None) if wrong else report_tables(start, end, by)
    threshold = current_app.extensions["ivr.stats"].threshold
    return render_template("console/statistics.html", title="Statistics", start=start, end=end, by=by,
                           periods=list(PERIODS), wrong=wrong, unavailable=unavailable, tables=tables,
                           threshold=threshold), 400 if wrong else 200


@bp.route("/statistics.zip")
def statistics_csv():
    """Every table as a CSV file (as `ivr report --csv` writes them), in one ZIP download."""
    start, end, by, wrong = report_range()
    tables, unavailable = ([], wrong) if wrong else report_tables(start, end, by)
    if wrong or unavailable:
        return render_template("console/error.html", title="No download", message=wrong or unavailable), 400
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in write_csv(tables, Path(folder)):
            archive.write(path, path.name)
    name = f"statistics-{start}-to-{end}-by-{by}.zip"
    return Response(buffer.getvalue(), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
