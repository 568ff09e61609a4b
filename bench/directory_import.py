"""A 2-1-1-sized directory: import, load and look up 50,000 services.
Run: .venv/bin/python bench/directory_import.py [services]

Generates an HSDS 3.0 export (tests/hsds_fixture.py), imports it into a copy of the built-in line
the way `ivr directory import` does (read, check with the whole line, swap in), loads the result
as a starting line would, then times the three nearest places by ZIP code. Targets: import under
10 s, load under 3 s, nearest three under 1 ms at p99. Figures only: no assertion here or in tests.
"""
from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from hsds_fixture import KINDS, plain_export  # noqa: E402
from ivr import directory as directory_module  # noqa: E402
from ivr.directory import read_directory  # noqa: E402
from ivr.directory_geo import zip_table  # noqa: E402
from ivr.directory_import import Options, import_directory  # noqa: E402


def clocked(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def timed(fn, runs: int) -> list[float]:
    """Microseconds of each of `runs` calls of `fn`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def percentiles(name: str, micros: list[float]) -> None:
    micros = sorted(micros)
    p99 = micros[int(len(micros) * 0.99) - 1]
    print(f"{name:<44} median {statistics.median(micros):7.1f} us   p99 {p99:7.1f} us   max {micros[-1]:8.1f} us")


def main(services: int = 50_000, runs: int = 5_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "line"
        for folder in ("menus", "locales", "directory"):
            shutil.copytree(REPO / folder, root / folder)
        export = Path(tmp) / "export"
        _, wall, _ = clocked(lambda: plain_export(services).write(export))
        size = sum(p.stat().st_size for p in export.iterdir()) / 1e6
        print(f"export: {services:,} services, {size:.0f} MB of CSV in 9 files (generated in {wall:.1f} s)")
        zip_table()  # read once per process, like the line's
        outcome, wall, cpu = clocked(lambda: import_directory(root, export, Options()))
        assert outcome.ok, outcome.summary
        print(f"{'import (read, check with the whole line, swap)':<44} {wall:6.2f} s wall  {cpu:6.2f} s cpu")
        command = [str(Path(sys.executable).parent / "ivr"), "directory", "import", str(export), "--root", str(root)]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=REPO)
        print(f"{'`ivr directory import` command, end to end':<44} {time.perf_counter() - start:6.2f} s wall")
        directory_module._LAST.clear()  # a starting line has read nothing yet
        loaded, wall, cpu = clocked(lambda: read_directory(root / "directory", "ME"))
        print(f"{'load (ZIP table already read)':<44} {wall:6.2f} s wall  {cpu:6.2f} s cpu")
        code = "from ivr.directory import read_directory; read_directory('directory', 'ME')"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
        print(f"{'load in a new process (ZIP table included)':<44} {time.perf_counter() - start:6.2f} s wall")
    directory = loaded.directory
    maine = [z for z, p in directory.zips.items() if p.state == "ME"]
    rng = random.Random(7)

    print(f"directory: {len(directory.places):,} places, {len(KINDS)} kinds of {len(directory.places) // len(KINDS):,}")
    percentiles("nearest 3 by ZIP, one code", timed(lambda: directory.near_zip(rng.choice(KINDS), rng.choice(maine)),
                                                     runs))
    percentiles("nearest 3 by ZIP, three codes", timed(
        lambda: directory.near_zip(rng.sample(KINDS, 3), rng.choice(maine)), runs))
    counties = sorted(directory.county_centres)
    percentiles("nearest 3 by county, one code", timed(
        lambda: directory.in_county(rng.choice(KINDS), rng.choice(counties)), runs))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
