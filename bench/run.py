"""Every benchmark and fault check in one run; prints the figures and writes bench/RESULTS.md.

Run: make bench   (or .venv/bin/python bench/run.py [--quick])
Never part of the test suite: these take minutes and measure this machine.
"""
from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import directory_lookup  # noqa: E402
import faults  # noqa: E402
import refusals  # noqa: E402
import scale  # noqa: E402
import soak  # noqa: E402
import throughput  # noqa: E402


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; {wrk.strip() or 'wrk'}")


def section(title: str, body: str) -> str:
    print(f"\n== {title}\n{body}", flush=True)
    return f"## {title}\n\n```\n{body}\n```\n"


def captured(fn, *args) -> tuple[str, object]:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        result = fn(*args)
    return buffer.getvalue().rstrip(), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter runs, for trying the harness")
    args = parser.parse_args()
    seconds, soak_seconds = (2, 10) if args.quick else (5, 60)
    today = datetime.date.today().isoformat()
    parts = [f"# Benchmark results\n\n{today}, on {machine()}.\nCommand: `make bench` "
             f"(`.venv/bin/python bench/run.py{' --quick' if args.quick else ''}`). "
             "Every figure below comes from that one run.\n"]
    failures = []

    turn, rounds = (1, 2) if args.quick else (1, 30)  # the machine drifts: many short paired turns
    results = throughput.measure(turn, rounds=rounds)
    parts.append(section("Webhook throughput against the floors", "\n".join(throughput.report(results, turn))))
    failures += throughput.misses(results)

    rows = scale.measure(seconds)
    parts.append(section("Scale with content", "\n".join(scale.report(rows))))
    big = rows[-1]
    notes = []
    if big["again"]["seconds"] >= 2 or big["again"]["rss_mb"] >= 200:
        failures.append(f"10,000 nodes load in {big['again']['seconds']:.2f} s, {big['again']['rss_mb']:.0f} MB")
    if big["first"]["seconds"] >= 2:
        notes.append(f"the first load after the catalogs change takes {big['first']['seconds']:.2f} s at "
                     "10,000 nodes (babel parses each .po once and caches it compiled); `ivr validate`, "
                     "which `make run` runs before starting, pays it")

    text, _ = captured(refusals.main)
    parts.append(section("Refusals: what a forged or oversized request costs a worker", text))

    text, _ = captured(directory_lookup.main)
    parts.append(section("Directory lookup (10,000 services)", text))

    sys.argv = ["soak", "--seconds", str(soak_seconds), "--rate", "200"]
    text, code = captured(soak.main)
    parts.append(section(f"Soak: {soak_seconds} s at 200 requests a second", text))
    if code:
        failures.append("soak")

    for check, run_check in faults.CHECKS.items():
        text, ok = captured(run_check, False)
        broken, broken_ok = captured(run_check, True)
        shown = "caught it: FAIL, as it should" if not broken_ok else "did not catch it this time"
        parts.append(section(f"Fault: {check}", f"{text}\n\nthe same check on a broken setup "
                             f"(--demonstrate-failure): {shown}\n{broken}"))
        if not ok:
            failures.append(f"fault check {check}")

    summary = "All targets met." if not failures else "Targets missed: " + "; ".join(failures) + "."
    if notes:
        summary += "\nNote: " + "; ".join(notes) + "."
    parts.append(section("Summary", summary))
    (HERE / "RESULTS.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"\nwrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
