"""A real PostgreSQL server for the tests, from Debian's `postgresql` package: initdb into a temporary
folder, listening only on a unix socket in that folder (on a free port number), started once per
test session. As root, the server runs as the `postgres` system user (PostgreSQL refuses root).

Loaded by `pytest_plugins` in conftest.py. `make test` installs the package when it is missing;
without it, tests that need PostgreSQL fail with a message saying so (they never skip silently).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin/initdb"  # Debian keeps them off PATH, by version
INSTALL_HINT = ("install Debian's PostgreSQL server (`apt-get install -y postgresql`; `make test` "
                "does it when run as root)")


def server_binaries() -> Path:
    """The folder holding initdb and pg_ctl: on PATH, or where Debian puts them (newest version)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = [Path(p).parent for p in glob.glob(DEBIAN_BINARIES)]
    if not versions:
        raise RuntimeError(f"PostgreSQL's initdb was not found: {INSTALL_HINT}")
    return max(versions, key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One throwaway server. `fast` turns off durability (fsync) for the test suite only."""

    def __init__(self, fast: bool = True):
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = free_port()
        self.user = "postgres"
        self.as_root = os.geteuid() == 0
        self.fast = fast
        self.running = False
        if self.as_root:  # PostgreSQL refuses to run as root
            try:
                account = pwd.getpwnam("postgres")  # created by Debian's package
            except KeyError:
                raise RuntimeError(f"as root, the server runs as the 'postgres' system user, "
                                   f"which does not exist: {INSTALL_HINT}") from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                  "--no-sync")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr}{result.stdout}\n{log}")
        return result

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=''"
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server. "fast" ends every session (open transactions roll back) and shuts down
        cleanly; "immediate" kills every server process at once, as a crash would (the next start
        recovers from the write-ahead log)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.root}&port={self.port}"

    def sql(self, statement: str) -> list[tuple]:
        """Run one statement as the superuser, outside any transaction; its rows, if any."""
        import psycopg

        with psycopg.connect(host=str(self.root), port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def new_database(self, synchronous_commit: bool = False) -> str:
        """A fresh, empty database on this server; its URL. With `synchronous_commit`, a commit
        there is confirmed only once written to the log, as on a production server (the test
        server's default is not to wait), which `hold_commits` needs."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.sql(f'CREATE DATABASE "{name}"')
        if synchronous_commit:
            self.sql(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
        return self.url(name)

    def hold_commits(self) -> None:
        """From now on, each commit in a `synchronous_commit` database waits, once it is written,
        for a synchronous standby server that never comes. Stopping the server then ends a session
        whose transaction committed but whose client is never told: the client cannot know the
        outcome, just as when a connection drops during a commit. `release_commits` undoes it."""
        self.sql("ALTER SYSTEM SET synchronous_standby_names = 'ivr_test_no_such_standby'")
        self.sql("SELECT pg_reload_conf()")

    def release_commits(self) -> None:
        """Commits are confirmed again, including those held now."""
        self.sql("ALTER SYSTEM RESET synchronous_standby_names")
        self.sql("SELECT pg_reload_conf()")

    def held_commits(self) -> int:
        """How many sessions are waiting in a held commit."""
        return self.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")[0][0]

    def remove(self) -> None:
        try:
            self.stop()
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """The session's PostgreSQL server; fails (not skips) with the reason when it cannot start."""
    try:
        server = PostgresServer()
        server.start()
    except Exception as exc:  # noqa: BLE001 - any reason becomes the tests' failure message
        pytest.fail(f"cannot start a PostgreSQL server for the statistics tests: {exc}", pytrace=False)
    yield server
    server.remove()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh database on the session's server, for one test."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """Each statistics test that takes this runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'stats.sqlite3'}"
    return request.getfixturevalue("postgres_url")
