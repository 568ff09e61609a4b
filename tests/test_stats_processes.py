"""Several app processes (gunicorn workers, hosts) counting into one PostgreSQL database, and the
migrations that prepare it."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime

import postgres
import pytest

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ivr.stats import Statistics
from ivr.stats.store import VERSION_TABLE, Store, metadata

SECRET = b"a deployment secret, 32 bytes.."
CALLS = 60

# One worker process: counts the same labels as its twin, with the writer thread flushing all the
# while. The first also sees each call's menu; the second, told to go on, sees each call end, as
# when a call's webhooks reach different workers.
WORKER = textwrap.dedent("""
    import sys
    from datetime import datetime
    from ivr.stats import *
    url, role = sys.argv[1], sys.argv[2]
    stats = Statistics.from_url(url, "America/New_York", %(secret)r, flush_seconds=0.005,
                                settle_seconds=0.2)
    stats.start()
    hours = [datetime(2026, 11, 18, h) for h in (9, 10, 11)]
    for i in range(3000):
        stats.record(CallAnswered(hour=hours[i %% 3]))
        stats.record(MenuReached("main", ("en", "es")[i %% 2], hour=hours[i %% 3]))
    calls = [stats.call_key("CA%%032d" %% i) for i in range(%(calls)d)]
    if role == "menus":
        for key in calls:
            stats.record(MenuReached("naloxone", "fr", call=key, hour=hours[0]))
        assert stats.flush()
        print("menus stored", flush=True)
    else:
        sys.stdin.readline()
        for key in calls:
            stats.record(CallEnded.after(100, call=key, hour=hours[1]))
    stats.stop()
    print("done", stats.dropped, flush=True)
""") % {"secret": SECRET, "calls": CALLS}


def rest_of_output(worker: subprocess.Popen, timeout: float = 120) -> str:
    """What a worker prints after the lines already read from it, once it has exited.

    Not `communicate(timeout=...)`: that reads the pipe itself, so it misses whatever an earlier
    `readline()` pulled into the pipe's buffer beyond the line it returned (when a worker printed
    two lines before the test read the first, the second was lost). The workers print a few lines,
    far less than a pipe holds, so waiting for the exit before reading cannot block them."""
    worker.wait(timeout)
    with worker.stdout:
        return worker.stdout.read()


def test_two_processes_counting_into_one_postgres_give_exact_totals(postgres_url):
    menus = subprocess.Popen([sys.executable, "-c", WORKER, postgres_url, "menus"],
                             stdout=subprocess.PIPE, text=True)
    ends = subprocess.Popen([sys.executable, "-c", WORKER, postgres_url, "ends"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert menus.stdout.readline().strip() == "menus stored"
    ends.stdin.write("go\n")
    ends.stdin.close()
    out = [rest_of_output(menus), rest_of_output(ends)]
    assert menus.returncode == 0 and ends.returncode == 0, out
    assert all(text.strip().endswith("done 0") for text in out), out  # nothing was dropped

    store = Store.from_url(postgres_url)
    found: dict[tuple, int] = {}
    for hour, *cell, n in store.read(datetime(2026, 11, 18), datetime(2026, 11, 19)):
        found[(hour.hour, *cell)] = n
    expected = {}
    for hour in (9, 10, 11):
        expected[(hour, "call.answered", "", "", "")] = 2000
        expected[(hour, "menu", "en", "main", "")] = 1000
        expected[(hour, "menu", "es", "main", "")] = 1000
    expected[(9, "menu", "fr", "naloxone", "")] = CALLS
    # Each call ended in the other process, at the menu the first one saw.
    expected[(10, "call.ended", "fr", "naloxone", "1-3 min")] = CALLS
    assert found == expected
    assert store.calls_in_progress() == 0


def test_the_shipped_migrations_build_exactly_the_tables_the_code_uses(database_url):
    store = Store.from_url(database_url)
    store.migrate()
    store.migrate()  # a second start finds nothing to do
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert context.get_current_revision() == "0002"
        assert compare_metadata(context, metadata) == []


def test_statistics_prepare_their_tables_on_the_first_flush(database_url):
    stats = Statistics.from_url(database_url, "UTC", SECRET)
    assert stats.flush() is True
    with stats.store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert context.get_current_revision() == "0002"


def test_without_postgresql_installed_the_fixture_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "DEBIAN_BINARIES", str(tmp_path / "*" / "bin" / "initdb"))
    with pytest.raises(RuntimeError, match="apt-get install -y postgresql"):
        postgres.PostgresServer()


def test_a_counting_line_has_its_migration_tools_before_gunicorn_forks(tmp_path):
    """Building the app (gunicorn's master, before it binds and forks) imports Alembic, so no
    worker pays that import in its first flush while it holds calls; `ivr validate`'s process,
    with statistics off, never imports it."""
    from conftest import REPO
    probe = textwrap.dedent(f"""
        import sys
        from ivr import create_app
        create_app({{"CONTENT_ROOT": {str(REPO)!r}, "TWILIO_AUTH_TOKEN": "t", "STATISTICS": sys.argv[1],
                    "DATABASE_URL": "sqlite:///{tmp_path}/s.sqlite3"}}, environ={{}})
        print("alembic.command" in sys.modules)
    """)
    imported = {on: subprocess.run([sys.executable, "-c", probe, on], capture_output=True, text=True,
                                   check=True).stdout.strip() for on in ("1", "0")}
    assert imported == {"1": "True", "0": "False"}
