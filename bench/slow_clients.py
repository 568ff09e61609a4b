"""Slow clients and large bodies against the line, with and without nginx in front (issue 10).

50 connections send a request one header line every 5 seconds and never finish it; 2 senders
send bodies slowly (15 KiB, just under the limit, at 1 KiB a second) or hugely (1 MiB as fast as
it goes). Meanwhile signed calls are placed every 0.2 s, and their answer times measured.

Gunicorn's two sync workers each serve one connection at a time, so behind no proxy a few slow
clients hold them all. nginx (deploy/nginx.conf) holds the slow connections itself, cuts off
headers and bodies that stall (5 s) or are too big (16 KiB), and hands gunicorn whole requests.
"""
from __future__ import annotations

import socket
import ssl
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from client import REQUESTS, percentile
from front import nginx
from load import TOKEN
from serve import REPO, gunicorn

from ivr.golive.check import CheckFailed, LiveLine

SLOW_CLIENTS = 50
HEADER_EVERY = 5.0  # seconds between two header lines of a slow client
CALL_EVERY = 0.2  # seconds between two signed calls
CALL_TIMEOUT = 10.0  # a call not answered by then has failed (Twilio gives up at 15 s)
FAKE_SIGNATURE = "A" * 27 + "="  # well formed, so the app reads the body before refusing it


class Attacker(threading.Thread):
    """Opens connections to the line (TLS when `context`) and misuses them until stopped."""

    def __init__(self, port: int, context: ssl.SSLContext | None, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.context, self.stop = port, context, stop
        self.cut_off = 0  # connections the server closed on us

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=CALL_TIMEOUT)
        return self.context.wrap_socket(sock, server_hostname="localhost") if self.context else sock

    def closed(self, sock: socket.socket, wait: float) -> bool:
        """Wait up to `wait` seconds; True if the server answered or closed meanwhile."""
        sock.settimeout(wait)
        try:
            sock.recv(4096)  # an answer (408, 413...) or b"" for a close: either way, cut off
            return True
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except OSError:
            return True

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.connect() as sock:
                    self.misuse(sock)
            except OSError:
                self.cut_off += 1
                time.sleep(0.1)

    def misuse(self, sock: socket.socket) -> None:
        raise NotImplementedError


class SlowHeaders(Attacker):
    """A request whose headers never end: one line every HEADER_EVERY seconds."""

    def misuse(self, sock: socket.socket) -> None:
        sock.sendall(b"POST /voice HTTP/1.1\r\nHost: localhost\r\n")
        n = 0
        while not self.stop.is_set():
            if self.closed(sock, HEADER_EVERY):
                self.cut_off += 1
                return
            sock.sendall(f"X-Slow-{n}: {'x' * 20}\r\n".encode())
            n += 1


class LargeBodies(Attacker):
    """Bodies that tie a worker up: 15 KiB at 1 KiB a second, then 1 MiB as fast as it goes."""

    rounds = 0  # bodies begun

    def misuse(self, sock: socket.socket) -> None:
        self.rounds += 1
        slow = self.rounds % 2 == 1
        size = 15 * 1024 if slow else 1024 * 1024
        sock.sendall((f"POST /voice HTTP/1.1\r\nHost: localhost\r\nX-Twilio-Signature: {FAKE_SIGNATURE}\r\n"
                      f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {size}\r\n\r\n").encode())
        sent = 0
        while sent < size and not self.stop.is_set():
            chunk = b"a=" + b"b" * (1022 if slow else 65534)
            sock.sendall(chunk[:size - sent])
            sent += len(chunk)
            if slow and self.closed(sock, 1.0):
                return
        self.closed(sock, CALL_TIMEOUT)  # the answer (413 or 403), or the server's timeout


def place_calls(live: LiveLine, seconds: float) -> tuple[list[float], int]:
    """A signed call every CALL_EVERY seconds for `seconds`, each on its own thread so a stuck
    one delays no other (as Twilio's calls come): (answer times in ms, failures). A failed call
    counts at the time it took to fail, so it weighs on the percentiles."""
    times: list[float] = []
    failures: list[bool] = []

    def one(n: int) -> None:
        path, fields = REQUESTS[n % len(REQUESTS)]
        start = time.perf_counter()
        try:
            answer = live.post(path, fields)
            ok = answer.status == 200 and answer.body.startswith(b"<?xml")
        except CheckFailed:
            ok = False
        times.append((time.perf_counter() - start) * 1000)
        failures.append(not ok)

    calls = [threading.Thread(target=one, args=(n,)) for n in range(int(seconds / CALL_EVERY))]
    for call in calls:
        call.start()
        time.sleep(CALL_EVERY)
    for call in calls:
        call.join()
    return times, sum(failures)


@contextmanager
def line(through_nginx: bool) -> Iterator[tuple[LiveLine, int, ssl.SSLContext | None]]:
    """The line as the check reaches it: (signed caller, port to attack, TLS context or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO), "IVR_PROXY_FIX": "1"}
        with gunicorn("app:app", env) as (_proc, app_port):
            if not through_nginx:
                yield LiveLine(f"http://127.0.0.1:{app_port}", TOKEN, timeout=CALL_TIMEOUT), app_port, None
                return
            with nginx([app_port], Path(tmp) / "front") as front:
                context = front.ssl_context()
                yield (LiveLine(front.url, TOKEN, context=context, timeout=CALL_TIMEOUT), front.https_port,
                       context)


def check_slow_clients(demonstrate_failure: bool, seconds: float = 20, warm_up: float = 6) -> bool:
    """Through nginx (the recommended set-up); `demonstrate_failure`: gunicorn with no proxy."""
    setup = "gunicorn alone, no proxy" if demonstrate_failure else "nginx (deploy/nginx.conf) in front of gunicorn"
    stop = threading.Event()
    with line(through_nginx=not demonstrate_failure) as (live, port, context):
        attackers = ([SlowHeaders(port, context, stop) for _ in range(SLOW_CLIENTS)]
                     + [LargeBodies(port, context, stop) for _ in range(2)])
        for attacker in attackers:
            attacker.start()
        time.sleep(warm_up)  # every slow connection open, and the first cut-offs past
        times, failed = place_calls(live, seconds)
        stop.set()
        for attacker in attackers:
            attacker.join(timeout=CALL_TIMEOUT + 2)
    cut = sum(a.cut_off for a in attackers[:SLOW_CLIENTS])
    bodies = sum(a.rounds for a in attackers[SLOW_CLIENTS:])
    p50, p99 = percentile(times, 0.50), percentile(times, 0.99)
    print(f"slow clients ({setup}): {SLOW_CLIENTS} slow-header connections (one line every {HEADER_EVERY:.0f} s) "
          f"and 2 large-body senders for {warm_up + seconds:.0f} s")
    print(f"  signed calls: {len(times) - failed} answered, {failed} failed of {len(times)}; "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(times):.0f} ms")
    print(f"  the server cut off {cut} slow-header connections; the large-body senders began {bodies} bodies")
    ok = failed == 0 and p99 < 1000
    print("slow clients: " + ("PASS" if ok else "FAIL") + " (target: every signed call answered, p99 under 1 s)")
    return ok
