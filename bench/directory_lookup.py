"""How long a directory lookup takes on a 10,000-service directory. Run: .venv/bin/python bench/directory_lookup.py

Generates an HSDS folder (tests/hsds_fixture.py), loads it as the line would, then times the
three-nearest lookups by ZIP code and by county, and the full results step as TwiML.
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hsds_fixture import KINDS, write_hsds  # noqa: E402
from ivr.directory import _zip_table, load_directory  # noqa: E402


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def report(name: str, micros: list[float]) -> None:
    micros = sorted(micros)
    p99 = micros[int(len(micros) * 0.99) - 1]
    print(f"{name:<38} median {statistics.median(micros):8.1f} us   p99 {p99:8.1f} us   max {micros[-1]:8.1f} us")


def main(services: int = 10_000, runs: int = 2_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_hsds(Path(tmp) / "hsds", services)
        _zip_table()  # the ZIP table is read once per process; time the directory itself
        start = time.perf_counter()
        directory, problems = load_directory(folder, "ME")
        load_s = time.perf_counter() - start
    assert not problems and len(directory.places) == services
    maine_zips = [z for z, p in directory.zips.items() if p.state == "ME"]
    counties = sorted(directory.county_centres)
    rng = random.Random(7)
    print(f"directory: {services} services in {len(KINDS)} kinds, loaded and indexed in {load_s:.2f} s")
    report("nearest 3 by ZIP (one kind)", timed(
        lambda: directory.near_zip(rng.choice(KINDS), rng.choice(maine_zips)), runs))
    report("nearest 3 by county (one kind)", timed(
        lambda: directory.in_county(rng.choice(KINDS), rng.choice(counties)), runs))
    kind = KINDS[0]
    zip_code = "04101"
    brute = timed(lambda: sorted(directory.places, key=lambda p: abs(p.lat - 43.66) + abs(p.lon + 70.26))[:3], 50)
    report("for scale: one linear pass, all places", brute)
    assert [p.id for p, _ in directory.near_zip(kind, zip_code)]


if __name__ == "__main__":
    main()
