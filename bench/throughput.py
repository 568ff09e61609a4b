"""The line's webhooks against two floors, on the same gunicorn settings, from one run.

Run: .venv/bin/python bench/throughput.py [seconds]
"""
from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/postgres.py
from load import CALL, TOKEN, Figures, signed_request, wrk  # noqa: E402
from serve import REPO, SETTINGS, gunicorn  # noqa: E402

STEPS = {  # name: (path, extra form fields)
    "incoming call": ("/voice", {}),
    "keypress": ("/voice/input/main?lang=en", {"Digits": "2"}),
}
CONNECTIONS = 32


def fetch(port: int, path: str, fields: dict[str, str]) -> bytes:
    body, signature = signed_request(port, path, fields)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(),
                                     headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request) as response:
        return response.read()


#: The line is measured with its statistics on, as it runs: on its default SQLite file, and on a
#: PostgreSQL server (Debian's, started here as the tests start it).
LINES = ("line", "line+pg")


def measure(seconds: int = 5, rounds: int = 3) -> dict[str, dict[str, Figures]]:
    """Each server in turn, `rounds` times, so drift on the machine hits all of them alike;
    the round with the median throughput stands for each."""
    from postgres import PostgresServer  # tests/postgres.py: bench/run.py puts tests/ on the path

    runs: dict[str, dict[str, list[Figures]]] = {step: {n: [] for n in ("bare", "signed", *LINES)} for step in STEPS}
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
                        with gunicorn(app, server_env) as (_proc, port):
                            runs[step][name].append(wrk(port, path, {**CALL, **fields}, seconds, CONNECTIONS))
        finally:
            database.remove()
    return {step: {name: sorted(figures, key=lambda f: f.rps)[len(figures) // 2]
                   for name, figures in by_name.items()} for step, by_name in runs.items()}


def report(results: dict[str, dict[str, Figures]], rounds: int = 3) -> list[str]:
    lines = [f"gunicorn with {SETTINGS}; wrk -t2 -c{CONNECTIONS}, 127.0.0.1; "
             f"median of {rounds} rounds, servers taking turns; the line counts statistics on SQLite (line) "
             "and on PostgreSQL (line+pg)", ""]
    for step, figures in results.items():
        lines.append(f"{step}:")
        for name in ("bare", "signed", *LINES):
            lines.append(f"  {name:<7} {figures[name].row()}")
        for name in LINES:
            line = figures[name]
            lines.append(f"  {name} / bare floor   {line.rps / figures['bare'].rps:5.2f}x throughput")
            lines.append(f"  {name} / signed floor {line.rps / figures['signed'].rps:5.2f}x throughput"
                         f"   (target 0.95x or better; p99 target < 20 ms; errors target 0)")
    return lines


if __name__ == "__main__":
    print("\n".join(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5), rounds=3)))
