"""What a refused request costs a worker: a missing, malformed or wrong signature, or a body over
the cap, at any size. Measured in-process on the app (the worker's own time, no network).

Run: .venv/bin/python bench/refusals.py
"""
from __future__ import annotations

import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ivr import create_app  # noqa: E402
from streams import CountingStream  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
WELL_FORMED = "A" * 27 + "="  # the form of a real signature, so the app must read the body to refuse it




def cost(client, signature: str, size: int, chunked: bool, rounds: int = 200) -> tuple[float, int]:
    """The median microseconds of one refusal, and its status."""
    times, status = [], 0
    for _ in range(rounds):
        headers = {"X-Twilio-Signature": signature}
        extra = {"environ_overrides": {"wsgi.input_terminated": True}} if chunked else {}
        if not chunked:
            headers["Content-Length"] = str(size)
        started = time.perf_counter()
        response = client.post("/voice/input/main?lang=en", input_stream=CountingStream(size), headers=headers,
                               content_type="application/x-www-form-urlencoded", **extra)
        times.append(time.perf_counter() - started)
        status = response.status_code
    return statistics.median(times) * 1e6, status


def main() -> None:
    logging.disable(logging.WARNING)  # the refusals are logged once a minute; not this bench's matter
    client = create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": "bench", "STATISTICS": "0"},
                        environ={}).test_client()
    print("refusing a request before the handler (median of 200, in-process, the worker's own time):")
    for signature, name in (("", "no signature"), ("junk", "malformed signature"), (WELL_FORMED, "wrong signature")):
        for size, chunked in ((1_000, False), (16_000, False), (1_000_000, False), (300_000_000, False),
                              (300_000_000, True)):
            micros, status = cost(client, signature, size, chunked, rounds=50 if size > 100_000 else 200)
            shown = f"{size / 1e6:g} MB" if size >= 1_000_000 else f"{size / 1e3:g} kB"
            print(f"  {name:<20} body {shown:>7}{' chunked' if chunked else '        '}  {micros:8.0f} µs  HTTP {status}")


if __name__ == "__main__":
    main()
