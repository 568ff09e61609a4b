"""Faults under load, through the production recipe's front server (nginx from deploy/, with a
throw-away certificate) as in production; each check ends by itself and exits 1 if the line misbehaved.

  .venv/bin/python bench/faults.py reload    a flow file broken while serving: the last good flow
                                             keeps answering, the error is logged as file:line,
                                             and the fixed file is then served
  .venv/bin/python bench/faults.py signals   gunicorn restarted (SIGHUP) and stopped (SIGTERM)
                                             under load: no request dropped mid-answer
  .venv/bin/python bench/faults.py slow      50 slow-header clients and 2 large-body senders
                                             through nginx (deploy/): signed calls still answered,
                                             p99 under 1 s

`--demonstrate-failure` runs the same check on a setup known to be wrong (reload: workers that
re-read the broken file at start; signals: no graceful timeout, so gunicorn kills its workers
at once; slow: gunicorn alone, with no proxy in front), to show that the check can fail.
"""
from __future__ import annotations

import argparse
import shutil
import signal
import ssl
import tempfile
import threading
import time
from pathlib import Path

from client import Tally, connection_to, one
from front import nginx
from load import CALL, TOKEN, signed_request
from serve import REPO, gunicorn
from slow_clients import check_slow_clients


class Load:
    """Clients sending signed requests in a loop until stopped (through the front when `context`)."""

    def __init__(self, port: int, clients: int = 8, context: ssl.SSLContext | None = None):
        self.port, self.context, self.stop = port, context, threading.Event()
        self.tallies = [Tally() for _ in range(clients)]
        self.threads = [threading.Thread(target=self._run, args=(t, i)) for i, t in enumerate(self.tallies)]

    def _run(self, tally: Tally, offset: int) -> None:
        n = offset
        while not self.stop.is_set():
            one(self.port, n, tally, timeout=5, context=self.context)
            n += 1

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def total(self) -> Tally:
        total = Tally()
        for tally in self.tallies:
            total.add(tally)
        return total


def answer(port: int, path: str, fields: dict[str, str], context: ssl.SSLContext | None = None) -> str:
    body, signature = signed_request(port, path, {**CALL, **fields}, "https" if context else "http")
    connection = connection_to(port, 5, context)
    connection.request("POST", path, body=body, headers={"X-Twilio-Signature": signature,
                                                         "Content-Type": "application/x-www-form-urlencoded"})
    data = connection.getresponse().read().decode()
    connection.close()
    return data


def say_first(port: int, path: str, fields: dict[str, str], context: ssl.SSLContext | None = None) -> str:
    data = answer(port, path, fields, context)
    start = data.find("<Say")
    return data[data.find(">", start) + 1:data.find("</Say>", start)] if start >= 0 else data


