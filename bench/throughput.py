"""The line's webhooks against two floors, on the same gunicorn settings, from one run.

Run: .venv/bin/python bench/throughput.py [seconds per turn] [rounds]   (default: 1 s, 30 rounds)

This machine's speed drifts by 10% or more from one run to the next (other tenants share its
cores). So for each step the four servers are started once, warmed, and then measured in
rounds: in each round every server has one turn of `seconds`, in a shuffled order (so that no
server always follows the same one, whose last requests and writes may still be settling). The line is compared with the floor measured in the same round, seconds
apart: the ratio reported is the median of those paired ratios, with the middle half of them
beside it to show the spread. A second copy of the signed floor shows how far apart two
identical servers measure: differences smaller than that are this machine's noise.
"""
from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
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
#: Seconds of traffic before a server's first turn: its workers are forked and have answered
#: (and counted) their first calls. A line answers calls for weeks; its start is measured elsewhere.
WARM_UP = 1
#: Seconds between two turns: the last server's closed connections and last writes settle.
SETTLE = 0.2
#: The shuffles of the turns' order: fixed, so that two runs take turns alike.
ORDER_SEED = 13
#: The line is measured with its statistics on, as it runs: on its default SQLite file, and on a
#: PostgreSQL server (Debian's, started here as the tests start it).
LINES = ("line", "line+pg")
#: A second copy of the signed floor, measured like the others: what it scores against the first
#: is the bench's own noise, the smallest difference a run can tell apart.
CONTROL = "signed'"
SERVERS = ("bare", "signed", CONTROL, *LINES)
FLOORS = {"bare": "floors:bare", "signed": "floors:signed", CONTROL: "floors:signed"}  # bench/floors.py
TARGET = 0.95


@dataclass(frozen=True)
class Measured:
    """One turn: wrk's figures, and the CPU seconds spent meanwhile, from /proc (user and system
    time, in 10 ms ticks): by the server's workers in all, by their threads other than the request
    thread (the statistics writer), and by the database server."""

    figures: Figures
    cpu_s: float
    background_s: float = 0.0
    database_s: float = 0.0

    def __getattr__(self, name: str):
        return getattr(self.figures, name)  # rps, p50_ms, p99_ms, requests, errors

    @property
    def cpu_us(self) -> float:
        """Worker CPU per answered request: the machine's drift disturbs it less than requests a second."""
        return self.cpu_s / max(1, self.figures.requests) * 1e6


def per_request(turns: list[Measured], seconds: str) -> float:
    """CPU per request over all the turns (one turn's few ticks are too coarse), in microseconds."""
    return sum(getattr(m, seconds) for m in turns) / max(1, sum(m.requests for m in turns)) * 1e6


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """CPU time of these processes: in all, and in threads other than each one's main thread."""
    total = background = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:  # a process that ended meanwhile (a database connection closed)
            continue
        for task in tasks:
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a thread that ended meanwhile
                continue
            ticks = int(fields[11]) + int(fields[12])  # utime, stime
            total += ticks
            if task.name != str(pid):
                background += ticks
    tick = os.sysconf("SC_CLK_TCK")
    return total / tick, background / tick


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (the bench's own server is the only one running)."""
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def run(proc, port: int, path: str, fields: dict[str, str], seconds: int, database: bool = False) -> Measured:
    workers = children(proc.pid)
    server = postgres_pids() if database else []
    before, before_db = cpu_seconds(workers), cpu_seconds(server)[0]
    figures = wrk(port, path, fields, seconds, CONNECTIONS)
    after, after_db = cpu_seconds(workers), cpu_seconds(server)[0]
    return Measured(figures, after[0] - before[0], after[1] - before[1], after_db - before_db)


def fetch(port: int, path: str, fields: dict[str, str]) -> bytes:
    body, signature = signed_request(port, path, fields)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(),
                                     headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request) as response:
        return response.read()


