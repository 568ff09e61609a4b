"""The line's gunicorn settings plus a record of every request a worker begins and ends, so the
fault checks can tell whether a request was dropped mid-answer. Used with `-c bench/gunicorn_probe.py`."""
import itertools
import os
from pathlib import Path

_SETTINGS = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
exec(compile(_SETTINGS.read_text(), str(_SETTINGS), "exec"))  # the line's own settings, unchanged

_RECORD = os.environ["BENCH_PROBE_FILE"]
# Only for showing the check can fail: slow requests, so a worker killed at once is mid-answer.
_DELAY = float(os.environ.get("BENCH_PROBE_DELAY", "0"))
_NUMBERS = itertools.count()


def _note(word: str, number: int) -> None:
    # One short write with O_APPEND: lines from several workers do not interleave.
    fd = os.open(_RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{word} {os.getpid()} {number}\n".encode())
    finally:
        os.close(fd)


def pre_request(worker, req):
    req.probe_number = next(_NUMBERS)
    _note("begin", req.probe_number)
    if _DELAY:
        import time
        time.sleep(_DELAY)


def post_request(worker, req, environ, resp):
    _note("end", req.probe_number)
