"""The production recipe in deploy/: the environment file names every setting, and the nginx site
renders for a server with nothing left to fill in and no query string in any log."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import REPO
from ivr.cli import main
from ivr.golive.deploy import render
from ivr.settings import Settings

DEPLOY = REPO / "deploy"


def environment_file() -> dict[str, str]:
    lines = (DEPLOY / "ivr.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_environment_file_lists_every_setting_and_loads():
    values = environment_file()
    missing = [variable for variable, _help in Settings.describe() if variable not in values]
    assert missing == [], f"add to deploy/ivr.env.example: {missing}"
    settings = Settings.load({k: v for k, v in values.items() if k != "GUNICORN_CMD_ARGS"})
    assert settings.proxy_fix and settings.production and not settings.insecure_dev_mode


def test_the_nginx_site_for_two_app_hosts():
    result = CliRunner().invoke(main, ["nginx-config", "line.example.org", "--app", "10.0.0.11:8000",
                                       "--app", "10.0.0.12:8000"], catch_exceptions=False)
    site = result.stdout
    assert result.exit_code == 0
    assert not re.search(r"@[A-Z_]+@", site)
    assert re.findall(r"^\s*server (\S+) ", site, re.M) == ["10.0.0.11:8000", "10.0.0.12:8000"]
    assert re.findall(r"^\s*listen (.+);", site, re.M) == ["80", "[::]:80", "443 ssl", "[::]:443 ssl"]
    assert "ssl_certificate /etc/letsencrypt/live/line.example.org/fullchain.pem;" in site
    # Every access log uses the format with the path only: the query carries callers' data.
    log_format = re.search(r"log_format ivr_no_query (.*?);", site, re.S).group(1)
    assert "$uri" in log_format
    assert not re.search(r"\$(request|request_uri|args|arg_\w+|query_string|is_args)\b", log_format)
    assert set(re.findall(r"^\s*access_log \S+ (\S+);", site, re.M)) == {"ivr_no_query"}


def test_a_placeholder_without_a_value_is_refused():
    with pytest.raises(KeyError, match="@CERTIFICATE@"):
        render("ssl_certificate @CERTIFICATE@;\n", {})
    assert render("server @APP@;\n", {"APP": ["a:1", "b:2"]}) == "server a:1;\nserver b:2;\n"