@dataclass(frozen=True)
class StepResult:
    """Every turn of every server at one step, in round order."""

    turns: dict[str, list[Measured]]

    def typical(self, name: str) -> Measured:
        """The turn with the median throughput."""
        turns = sorted(self.turns[name], key=lambda m: m.rps)
        return turns[len(turns) // 2]

    def paired(self, name: str, by_cpu: bool = False, floor: str = "signed") -> list[float]:
        """A server against a floor measured in the same round, round by round."""
        return [(low.cpu_us / server.cpu_us) if by_cpu else (server.rps / low.rps)
                for server, low in zip(self.turns[name], self.turns[floor])]

    def ratio(self, name: str, by_cpu: bool = False, floor: str = "signed") -> float:
        """The median of the paired ratios."""
        return statistics.median(self.paired(name, by_cpu, floor))


def spread(values: list[float]) -> str:
    if len(values) < 4:
        return f"{min(values):.2f}-{max(values):.2f} over {len(values)} rounds"
    low, _, high = statistics.quantiles(values, n=4)
    return f"middle half {low:.2f}-{high:.2f} of {len(values)} rounds"


def measure(seconds: int = 1, rounds: int = 30) -> dict[str, StepResult]:
    from postgres import PostgresServer  # tests/postgres.py: bench/run.py puts tests/ on the path

    results = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as database_stack:
        database = PostgresServer(fast=False)
        database.start()
        database_stack.callback(database.remove)
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO),
               "IVR_DATABASE_URL": f"sqlite:///{Path(tmp) / 'stats.sqlite3'}"}
        envs = {"line": env, "line+pg": {**env, "IVR_DATABASE_URL": database.new_database()}}
        for step, (path, fields) in STEPS.items():
            fields = {**CALL, **fields}
            body = Path(tmp) / f"{step}.xml"
            with gunicorn("app:app", env) as (_proc, port):  # the floors answer the line's document
                body.write_bytes(fetch(port, path, fields))
            turns: dict[str, list[Measured]] = {name: [] for name in SERVERS}
            with ExitStack() as servers:
                running = {}
                for name in SERVERS:
                    app, server_env = "app:app", envs.get(name, env)
                    if name in FLOORS:
                        app = FLOORS[name]
                        server_env = {**env, "BENCH_FLOOR_BODY": str(body), "PYTHONPATH": str(REPO / "bench")}
                    running[name] = servers.enter_context(gunicorn(app, server_env))
                    wrk(running[name][1], path, fields, WARM_UP, CONNECTIONS)
                shuffles = random.Random(ORDER_SEED)
                for _ in range(rounds):
                    for name in shuffles.sample(SERVERS, len(SERVERS)):
                        time.sleep(SETTLE)
                        proc, port = running[name]
                        turns[name].append(run(proc, port, path, fields, seconds, database=name == "line+pg"))
            results[step] = StepResult(turns)
    return results


def report(results: dict[str, StepResult], seconds: int = 1) -> list[str]:
    rounds = len(next(iter(results.values())).turns["signed"])
    lines = [f"gunicorn with {SETTINGS}; wrk -t2 -c{CONNECTIONS}, 127.0.0.1; the {len(SERVERS)} servers of a step "
             f"run side by side, each warmed for {WARM_UP} s, then take turns of {seconds} s for "
             f"{rounds} rounds (order shuffled); each server's row is its median round; the line "
             "counts statistics on SQLite (line) and on PostgreSQL (line+pg); ratios are the median "
             "of the rounds' paired ratios", ""]
    for step, result in results.items():
        lines.append(f"{step}:")
        for name in SERVERS:
            typical = result.typical(name)
            lines.append(f"  {name:<8} {typical.figures.row()}   worker CPU {typical.cpu_us:4.0f} us/request")
        for name in LINES:
            turns = result.turns[name]
            where = (f", PostgreSQL server {per_request(turns, 'database_s'):.1f} us" if name == "line+pg"
                     else " (SQLite's work included)")
            lines.append(f"  {name:<8} CPU per request over all rounds in the statistics writer thread "
                         f"{per_request(turns, 'background_s'):.1f} us{where}")
        lines.append(f"  {CONTROL} / signed floor {result.ratio(CONTROL):5.2f}x throughput "
                     f"({spread(result.paired(CONTROL))}): the same floor twice, this run's own noise")
        for name in LINES:
            lines.append(f"  {name} / bare floor   {result.ratio(name, floor='bare'):5.2f}x throughput")
            lines.append(f"  {name} / signed floor {result.ratio(name):5.2f}x throughput "
                         f"({spread(result.paired(name))})   target {TARGET}x or better; p99 target < 20 ms; errors 0")
            lines.append(f"  {name} / signed floor {result.ratio(name, by_cpu=True):5.2f}x by worker CPU per request "
                         f"({spread(result.paired(name, by_cpu=True))})")
    return lines


def misses(results: dict[str, StepResult]) -> list[str]:
    """The targets a run missed, in words (bench/run.py's summary)."""
    missed = []
    for step, result in results.items():
        for name in LINES:
            line, ratio = result.typical(name), result.ratio(name)
            errors = sum(m.errors for m in result.turns[name])
            if ratio < TARGET or line.p99_ms >= 20 or errors:
                missed.append(f"{step} ({name}): {ratio:.2f}x of the signed floor, "
                              f"p99 {line.p99_ms:.1f} ms, {errors} errors")
    return missed


if __name__ == "__main__":
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    found = measure(seconds, int(sys.argv[2]) if len(sys.argv) > 2 else 30)
    print("\n".join(report(found, seconds)))
