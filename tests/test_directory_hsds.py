"""Reading real-shaped 2-1-1 exports: a large generated export carrying every problem of issue 11,
checked row by row against what the generator meant a caller to get."""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hsds_fixture import KINDS, plain_export
from hsds_messy import AIRS, MAINE, PARENT, messy_export
from ivr.directory import read_directory
from ivr.directory_geo import km
from ivr.hours import HolidayCalendar

NEW_YORK = ZoneInfo("America/New_York")
MAINE_HOLIDAYS = HolidayCalendar("US", "ME")
WEDNESDAY = datetime(2026, 12, 2, tzinfo=NEW_YORK)  # no holiday


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    m = messy_export()
    m.write(tmp_path_factory.mktemp("messy"))
    loaded = read_directory(m.folder, "ME")
    assert loaded.directory is not None, [str(i) for i in loaded.issues]
    return m, loaded


def issues_at(loaded, file: str, line: int) -> list[str]:
    return [i.message for i in loaded.issues if i.file == file and i.line == line]


def test_every_row_a_caller_cannot_use_is_left_out_with_its_reason_at_its_first_line(messy):
    m, loaded = messy
    places = {p.id: p for p in loaded.directory.places}
    left_out = [e for e in m.expects.values() if not e.kept]
    assert left_out and len(places) == len(m.expects) - len(left_out)  # one bad row blocks nothing else
    for e in left_out:
        assert e.sal not in places
        messages = issues_at(loaded, e.issue_file, m.lines[e.issue_file][e.issue_id])
        assert any(all(word in message for word in e.words) for message in messages), (e, messages)


def test_a_service_whose_organization_is_unknown_says_why_at_every_row_that_names_it(messy):
    m, loaded = messy
    e = next(e for e in m.expects.values() if "org-gone" in " ".join(e.words))
    service = e.sal.replace("sal-", "svc-")
    [at_sal] = issues_at(loaded, "service_at_location.csv", m.lines["service_at_location.csv"][e.sal])
    assert f"its service '{service}' was left out" in at_sal and "is not in organizations.csv" in at_sal
    assert "not a known service" not in " ".join(i.message for i in loaded.issues)


def test_what_a_caller_gets_from_each_place(messy):
    m, loaded = messy
    places = {p.id: p for p in loaded.directory.places}
    for e in (e for e in m.expects.values() if e.kept):
        p = places[e.sal]
        assert (p.name, p.town, p.codes) == (e.name, e.town, e.codes), e
        assert tuple((ph.number, ph.extension, ph.type) for ph in p.phones) == e.phones, e
        callable_numbers = [number for number, _ext, kind in e.phones if kind != "text"]
        assert p.phone == (callable_numbers[0] if callable_numbers else None), e  # never a text-only number
        if e.at is None:
            assert not p.visit and p in loaded.directory.by_phone(e.codes)
        else:
            assert math.isclose(p.lat, e.at[0], abs_tol=1e-4) and math.isclose(p.lon, e.at[1], abs_tol=1e-4), e


def test_distance_is_measured_from_the_physical_address_not_the_po_box(messy):
    m, loaded = messy
    po_boxes = {r["location_id"]: r for r in m.export.rows["addresses.csv"] if r["address_type"] == "postal"}
    assert po_boxes
    for location, box in po_boxes.items():
        e = m.expects[location.replace("loc-", "sal-")]
        near_box = loaded.directory.near_zip(e.codes, box["postal_code"], count=len(loaded.directory.places))
        distance = next(d for p, d in near_box if p.id == e.sal)
        zip_box = next(z for z in MAINE if z["zip_code"] == box["postal_code"])
        assert math.isclose(distance, km(float(zip_box["lat"]), float(zip_box["long"]), *e.at), rel_tol=1e-6)


