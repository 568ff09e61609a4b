"""The production recipe in deploy/, filled in for one host: the nginx site, by `ivr nginx-config`
for a server and by bench/front.py for loopback, so what is tested is what is installed."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

from .. import PACKAGE_ROOT

DEPLOY = PACKAGE_ROOT / "deploy"
NGINX_TEMPLATE = DEPLOY / "nginx.conf"
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def production_values(domain: str, apps: Sequence[str] = ("127.0.0.1:8000",)) -> dict[str, str | list[str]]:
    """The values for a Debian server with a Let's Encrypt certificate from certbot."""
    return {
        "DOMAIN": domain,
        "HTTPS": ["443", "[::]:443"],
        "HTTP": ["80", "[::]:80"],
        "APP": list(apps),
        "CERTIFICATE": f"/etc/letsencrypt/live/{domain}/fullchain.pem",
        "CERTIFICATE_KEY": f"/etc/letsencrypt/live/{domain}/privkey.pem",
        "LOG_DIR": "/var/log/nginx",
        "ACME_ROOT": "/var/www/html",
    }


def render(template: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """`template` with each @NAME@ replaced; a line holding a list is repeated once per item.
    Raises KeyError naming a placeholder with no value, so nothing half-filled is ever written."""
    out = []
    for line in template.splitlines(keepends=True):
        names = PLACEHOLDER.findall(line)
        missing = [name for name in names if name not in values]
        if missing:
            raise KeyError(f"no value for @{missing[0]}@")
        lists = [name for name in names if not isinstance(values[name], str)]
        if len(lists) > 1:
            raise ValueError(f"one list per line, not {', '.join(lists)}")
        for item in (values[lists[0]] if lists else [None]):
            out.append(PLACEHOLDER.sub(lambda m: item if m.group(1) in lists else str(values[m.group(1)]), line))
    return "".join(out)


def nginx_site(values: Mapping[str, str | Sequence[str]], template: Path = NGINX_TEMPLATE) -> str:
    """deploy/nginx.conf filled in with `values`."""
    return render(template.read_text(encoding="utf-8"), values)
