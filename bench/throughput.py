"""The line's webhooks against two floors, on the same gunicorn settings, from one run.

Run: .venv/bin/python bench/throughput.py [seconds]
"""
from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

from load import CALL, TOKEN, Figures, signed_request, wrk
from serve import REPO, SETTINGS, gunicorn

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


def measure(seconds: int = 5, rounds: int = 3) -> dict[str, dict[str, Figures]]:
    """Each server in turn, `rounds` times, so drift on the machine hits all of them alike;
    the round with the median throughput stands for each."""
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO)}
    runs: dict[str, dict[str, list[Figures]]] = {step: {"bare": [], "signed": [], "line": []} for step in STEPS}
    with tempfile.TemporaryDirectory() as tmp:
        with gunicorn("app:app", env) as (_proc, port):
            for step, (path, fields) in STEPS.items():  # floors answer documents of the line's size
                (Path(tmp) / f"{step}.xml").write_bytes(fetch(port, path, {**CALL, **fields}))
        for _ in range(rounds):
            for name in ("line", "signed", "bare"):
                for step, (path, fields) in STEPS.items():
                    app, server_env = "app:app", env
                    if name != "line":
                        app = f"floors:{name}"
                        server_env = {**env, "BENCH_FLOOR_BODY": str(Path(tmp) / f"{step}.xml"),
                                      "PYTHONPATH": str(REPO / "bench")}
                    with gunicorn(app, server_env) as (_proc, port):
                        runs[step][name].append(wrk(port, path, {**CALL, **fields}, seconds, CONNECTIONS))
    return {step: {name: sorted(figures, key=lambda f: f.rps)[len(figures) // 2]
                   for name, figures in by_name.items()} for step, by_name in runs.items()}


def report(results: dict[str, dict[str, Figures]]) -> list[str]:
    lines = [f"gunicorn with {SETTINGS}; wrk -t2 -c{CONNECTIONS}, 127.0.0.1; "
             "median of 3 rounds, servers taking turns", ""]
    for step, figures in results.items():
        line = figures["line"]
        lines.append(f"{step}:")
        for name in ("bare", "signed", "line"):
            lines.append(f"  {name:<7} {figures[name].row()}")
        lines.append(f"  line / bare floor   {line.rps / figures['bare'].rps:5.2f}x throughput")
        lines.append(f"  line / signed floor {line.rps / figures['signed'].rps:5.2f}x throughput"
                     f"   (target 0.95x or better; p99 target < 20 ms; errors target 0)")
    return lines


if __name__ == "__main__":
    print("\n".join(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5))))
