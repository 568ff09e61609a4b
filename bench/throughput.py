"""The line's webhooks against two floors, on the same gunicorn settings, from one run.

Run: .venv/bin/python bench/throughput.py [seconds]
"""
from __future__ import annotations

import os
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/postgres.py
from load import CALL, TOKEN, Figures, signed_request, wrk  # noqa: E402
from serve import REPO, SETTINGS, children, gunicorn  # noqa: E402

STEPS = {  # name: (path, extra form fields)
    "incoming call": ("/voice", {}),
    "keypress": ("/voice/input/main?lang=en", {"Digits": "2"}),
}
CONNECTIONS = 32
#: Seconds of traffic before each measured run: the workers are forked and have answered (and
#: counted) their first calls. A line answers calls for weeks; its start is measured elsewhere.
WARM_UP = 1


@dataclass(frozen=True)
class Measured:
    """wrk's figures, and the CPU the server's workers spent per answered request (user and
    system time from /proc), which the machine's drift disturbs far less than requests a second."""

    figures: Figures
    cpu_us: float

    def __getattr__(self, name: str):
        return getattr(self.figures, name)  # rps, p50_ms, p99_ms, requests, errors

    def row(self) -> str:
        return f"{self.figures.row()}   worker CPU {self.cpu_us:4.0f} us/request"


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def run(proc, port: int, path: str, fields: dict[str, str], seconds: int) -> Measured:
    wrk(port, path, fields, WARM_UP, CONNECTIONS)
    workers = children(proc.pid)
    before = cpu_seconds(workers)
    figures = wrk(port, path, fields, seconds, CONNECTIONS)
    spent = cpu_seconds(workers) - before
    return Measured(figures, spent / max(1, figures.requests) * 1e6)


def fetch(port: int, path: str, fields: dict[str, str]) -> bytes:
    body, signature = signed_request(port, path, fields)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(),
                                     headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request) as response:
        return response.read()


#: The line is measured with its statistics on, as it runs: on its default SQLite file, and on a
#: PostgreSQL server (Debian's, started here as the tests start it).
LINES = ("line", "line+pg")


def measure(seconds: int = 5, rounds: int = 3) -> dict[str, dict[str, Measured]]:
    """Each server in turn, `rounds` times, so drift on the machine hits all of them alike;
    the round with the median throughput stands for each."""
    from postgres import PostgresServer  # tests/postgres.py: bench/run.py puts tests/ on the path

    runs: dict[str, dict[str, list[Measured]]] = {step: {n: [] for n in ("bare", "signed", *LINES)} for step in STEPS}
    with tempfile.TemporaryDirectory() as tmp:
        database = PostgresServer(fast=False)
        database.start()
        try:
            env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO),
                   "IVR_DATABASE_URL": f"sqlite:///{Path(tmp) / 'stats.sqlite3'}"}
            envs = {"line": env, "line+pg": {**env, "IVR_DATABASE_URL": database.new_database()}}
            with gunicorn("app:app", env) as (_proc, port):
                for step, (path, fields) in STEPS.items():  # floors answer documents of the line's size
                    (Path(tmp) / f"{step}.xml").write_bytes(fetch(port, path, {**CALL, **fields}))
            for _ in range(rounds):
                for name in (*LINES, "signed", "bare"):
                    for step, (path, fields) in STEPS.items():
                        app, server_env = "app:app", envs.get(name, env)
                        if name not in LINES:
                            app = f"floors:{name}"
                            server_env = {**env, "BENCH_FLOOR_BODY": str(Path(tmp) / f"{step}.xml"),
                                          "PYTHONPATH": str(REPO / "bench")}
                        with gunicorn(app, server_env) as (proc, port):
                            runs[step][name].append(run(proc, port, path, {**CALL, **fields}, seconds))
        finally:
            database.remove()
    return {step: {name: sorted(figures, key=lambda f: f.rps)[len(figures) // 2]
                   for name, figures in by_name.items()} for step, by_name in runs.items()}


def report(results: dict[str, dict[str, Measured]], rounds: int = 3) -> list[str]:
    lines = [f"gunicorn with {SETTINGS}; wrk -t2 -c{CONNECTIONS}, 127.0.0.1; "
             f"median of {rounds} rounds, servers taking turns, each warmed for {WARM_UP} s first; "
             "the line counts statistics on SQLite (line) and on PostgreSQL (line+pg)", ""]
    for step, figures in results.items():
        lines.append(f"{step}:")
        for name in ("bare", "signed", *LINES):
            lines.append(f"  {name:<7} {figures[name].row()}")
        for name in LINES:
            line = figures[name]
            lines.append(f"  {name} / bare floor   {line.rps / figures['bare'].rps:5.2f}x throughput")
            lines.append(f"  {name} / signed floor {line.rps / figures['signed'].rps:5.2f}x throughput"
                         f"   (target 0.95x or better; p99 target < 20 ms; errors target 0)")
            lines.append(f"  {name} / signed floor {figures['signed'].cpu_us / line.cpu_us:5.2f}x by worker CPU per request")
    return lines


if __name__ == "__main__":
    print("\n".join(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5), rounds=3)))
