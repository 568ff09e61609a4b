"""A small signed-request client that tells a refused connection from an answer dropped midway."""
from __future__ import annotations

import http.client
import socket
import ssl
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from load import CALL, signed_request

REQUESTS = (("/voice", {}), ("/voice/input/main?lang=en", {"Digits": "2"}),
            ("/voice/input/main?lang=es", {"Digits": "1"}))


@dataclass
class Tally:
    ok: int = 0
    refused: int = 0  # no connection: the server was not listening (allowed while it is stopped)
    dropped: int = 0  # connected, but no complete answer: what must never happen
    bad: int = 0  # an answer, but not 200 with TwiML
    latencies_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        self.ok += other.ok
        self.refused += other.refused
        self.dropped += other.dropped
        self.bad += other.bad
        self.latencies_ms += other.latencies_ms
        self.notes += other.notes[:3]


def connection_to(port: int, timeout: float, context: ssl.SSLContext | None) -> http.client.HTTPConnection:
    """Plain HTTP to gunicorn, or HTTPS (with `context`) to the nginx front of deploy/."""
    if context is None:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)


def one(port: int, index: int, tally: Tally, timeout: float = 10, context: ssl.SSLContext | None = None) -> None:
    path, fields = REQUESTS[index % len(REQUESTS)]
    body, signature = signed_request(port, path, {**CALL, **fields}, "https" if context else "http")
    start = time.perf_counter()
    connection = connection_to(port, timeout, context)
    try:
        connection.connect()
    except (ConnectionRefusedError, socket.timeout, OSError):
        tally.refused += 1
        return
    try:
        connection.request("POST", path, body=body, headers={
            "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        data = response.read()
        if context is not None and response.status == 502:
            tally.refused += 1  # the front could not reach gunicorn: it was not listening (stopped)
        elif response.status != 200 or ET.fromstring(data).tag != "Response":
            tally.bad += 1
            tally.notes.append(f"HTTP {response.status} on {path}")
        else:
            tally.ok += 1
            tally.latencies_ms.append((time.perf_counter() - start) * 1000)
    except (ConnectionError, http.client.HTTPException, socket.timeout, ET.ParseError, OSError) as exc:
        tally.dropped += 1
        tally.notes.append(f"{type(exc).__name__} on {path}")
    finally:
        connection.close()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
