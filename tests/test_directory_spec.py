"""Against the HSDS 3.0 specification itself: its datapackage.json, its official example, and the
`frictionless` validator its own CI runs on that example.

The specification is not copied into this repository (nothing fetched is committed here). These
tests read a checkout of it from IVR_HSDS_SPEC, or ../shared/reference/hsds-specification beside
the repository, and are skipped without one: `tests/get_hsds_spec.sh` makes one from a mirror.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from hsds_fixture import SPEC_COLUMNS
from ivr.directory import read_directory
from ivr.directory_hsds import ALIASES, NEEDED_COLUMNS, OPTIONAL_FILES, READ_COLUMNS, REQUIRED_FILES


def spec_root() -> Path | None:
    for candidate in (os.environ.get("IVR_HSDS_SPEC"), REPO.parent / "shared" / "reference" / "hsds-specification"):
        if candidate and (Path(candidate) / "datapackage.json").is_file():
            return Path(candidate)
    return None


SPEC = spec_root()
needs_spec = pytest.mark.skipif(SPEC is None, reason="no HSDS 3.0 specification checkout: set IVR_HSDS_SPEC "
                                 "(tests/get_hsds_spec.sh extracts one from a mirror of openreferral/specification)")


@pytest.fixture(scope="module")
def datapackage() -> dict:
    return json.loads((SPEC / "datapackage.json").read_text(encoding="utf-8"))


def resources(datapackage: dict) -> dict[str, dict]:
    return {r["path"]: r for r in datapackage["resources"]}


@needs_spec
def test_the_files_and_columns_we_read_are_the_specs(datapackage):
    by_path = resources(datapackage)
    for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
        fields = [f["name"] for f in by_path[name]["schema"]["fields"]]
        assert set(NEEDED_COLUMNS[name]) <= set(READ_COLUMNS[name]) <= set(fields), name
        assert SPEC_COLUMNS[name] == tuple(fields), name  # the generated exports look like real ones
    assert not {alias for names in ALIASES.values() for alias in names} & set(by_path)


@needs_spec
def test_what_the_spec_makes_optional_the_loader_does_not_need(datapackage):
    by_path = resources(datapackage)
    for name, needed in NEEDED_COLUMNS.items():
        required = {f["name"] for f in by_path[name]["schema"]["fields"] if f.get("constraints", {}).get("required")}
        optional = set(needed) - required
        # Only the joins the line cannot do without: a phone's number, an address's location, an
        # attribute's link (the spec requires the others of these too, or leaves them to the link).
        assert optional <= {"location_id"}, (name, optional)


@needs_spec
def test_the_official_example_is_read_and_its_unusable_place_is_said_why(tmp_path):
    loaded = read_directory(SPEC / "examples" / "csv", "ME")
    messages = {f"{i.file}:{i.line}": i.message for i in loaded.issues}
    assert "service_at_location.csv:1" not in messages  # the file is found by its spec name
    # Its location is at latitude 100, and its only address is a postal one abroad: nowhere to send a caller.
    assert "latitude 100, longitude 101 is no place on Earth" in messages["locations.csv:2"]
    assert "it has no physical address" in messages["locations.csv:2"]
    assert "its location '3a19ff88-4620-4d17-9830-ac1d859eb5d5' was left out (locations.csv:2" in \
        messages["service_at_location.csv:2"]
    assert loaded.directory is None  # nothing left: refused, not an empty directory


@needs_spec
def test_the_official_example_moved_to_maine_is_what_a_caller_hears(tmp_path):
    example = tmp_path / "example"
    shutil.copytree(SPEC / "examples" / "csv", example, symlinks=True)
    rewrite(example / "locations.csv", latitude="43.6591", longitude="-70.2568")  # Portland
    rewrite(example / "attributes.csv", link_id="ac148810-d857-441c-9679-408f346de14b", link_entity="service")
    loaded = read_directory(example, "ME")
    [(place, _km)] = loaded.directory.near_zip(["code"], "04101")  # its only taxonomy term's code is "code"
    assert place.name == "Community Counselling" and place.visit
    [phone] = place.phones
    assert (phone.number, phone.extension, phone.international) == ("+441234234567", "100", True)
    assert phone.spoken_extension == "1 0 0"
    assert place.schedule is not None and place.schedule.rules[0].valid_to.year == 2005
    assert not any("schedules.csv" == i.file for i in loaded.issues)  # read, and valid only in 2005


def rewrite(path: Path, **values: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update(values)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def validate_with_frictionless(folder: Path, datapackage: dict, tmp_path: Path):
    """What the spec's CI does for its example (frictionless validate), on the files `folder` has:
    its datapackage.json restricted to them, as the spec's examples/make_datapackages.py does."""
    frictionless = pytest.importorskip("frictionless")
    package = tmp_path / "package"
    package.mkdir()
    present = {p.name for p in folder.glob("*.csv")}
    descriptor = json.loads(json.dumps(datapackage))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["path"] in present]
    names = {r["name"] for r in descriptor["resources"]}
    for resource in descriptor["resources"]:
        keys = [k for k in resource["schema"].get("foreignKeys", []) if k["reference"]["resource"] in names]
        resource["schema"]["foreignKeys"] = keys
        shutil.copyfile(folder / resource["path"], package / resource["path"])
    (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    report = frictionless.Package(str(package / "datapackage.json")).validate()
    return report, [f"{t.name}: {e.message}" for t in report.tasks for e in t.errors]


@needs_spec
def test_the_shipped_sample_passes_the_specs_validator(datapackage, tmp_path):
    report, errors = validate_with_frictionless(REPO / "directory", datapackage, tmp_path)
    assert report.valid, errors[:20]
    assert {p.name for p in (REPO / "directory").glob("*.csv")} <= set(resources(datapackage))


@needs_spec
def test_the_validator_would_catch_a_sample_that_departs_from_the_spec(datapackage, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(REPO / "directory", broken)
    rewrite(broken / "services.csv", status="open")  # not one of the spec's statuses
    report, errors = validate_with_frictionless(broken, datapackage, tmp_path)
    assert not report.valid and any("status" in e for e in errors)
