"""Calls walked through the real webhooks are counted: what callers need, never who they are."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy

from conftest import REPO, TOKEN, Call
from ivr import create_app
from ivr.simulate import signed_post

CALLS = 6  # enough calls that each count is shown (the threshold is 5)
CALLER, ZIP_TYPED = "+12075550187", "04330"


class Sms:
    def send(self, to, from_, body):
        pass


def one_call(app, number: int) -> None:
    """Spanish; a naloxone search by ZIP code with the list texted; 2-1-1, busy; the call ends."""
    call = Call(app.test_client())
    call.params.caller, call.params.call_sid = CALLER, f"CA{number:032d}"
    call.choose_language("2")
    call.press("#")  # a wrong key
    call.press("8")
    call.press("1")
    call.press(ZIP_TYPED)  # Augusta: Kennebec County
    call.press("1")  # the list by text
    call.follow()
    call.press("6")  # 2-1-1 Maine
    call.dial_ends("busy")
    assert signed_post(call.client, TOKEN, "/voice/call-status",
                       {**call.params.fields(), "CallStatus": "completed", "CallDuration": "200"}).status_code == 204


@pytest.fixture
def counted(database_url):
    app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": Sms(),
                      "LINE_NUMBER": "+12075550123", "DATABASE_URL": database_url, "STATS_THRESHOLD": "5"})
    stats = app.extensions["ivr.stats"]
    stats.start()
    try:
        for number in range(CALLS):
            one_call(app, number)
    finally:
        stats.stop()
    return stats, database_url


def rows(tables, title: str) -> dict[str, tuple[str, ...]]:
    """A report table's rows by their first cell, with its column names under the key 'columns'."""
    found = next(t for t in tables if t.title.startswith(title))
    return {"columns": found.columns, **{row[0]: row[1:] for row in found.rows}}


def test_a_walked_call_is_counted_in_every_table(counted):
    stats, _url = counted
    tables = stats.report(date(2026, 11, 1), date(2026, 11, 30), by="month")
    six = str(CALLS)
    assert rows(tables, "Calls answered")["2026-11"] == (six,)
    assert rows(tables, "Languages chosen") == {"columns": ("Month", "es"), "2026-11": (six,)}
    assert rows(tables, "Menus reached")["find_naloxone"][0] == six
    assert rows(tables, "Wrong keys and silence")["main"] == (six,)
    assert rows(tables, "Where calls ended") == {"columns": ("Last menu", "3-10 min"), "goodbye": (six,)}
    assert rows(tables, "Transfers by destination") == {"columns": ("Destination", "busy", "Connect rate"),
                                                       "maine_211": (six, "0%")}
    assert rows(tables, "Transfers tried")["find_services → maine_211"] == (six,)
    assert rows(tables, "Directory searches") == {"columns": ("County", "find_naloxone"), "Kennebec": (six,)}
    assert rows(tables, "Texts") == {"columns": ("Month", "offered", "sent"), "2026-11": (six, six)}


def test_no_number_zip_code_or_call_id_is_stored(counted):
    """Every row of every table of the statistics database, read back: no caller data."""
    _stats, url = counted
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    tables = sqlalchemy.MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        stored = " ".join(str(row) for table in tables.sorted_tables
                          for row in connection.execute(table.select()))
    engine.dispose()
    assert "Kennebec" in stored and "find_naloxone" in stored  # the counts are there...
    for needle in (CALLER, CALLER.lstrip("+"), "5550187", ZIP_TYPED, "CA0000000000"):
        assert needle not in stored, needle  # ...and nothing about the callers


def test_calls_never_wait_for_a_database_that_is_down():
    app = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "SMS_SENDER": Sms(),
                      "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere"})
    stats = app.extensions["ivr.stats"]
    stats.start()
    try:
        one_call(app, 1)  # every answer 200 with TwiML (Call checks), whatever the database does
    finally:
        stats.stop(timeout=2)
