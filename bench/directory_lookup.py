"""How long a directory lookup takes on a 10,000-service directory, then the 50,000-service import,
load and lookups of bench/directory_import.py. Run: .venv/bin/python bench/directory_lookup.py

Generates an HSDS folder (tests/hsds_fixture.py), loads it as the line would, then times the
three-nearest lookups by ZIP code and by county.
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import directory_import  # noqa: E402
from directory_import import percentiles, timed  # noqa: E402
from hsds_fixture import KINDS, write_hsds  # noqa: E402
from ivr.directory import load_directory  # noqa: E402
from ivr.directory_geo import zip_table  # noqa: E402


def main(services: int = 10_000, runs: int = 2_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_hsds(Path(tmp) / "hsds", services)
        zip_table()  # the ZIP table is read once per process; time the directory itself
        start = time.perf_counter()
        directory, problems = load_directory(folder, "ME")
        load_s = time.perf_counter() - start
    assert not problems and len(directory.places) == services
    maine_zips = [z for z, p in directory.zips.items() if p.state == "ME"]
    counties = sorted(directory.county_centres)
    rng = random.Random(7)
    print(f"directory: {services} services in {len(KINDS)} kinds, loaded and indexed in {load_s:.2f} s")
    percentiles("nearest 3 by ZIP (one kind)", timed(
        lambda: directory.near_zip(rng.choice(KINDS), rng.choice(maine_zips)), runs))
    percentiles("nearest 3 by county (one kind)", timed(
        lambda: directory.in_county(rng.choice(KINDS), rng.choice(counties)), runs))
    brute = timed(lambda: sorted(directory.places, key=lambda p: abs(p.lat - 43.66) + abs(p.lon + 70.26))[:3], 50)
    percentiles("for scale: one linear pass, all places", brute)
    print()
    directory_import.main()


if __name__ == "__main__":
    main()
