"""Start and stop gunicorn on loopback for the benchmarks and fault scripts."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
#: Every server here runs with the line's own gunicorn.conf.py (found in the working directory).
SETTINGS = "gunicorn.conf.py: 2 sync workers, app preloaded"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


@contextmanager
def gunicorn(app: str, env: dict[str, str], extra: list[str] | None = None, log: Path | None = None):
    """Yield (process, port) for `gunicorn app` on 127.0.0.1; stop it at the end."""
    port = free_port()
    args = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--log-level", "warning", *(extra or []), app]
    out = log.open("ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen(args, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        wait_for(port)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if log:
            out.close()


def rss_mb(pid: int) -> float:
    """Memory of a process and its children (gunicorn's workers), in MB: the proportional set
    size, so pages the forked workers share with the master are counted once, not three times."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
