"""The README describes the line as it is: every setting, every module."""
from __future__ import annotations

import re

from conftest import REPO
from ivr.settings import Settings

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readmes_table():
    for variable, _help in Settings.describe():
        assert f"| `{variable}" in README, f"README.md's settings table lacks {variable}"


def test_every_module_is_in_the_readmes_layout():
    layout = README[README.index("## Layout"):README.index("## Architecture")]
    listed = set()
    for word in layout.replace(";", " ").replace(",", " ").split():
        listed.add(word.strip("():"))
    for path in sorted((REPO / "ivr").rglob("*.py")):
        relative = path.relative_to(REPO)
        packages = [p for p in relative.parents if p.parent.name and p.name != "ivr" and "ivr" in p.parts]
        shown = (any(f"{package}/" in listed for package in packages) if packages
                 else str(relative) in listed or relative.name in listed)
        assert shown, f"README.md's layout does not list {relative}"


def test_each_console_page_is_pictured_by_the_browser_tests():
    """Every screenshot the README shows exists, and is one the browser tests take (so
    `IVR_SCREENSHOTS=docs/screenshots make test` refreshes them all)."""
    shown = re.findall(r"\]\((docs/screenshots/[\w-]+\.png)\)", README)
    taken = (REPO / "tests/test_console_browser.py").read_text(encoding="utf-8")
    assert len(shown) >= 9
    for path in shown:
        assert (REPO / path).is_file(), f"README.md shows {path}, which is missing"
        assert f'"{path.rsplit("/", 1)[1]}"' in taken or f'"{path.rsplit("/", 1)[1].removesuffix(".png")}"' in taken, \
            f"no browser test takes {path}"
    for page in ("login", "health", "phone", "flow", "node", "languages", "statistics"):
        assert f"docs/screenshots/{page}.png" in shown, f"README.md has no picture of the {page} page"


def test_the_readmes_unattended_calls_run_as_written():
    """Each `ivr simulate --keys ...` line the README shows makes a whole call with no fault."""
    import shlex

    from click.testing import CliRunner
    from ivr.cli import main
    shown = [line.split("#")[0].strip() for line in README.splitlines()
             if line.startswith(".venv/bin/ivr simulate --keys")]
    assert len(shown) >= 2
    for command in shown:
        result = CliRunner().invoke(main, [*shlex.split(command)[1:], "--root", str(REPO)])
        assert result.exit_code == 0, (command, result.output)
        assert "-- call ended --" in result.output and "!!" not in result.output, (command, result.output)
