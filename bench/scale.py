"""Cost against the size of the content: generated lines of 100, 1,000 and 10,000 nodes in 6
languages. For each: load-and-validate time and peak memory in a fresh process, and a signed
keypress served by gunicorn. Run: .venv/bin/python bench/scale.py
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from genflow import generate
from load import CALL, TOKEN, wrk
from serve import REPO, gunicorn

SIZES = (100, 1_000, 10_000)
PROBE = """
import json, resource, sys, time
start = time.perf_counter()
from ivr.flow import check
line, problems = check(sys.argv[1])
took = time.perf_counter() - start
assert line is not None, [str(p) for p in problems][:5]
print(json.dumps({"seconds": took, "nodes": len(line.flow.nodes), "languages": len(line.flow.languages),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def load_figures(root: Path) -> dict:
    """Load in a fresh process, twice: the first compiles the catalogs' cache, as a first start does."""
    runs = [json.loads(subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True,
                                      text=True, check=True, cwd=REPO).stdout) for _ in range(2)]
    return {"first": runs[0], "again": runs[1]}


def measure(seconds: int = 5) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            root = generate(Path(tmp) / str(size), size)
            figures = load_figures(root)
            env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(root)}
            with gunicorn("app:app", env) as (_proc, port):
                served = wrk(port, "/voice/input/n0?lang=es", {**CALL, "Digits": "1"}, seconds)
            rows.append({"size": size, **figures, "served": served})
    return rows


def report(rows: list[dict]) -> list[str]:
    lines = ["nodes    langs   load+validate (first / cached)   peak RSS      keypress served"]
    for row in rows:
        first, again, served = row["first"], row["again"], row["served"]
        lines.append(f"{first['nodes']:>6}   {first['languages']:>5}   {first['seconds']:6.2f} s / {again['seconds']:5.2f} s"
                     f"          {again['rss_mb']:6.0f} MB   {served.row()}")
    lines.append("targets: 10,000 nodes x 6 languages load in under 2 s and under 200 MB; "
                 "per-request cost flat across sizes")
    return lines


if __name__ == "__main__":
    print("\n".join(report(measure())))
