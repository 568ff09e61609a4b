"""`ivr directory import`: a 2-1-1 export checked with the whole line, then swapped in whole; an
honest summary; refusals that keep the old data serving."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import TOKEN, Call, maine_copy
from hsds_fixture import KINDS, SPEC_COLUMNS, plain_export, write_hsds
from hsds_messy import SCENARIOS, messy_export
from ivr import create_app
from ivr.cli import main as cli
from ivr.directory import MANIFEST, SAMPLE_MARKER, read_directory
from ivr.directory_import import SHOWN_PER_REASON
from ivr.flow import check
from ivr.i18n import spoken_number


def run(*args: str):
    return CliRunner().invoke(cli, ["directory", "import", *map(str, args)], catch_exceptions=False)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def root(tmp_path):
    return maine_copy(tmp_path)


def test_a_good_export_replaces_the_sample_and_the_line_serves_it(root, tmp_path):
    result = run(write_hsds(tmp_path / "export", 50), "--root", root)
    assert result.exit_code == 0, result.output
    assert "Kept 50 places to tell callers about: 50 to visit, 0 by phone only; 50 with a number to call" in result.output
    assert "reloads directory/ by itself" in result.output and "restart the line" not in result.output
    assert not (root / "directory" / SAMPLE_MARKER).exists()
    line, _ = check(root)
    assert len(line.directory.places) == 50 and not line.directory.sample
    assert [p.name for p in root.iterdir() if p.name.startswith(".directory")] == []  # no temporary folder left


def test_rows_that_cannot_help_a_caller_are_left_out_and_counted_by_reason(root, tmp_path):
    m = messy_export()
    m.write(tmp_path / "export")
    result = run(tmp_path / "export", "--root", root)
    assert result.exit_code == 0, result.output
    kept = sum(e.kept for e in m.expects.values())
    assert f"Kept {kept:,} places" in result.output
    issues = read_directory(tmp_path / "export", "ME").issues
    for reason, count in Counter(i.reason for i in issues if i.skipped).items():
        assert re.search(rf"^\s+{count:,}  {re.escape(reason)} \(", result.output, re.MULTILINE), reason
    listed = [l for l in result.output.splitlines() if re.match(r"^[a-z_]+\.csv:\d+: ", l)]
    per_reason = Counter(i.reason for i in issues)
    assert len(listed) == sum(min(n, SHOWN_PER_REASON) for n in per_reason.values()) < len(issues)
    assert "--verbose lists every one" in result.output
    every = run(tmp_path / "export", "--root", maine_copy(tmp_path / "again"), "--verbose")
    assert len([l for l in every.output.splitlines() if re.match(r"^[a-z_]+\.csv:\d+: ", l)]) == len(issues)


def test_strict_refuses_the_whole_export_for_one_bad_row(root, tmp_path):
    ex = plain_export(20)
    ex.rows["phones.csv"][3]["number"] = "555"
    ex.write(tmp_path / "export")
    before = folder_bytes(root / "directory")
    result = run(tmp_path / "export", "--root", root, "--strict")
    assert result.exit_code == 1 and "Nothing imported: --strict, and 1 rows would be left out" in result.output
    assert folder_bytes(root / "directory") == before
    assert run(tmp_path / "export", "--root", root).exit_code == 0  # without --strict: 19 numbers, 20 places


def test_a_search_of_the_line_that_finds_nothing_is_refused_naming_it_and_the_common_codes(root, tmp_path):
    ex = plain_export(60)
    ex.rows["attributes.csv"] = [r for r in ex.rows["attributes.csv"] if r["taxonomy_term_id"] != "term-recovery-support"]
    for i in range(30):  # more codes than a message should list
        ex.add("taxonomy_terms.csv", id=f"extra-{i}", code=f"XX-{i:04d}", name="extra", description="extra")
        ex.add("attributes.csv", id=f"xattr-{i}", link_id=f"svc-{i}", link_entity="service", taxonomy_term_id=f"extra-{i}")
    ex.write(tmp_path / "export")
    before = folder_bytes(root / "directory")
    result = run(tmp_path / "export", "--root", root)
    assert result.exit_code == 1
    refusal = next(l for l in result.output.splitlines() if l.startswith("Nothing imported"))
    assert "recovery-support (menus/flow.yaml:" in refusal and "find_recovery" in refusal
    assert len(re.findall(r"\b[\w-]+ \(\d+\)", refusal.split("common taxonomy codes:")[1])) == 20
    assert folder_bytes(root / "directory") == before


def with_kind(root: Path, old: str, new: str) -> None:
    flow = root / "menus" / "flow.yaml"
    flow.write_text(flow.read_text().replace(f"kind: {old},", f"kind: {new},"))


def test_a_search_may_name_a_parent_code_the_data_never_writes(root, tmp_path):
    ex = plain_export(50)
    ex.add("taxonomy_terms.csv", id="term-ssp", code="RX-8470.1900-610", name="Needle exchange", description="x")
    for row in ex.rows["attributes.csv"]:
        if row["taxonomy_term_id"] == "term-syringe-services":
            row["taxonomy_term_id"] = "term-ssp"
    ex.write(tmp_path / "export")
    with_kind(root, "syringe-services", "RX-8470.1900")  # two levels up, by the code's structure
    result = run(tmp_path / "export", "--root", root)
    assert result.exit_code == 0, result.output
    assert "RX-8470.1900 10 places" in result.output
    line, _ = check(root)
    assert len(line.directory.near_zip("RX-8470.1900", "04101")) == 3


def test_a_search_spelled_otherwise_than_the_data_is_refused_saying_how_it_is_written(root, tmp_path):
    with_kind(root, "naloxone", "NALOXONE")
    result = run(write_hsds(tmp_path / "export", 30), "--root", root)
    assert result.exit_code == 1
    assert "The search NALOXONE (menus/flow.yaml:" in result.output and "is written naloxone in the data" in result.output
    assert not any(len(l) > 2000 for l in result.output.splitlines())  # never a line listing every code


def test_a_search_written_with_spaces_around_its_code_imports_as_the_line_reads_it(root, tmp_path):
    # The line strips a search's code; the import's own reading of menus/ did not, and crashed
    # (StopIteration) looking for how the data spells " naloxone ".
    with_kind(root, "naloxone", '" naloxone "')
    result = run(write_hsds(tmp_path / "export", 30), "--root", root)
    assert result.exit_code == 0, result.output
    line, problems = check(root)
    assert line is not None and line.directory.count("naloxone") > 0, [str(p) for p in problems]


def test_no_usable_place_is_a_refusal_not_an_ok(root, tmp_path):
    ex = plain_export(10)
    for row in ex.rows["locations.csv"]:
        row["latitude"] = row["longitude"] = ""
    for row in ex.rows["addresses.csv"]:
        row["postal_code"] = "ABC 123"
    ex.write(tmp_path / "export")
    result = run(tmp_path / "export", "--root", root)
    assert result.exit_code == 1 and "OK" not in result.output
    assert "Nothing imported: no place a caller can be told about is left" in result.output


def test_a_missing_optional_file_is_a_note_not_a_bad_row(root, tmp_path):
    plain_export(25).write(tmp_path / "export", omit=("schedules.csv",))
    result = run(tmp_path / "export", "--root", root)
    assert result.exit_code == 0, result.output
    assert "Note: schedules.csv is not in the export" in result.output
    assert "Left out" not in result.output and "bad row" not in result.output


@pytest.mark.parametrize("cut", ["phones cut to the header row", "empty locations", "renamed column"])
def test_a_cut_short_export_never_empties_the_directory(root, tmp_path, cut):
    write_hsds(tmp_path / "good", 40)
    assert run(tmp_path / "good", "--root", root).exit_code == 0
    served = folder_bytes(root / "directory")
    bad = write_hsds(tmp_path / "bad", 40)
    if cut == "phones cut to the header row":
        (bad / "phones.csv").write_text((bad / "phones.csv").read_text().splitlines()[0] + "\n")
    elif cut == "empty locations":
        (bad / "locations.csv").write_text("")
    else:
        (bad / "services.csv").write_text((bad / "services.csv").read_text().replace(",name,", ",title,", 1))
    result = run(bad, "--root", root)
    assert result.exit_code == 1 and "Nothing imported" in result.output, result.output
    assert folder_bytes(root / "directory") == served
    if cut == "phones cut to the header row":
        assert "0 places with a number to call against 40" in result.output
        assert run(bad, "--root", root, "--accept-fewer").exit_code == 0


def test_a_directory_cut_short_after_the_import_does_not_load(root, tmp_path):
    """The line's reload keeps serving its last good content when a load fails: so a sync that
    stops half way through directory/ leaves callers with the numbers they had."""
    assert run(write_hsds(tmp_path / "export", 40), "--root", root).exit_code == 0
    phones = root / "directory" / "phones.csv"
    phones.write_text(phones.read_text().splitlines()[0] + "\n")
    line, problems = check(root)
    assert line is None and any("0 places with a number to call against 40" in p.message for p in problems)


def test_dry_run_checks_with_the_whole_line_and_copies_nothing(root, tmp_path):
    before = folder_bytes(root / "directory")
    result = run(write_hsds(tmp_path / "export", 30), "--root", root, "--dry-run")
    assert result.exit_code == 0 and "Nothing copied (--dry-run)" in result.output
    assert folder_bytes(root / "directory") == before and MANIFEST not in before


def test_the_imported_folder_keeps_its_notes_and_permissions(root, tmp_path):
    (root / "directory" / "README.md").write_text("# our notes\n")
    (root / "directory").chmod(0o755)
    assert run(write_hsds(tmp_path / "export", 30), "--root", root).exit_code == 0
    assert (root / "directory" / "README.md").read_text() == "# our notes\n"
    assert (root / "directory").stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in (root / "directory").iterdir()) == sorted([MANIFEST, "README.md", *SPEC_COLUMNS])


def test_after_importing_a_messy_export_a_caller_hears_the_physical_town_and_never_a_text_only_number(root, tmp_path):
    m = messy_export()
    m.write(tmp_path / "export")
    assert run(tmp_path / "export", "--root", root).exit_code == 0
    call = Call(create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN}).test_client())
    menu_key = {kind: str(n) for n, kind in enumerate(KINDS, start=1)}  # main menu 8, then the kind
    physical = {r["location_id"]: r for r in m.export.rows["addresses.csv"] if r["address_type"] == "physical"}
    texts = {r["number"] for r in m.export.rows["phones.csv"] if r["type"] == "text"}
    for scenario in ("text_before_voice", "postal_address_first", "text_only"):
        e = next(e for i, e in enumerate(m.expects.values()) if SCENARIOS[i % len(SCENARIOS)].__name__ == scenario)
        call.choose_language("1")
        call.press("8")
        call.press(menu_key[next(iter(e.codes))])
        says = call.press(physical[e.sal.replace("sal-", "loc-")]["postal_code"]).says()
        assert e.name in says, (scenario, says)
        name, town, _hours, after = says[says.index(e.name):says.index(e.name) + 4]
        assert town == e.town  # the physical address's town, not the PO box's
        voice = [number for number, _ext, kind in e.phones if kind != "text"]
        if voice:
            assert after == spoken_number(voice[0])
        else:  # a text-only number is not read as a number to call
            assert not re.search(r"\d \d \d, \d \d \d", after), (scenario, after)
        assert not any(spoken_number(t) in s for t in texts for s in says), scenario
