"""The README describes the line as it is: every setting, every module."""
from __future__ import annotations

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
