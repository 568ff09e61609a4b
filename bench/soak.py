"""60 seconds at a fixed rate against gunicorn: no errors, memory steady. Exits 1 if not.

Run: .venv/bin/python bench/soak.py [--seconds 60] [--rate 200]
"""
from __future__ import annotations

import argparse
import threading
import time

from client import Tally, one, percentile
from load import TOKEN
from serve import REPO, gunicorn, rss_mb


def soak(seconds: float, rate: float, threads: int = 16) -> tuple[Tally, list[tuple[float, float]]]:
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO)}
    tallies = [Tally() for _ in range(threads)]
    memory: list[tuple[float, float]] = []
    with gunicorn("app:app", env) as (proc, port):
        start = time.monotonic()
        stop = start + seconds
        ticket = iter(range(10**9))
        lock = threading.Lock()

        def worker(tally: Tally) -> None:
            while True:
                with lock:
                    n = next(ticket)
                due = start + n / rate  # a fixed schedule: the rate does not bend to the server
                if due >= stop:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                one(port, n, tally)

        workers = [threading.Thread(target=worker, args=(t,)) for t in tallies]
        for w in workers:
            w.start()
        while time.monotonic() < stop:
            memory.append((time.monotonic() - start, rss_mb(proc.pid)))
            time.sleep(5)
        for w in workers:
            w.join()
        memory.append((time.monotonic() - start, rss_mb(proc.pid)))
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total, memory


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=200)
    args = parser.parse_args()
    total, memory = soak(args.seconds, args.rate)
    sent = total.ok + total.refused + total.dropped + total.bad
    settled = [mb for t, mb in memory if t >= 10] or [memory[-1][1]]
    growth = (settled[-1] - settled[0]) / settled[0]
    print(f"soak: {args.seconds:.0f} s at {args.rate:.0f} req/s: {sent} requests, {total.ok} ok, "
          f"{total.refused} refused, {total.dropped} dropped, {total.bad} bad; "
          f"p50 {percentile(total.latencies_ms, .5):.1f} ms, p99 {percentile(total.latencies_ms, .99):.1f} ms")
    print("memory (gunicorn master + workers): " + ", ".join(f"{t:.0f}s {mb:.0f} MB" for t, mb in memory)
          + f"; growth after warm-up {growth:+.1%}")
    failed = total.refused or total.dropped or total.bad or growth > 0.10 or sent < 0.95 * args.seconds * args.rate
    print("soak: " + ("FAIL" if failed else "PASS") + (f" ({'; '.join(total.notes[:3])})" if total.notes else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