def test_hours_say_open_now_until_closing_or_nothing_when_unknown(messy):
    m, loaded = messy
    places = {p.id: p for p in loaded.directory.places}
    for e in (e for e in m.expects.values() if e.kept):
        place = places[e.sal]
        if e.unknown_hours:
            assert place.status(WEDNESDAY.replace(hour=12), MAINE_HOLIDAYS) is None, e
        elif e.hours:
            _days, opens, closes = e.hours
            opening = WEDNESDAY.replace(hour=opens // 60, minute=opens % 60)
            status = place.status(opening.replace(minute=opening.minute + 30), MAINE_HOLIDAYS)
            assert status.open_now and (status.closes_at.hour * 60 + status.closes_at.minute) == closes, e
            before = place.status(WEDNESDAY.replace(hour=6), MAINE_HOLIDAYS)
            assert not before.open_now and before.next_open == opening


def test_unreadable_hours_are_reported_and_the_place_kept(messy):
    m, loaded = messy
    for e in (e for e in m.expects.values() if e.unknown_hours and e.kept):
        schedule_id = e.sal.replace("sal-", "sch-")
        row = next(r for r in m.export.rows["schedules.csv"] if r["id"] == schedule_id)
        if not row.get("valid_to"):
            [message] = issues_at(loaded, "schedules.csv", m.lines["schedules.csv"][schedule_id])
            assert f"opens_at '{row['opens_at']}'" in message and "without hours" in message


def test_optional_links_raise_no_issue(messy):
    """Phones linked only to a contact, terms linked to organizations, terms without a code."""
    m, loaded = messy
    assert m.notes
    for file, key in m.notes:
        assert issues_at(loaded, file, m.lines[file][key]) == [], (file, key)


@pytest.mark.parametrize("codes, matching", [
    ([PARENT], {"naloxone", "syringe-services", PARENT}),  # children through taxonomy_terms.parent_id
    (["RX-8450"], {AIRS}),                                # an AIRS/211 code's structure names its parents
    (["treatment", "recovery-support"], {"treatment", "recovery-support"}),
    (["TREATMENT"], {"treatment"}),                       # whatever the case
])
def test_a_search_finds_any_of_several_codes_and_their_descendants(messy, codes, matching):
    m, loaded = messy
    here = next(z for z in MAINE if z["zip_code"] == "04101")
    lat, lon = float(here["lat"]), float(here["long"])
    visits = [e for e in m.expects.values() if e.kept and e.at and e.codes & matching]
    expected = sorted(km(lat, lon, *e.at) for e in visits)[:5]
    got = [d for _p, d in loaded.directory.nearest(codes, lat, lon, 5)]
    assert len(got) == 5 and all(math.isclose(g, x, abs_tol=0.02) for g, x in zip(got, expected))


def test_every_kind_is_found_near_a_maine_zip(messy):
    _m, loaded = messy
    assert all(loaded.directory.near_zip(kind, "04401") for kind in KINDS)


def test_a_windows_export_is_reported_row_by_row_and_the_rest_is_read(tmp_path):
    ex = plain_export(30)
    accented = {f"svc-{i}" for i in (3, 17)}
    for row in ex.rows["services.csv"]:
        if row["id"] in accented:
            row["name"] = "Café ’Hope’"
    lines = ex.write(tmp_path / "export", encodings={"services.csv": "cp1252"})
    loaded = read_directory(tmp_path / "export", "ME")
    bad = [i for i in loaded.issues if "UTF-8" in i.message]
    assert sorted(i.line for i in bad) == sorted(lines["services.csv"][key] for key in accented)
    assert all(i.file == "services.csv" and "save the file as UTF-8" in i.message for i in bad)
    assert len(loaded.directory.places) == 28


def test_a_header_row_that_is_not_utf8_is_reported_not_a_traceback(tmp_path):
    ex = plain_export(5)
    ex.write(tmp_path / "export")
    phones = tmp_path / "export" / "phones.csv"
    phones.write_bytes(phones.read_bytes().replace(b"number", "numb\u00e9r".encode("cp1252"), 1))
    loaded = read_directory(tmp_path / "export", "ME")
    assert [(i.file, i.line) for i in loaded.issues if "UTF-8" in i.message] == [("phones.csv", 1)]
    assert loaded.directory is not None and len(loaded.directory.places) == 5  # phones are optional


def test_the_spec_file_name_and_the_old_plural_one_both_load(tmp_path):
    ex = plain_export(12)
    ex.write(tmp_path / "spec")
    ex.write(tmp_path / "old", names={"service_at_location.csv": "service_at_locations.csv"})
    spec, old = read_directory(tmp_path / "spec", "ME"), read_directory(tmp_path / "old", "ME")
    assert spec.issues == old.issues == []
    assert [p.id for p in spec.directory.places] == [p.id for p in old.directory.places] and len(spec.directory.places) == 12


def test_files_the_spec_lets_an_export_leave_out_may_be_missing(tmp_path):
    optional = ("addresses.csv", "phones.csv", "schedules.csv", "taxonomy_terms.csv", "attributes.csv")
    plain_export(12).write(tmp_path / "export", omit=optional)
    loaded = read_directory(tmp_path / "export", "ME")
    assert loaded.issues == [] and len(loaded.directory.places) == 12
    assert all(any(name in note for note in loaded.notes) for name in optional)


def test_a_missing_required_file_or_column_refuses_the_export(tmp_path):
    plain_export(5).write(tmp_path / "no-orgs", omit=("organizations.csv",))
    loaded = read_directory(tmp_path / "no-orgs", "ME")
    assert loaded.directory is None and "organizations.csv:1: file is missing" in str(loaded.issues[0])
    ex = plain_export(5)
    ex.write(tmp_path / "renamed")
    path = tmp_path / "renamed" / "phones.csv"
    path.write_text(path.read_text().replace(",number,", ",phone_number,", 1))
    loaded = read_directory(tmp_path / "renamed", "ME")
    assert loaded.directory is None and any("has no column number" in i.message for i in loaded.issues)
