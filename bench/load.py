"""Drive a server with wrk (signed Twilio requests) and read its figures."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

TOKEN = "bench-auth-token"
CALL = {"CallSid": "CAbench000000000000000000000000000", "AccountSid": "ACbench", "From": "+12075550199",
        "To": "+12075550123", "Direction": "inbound", "CallStatus": "in-progress"}


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def row(self) -> str:
        return f"{self.rps:9.0f} req/s   p50 {self.p50_ms:6.2f} ms   p99 {self.p99_ms:6.2f} ms   errors {self.errors}"


def signed_request(port: int, path: str, fields: dict[str, str], scheme: str = "http") -> tuple[str, str]:
    """The body and X-Twilio-Signature Twilio would send for this URL."""
    url = f"{scheme}://127.0.0.1:{port}{path}"
    return urlencode(fields), RequestValidator(TOKEN).compute_signature(url, fields)


def wrk(port: int, path: str, fields: dict[str, str], seconds: int = 10, connections: int = 32,
        threads: int = 2) -> Figures:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does this)")
    body, signature = signed_request(port, path, fields)
    script = f"""
wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Twilio-Signature"] = "{signature}"
"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", "-s", handle.name, f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    Path(handle.name).unlink()
    return parse(out)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse(out: str) -> Figures:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in match.groups())
    return Figures(rps, p50, p99, requests, errors)
