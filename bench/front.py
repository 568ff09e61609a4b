"""nginx in front of gunicorn on loopback, from the production recipe (deploy/nginx.conf) with a
throw-away certificate: the fault checks and the tests go through the configuration that is
installed, not a copy of it.

Only the main nginx.conf is this harness's own (Debian's package supplies it on a server): a
private prefix, pid file and temporary folders, so nothing of the machine's nginx is touched.
"""
from __future__ import annotations

import getpass
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ivr.golive.deploy import nginx_site, production_values  # noqa: E402
from serve import free_port, wait_for  # noqa: E402

MAIN_CONF = """\
{user}worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/ivr.conf;
}}
"""


def tool(name: str) -> str:
    """The path of a Debian tool the tests and checks need; a clear error if it is missing."""
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)
    if not found:
        raise RuntimeError(f"{name} is not installed: apt-get install {name} (`make test` and `make bench` "
                           "install it when run as root)")
    return found


def certificate(folder: Path, days: int = 30, name: str = "localhost") -> tuple[Path, Path]:
    """A throw-away self-signed certificate for `name` and 127.0.0.1: (certificate, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@dataclass
class Front:
    """A running nginx: its https and http ports, the certificate to trust, its log folder."""

    https_port: int
    http_port: int
    certificate: Path
    logs: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))


@contextmanager
def nginx(app_ports: list[int], folder: Path, days: int = 30) -> Iterator[Front]:
    """nginx with TLS on 127.0.0.1 in front of gunicorn on `app_ports`, from deploy/nginx.conf."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = certificate(folder, days)
    https_port, http_port = free_port(), free_port()
    values = {**production_values("localhost 127.0.0.1", [f"127.0.0.1:{port}" for port in app_ports]),
              "HTTPS": [f"127.0.0.1:{https_port}"], "HTTP": [f"127.0.0.1:{http_port}"],
              "CERTIFICATE": str(cert), "CERTIFICATE_KEY": str(key), "LOG_DIR": str(folder),
              "ACME_ROOT": str(folder)}
    (folder / "ivr.conf").write_text(nginx_site(values))
    # As root the workers would run as nobody, who cannot enter a private temporary folder.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(MAIN_CONF.format(tmp=folder, user=user))
    args = [tool("nginx"), "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(folder / "nginx.conf"),
            "-g", "daemon off;"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 10
        while proc.poll() is None and time.time() < deadline:
            try:
                wait_for(https_port, 0.2)
                break
            except RuntimeError:
                pass
        if proc.poll() is not None:
            raise RuntimeError(f"nginx did not start: {proc.stderr.read().decode(errors='replace').strip()}")
        yield Front(https_port, http_port, cert, folder)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in hand
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