def check_reload(demonstrate_failure: bool) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "line"
        for folder in ("menus", "locales", "directory"):
            shutil.copytree(REPO / folder, root / folder)
        log = Path(tmp) / "gunicorn.log"
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(root), "IVR_RELOAD_SECONDS": "0.5",
               "IVR_PROXY_FIX": "1"}
        # The wrong setup: no preloading, and workers recycled, so new ones read the broken file.
        extra = (["--config", str(REPO / "bench" / "gunicorn_nopreload.py"), "--max-requests", "2000"]
                 if demonstrate_failure else [])
        flow = root / "menus" / "flow.yaml"
        good = flow.read_text()
        ok = True
        try:
            with gunicorn("app:app", env, extra, log=log) as (_proc, app_port), \
                    nginx([app_port], Path(tmp) / "front") as front:  # the production recipe in front
                port, tls = front.https_port, front.ssl_context()
                before = say_first(port, "/voice/input/main?lang=en", {"Digits": "6"}, tls)
                with Load(port, context=tls) as load:
                    time.sleep(1)
                    flow.write_text(good.replace("goto: talk_to_211}", "goto: talk_to_2111}", 1))
                    time.sleep(4)  # the watchers notice, try, refuse, keep the last good flow
                    during = say_first(port, "/voice/input/main?lang=en", {"Digits": "6"}, tls)
                    flow.write_text(good)  # fixed, and 2-1-1's number changed beside it
                    destinations = root / "menus" / "destinations.yaml"
                    destinations.write_text(destinations.read_text().replace('"+18668115695"', '"+12075550177"'))
                    time.sleep(3)
                    after = answer(port, "/voice/input/main?lang=en", {"Digits": "6"}, tls)
                tally = load.total()
        except (RuntimeError, OSError) as exc:  # the server did not come up, or went away
            print(f"reload: the line stopped answering ({type(exc).__name__}: {exc})")
            print("reload: FAIL")
            return False
        finally:
            text = log.read_text(errors="replace") if log.exists() else ""
        logged = "menus/flow.yaml:" in text and "talk_to_2111" in text
        print(f"reload: {tally.ok} ok, {tally.refused} refused, {tally.dropped} dropped, {tally.bad} bad under load")
        print(f"  before the break: {before!r}\n  while broken:     {during!r}")
        print(f"  after the fix, 2-1-1 is dialled at the new number: {'+12075550177</Number>' in after}")
        print(f"  error logged with file:line: {logged}")
        ok = (tally.refused == tally.dropped == tally.bad == 0 and logged and during == before
              and "<Number" in after and "+12075550177</Number>" in after)
        print("reload: " + ("PASS" if ok else "FAIL"))
        return ok


def check_signals(demonstrate_failure: bool) -> bool:
    """SIGHUP, then SIGTERM, under load. Every request a worker began must end with an answer
    (recorded by gunicorn's pre/post_request hooks); the clients must see no broken answer."""
    stop_signal = signal.SIGTERM
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "requests.log"
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_CONTENT_ROOT": str(REPO), "BENCH_PROBE_FILE": str(record),
               "IVR_PROXY_FIX": "1"}
        config = ["--config", str(REPO / "bench" / "gunicorn_probe.py")]
        if demonstrate_failure:  # the wrong setup: workers killed at once instead of finishing
            config += ["--graceful-timeout", "0"]
            env["BENCH_PROBE_DELAY"] = "0.05"  # and requests slow enough to be caught mid-answer
        with gunicorn("app:app", env, config) as (proc, app_port), nginx([app_port], Path(tmp) / "front") as front:
            with Load(front.https_port, clients=16, context=front.ssl_context()) as load:
                time.sleep(2)
                proc.send_signal(signal.SIGHUP)  # new workers; the old ones finish and go
                time.sleep(4)
                during_hup = load.total()
                proc.send_signal(stop_signal)
                proc.wait(timeout=60)
                time.sleep(0.5)
            tally = load.total()
        lines = record.read_text().split("\n")
    begun = {line[6:] for line in lines if line.startswith("begin ")}
    ended = {line[4:] for line in lines if line.startswith("end ")}
    cut = len(begun - ended)
    print(f"signals: through SIGHUP: {during_hup.ok} ok, {during_hup.dropped} unanswered, {during_hup.bad} bad, "
          f"{during_hup.refused} refused")
    print(f"signals: through {stop_signal.name}: {len(begun)} requests begun by workers, {cut} of them "
          f"dropped mid-answer; clients saw {tally.ok} ok, {tally.bad} bad, {tally.refused} refused and "
          f"{tally.dropped} reset before any worker took them (queued in the kernel as it stopped)")
    ok = (during_hup.refused == during_hup.dropped == during_hup.bad == 0 and cut == 0 and tally.bad == 0
          and tally.ok > 100)
    print("signals: " + ("PASS" if ok else "FAIL"))
    return ok


#: Every fault check by name; each takes `demonstrate_failure` and returns whether it passed.
CHECKS = {"reload": check_reload, "signals": check_signals, "slow": check_slow_clients}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("check", choices=["reload", "signals", "slow", "all"])
    parser.add_argument("--demonstrate-failure", action="store_true")
    args = parser.parse_args()
    names = list(CHECKS) if args.check == "all" else [args.check]
    results = [CHECKS[name](args.demonstrate_failure) for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
