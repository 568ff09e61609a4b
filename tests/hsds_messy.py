"""A large generated 2-1-1 export that carries every problem issue 11 found, with what a caller
should get from each row: the truth is what the generator meant when it wrote the row (the ZIP
code it chose, the number it dialled), never a copy of the loader's own reasoning.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import zipcodes

from hsds_fixture import KINDS, Export

#: Maine ZIP codes with a town and coordinates, from the zipcodes package.
MAINE = [z for z in zipcodes.filter_by(state="ME") if z["lat"] and z["long"] and z["zip_code_type"] == "STANDARD"]
PARENT = "harm-reduction"  # a parent term; children: naloxone, syringe-services (parent_id)
AIRS = "RX-8450.5000-100"  # shaped like an AIRS/211 code: a search for RX-8450 finds it
ORGS = 5


@dataclass
class Expect:
    """What a caller gets from one service at location, or where and why it is left out."""

    sal: str
    kept: bool = True
    issue_file: str = ""           # for a left-out row: the file whose row says why
    issue_id: str = ""             # ... and that row's id
    words: tuple[str, ...] = ()    # ... words its message must contain
    name: str = ""
    town: str = ""
    at: tuple[float, float] | None = None  # where it is; None: no place to go, by phone only
    phones: tuple[tuple[str, str, str], ...] = ()  # (E.164, extension, type), as the caller gets them
    codes: frozenset[str] = frozenset()
    hours: tuple[frozenset[int], int, int] | None = None  # weekdays, opens, closes (minutes)
    unknown_hours: bool = False    # the caller must hear nothing about hours


@dataclass
class Messy:
    export: Export = field(default_factory=Export)
    expects: dict[str, Expect] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file, id) of rows that must raise no issue
    lines: dict[str, dict[str, int]] = field(default_factory=dict)
    folder: Path | None = None

    def write(self, folder: Path, **options) -> Path:
        self.folder, self.lines = folder, self.export.write(folder, **options)
        return folder


def messy_export(services: int = 460, seed: int = 11) -> Messy:
    rng = random.Random(seed)
    m = Messy()
    ex = m.export
    for o in range(ORGS):
        ex.add("organizations.csv", id=f"org-{o}", name=f"Organization {o}", description="test")
    ex.add("taxonomy_terms.csv", id="term-parent", code=PARENT, name="Harm reduction", description="parent")
    for code in KINDS:
        parent = "term-parent" if code in ("naloxone", "syringe-services") else ""
        ex.add("taxonomy_terms.csv", id=f"term-{code}", code=code, name=code, description=code, parent_id=parent)
    ex.add("taxonomy_terms.csv", id="term-airs", code=AIRS, name="Buprenorphine", description="MAT")
    ex.add("taxonomy_terms.csv", id="term-nocode", name="Uncoded", description="a term with no code")
    for i in range(services):
        SCENARIOS[i % len(SCENARIOS)](m, i, rng)
    return m


def _base(m: Messy, i: int, rng: random.Random, *, coords: bool = True) -> Expect:
    """A good service at a physical location in a Maine town, a voice number, weekday hours."""
    ex, z = m.export, rng.choice(MAINE)
    kind = KINDS[i % len(KINDS)]
    name = f"Service {i}"
    ex.add("services.csv", id=f"svc-{i}", organization_id=f"org-{i % ORGS}", name=name, status="active",
           description="Walk in.\nNo appointment needed,\n\"no questions\"." if i % 3 == 0 else "Walk in.")
    lat, lon = float(z["lat"]) + rng.uniform(-0.01, 0.01), float(z["long"]) + rng.uniform(-0.01, 0.01)
    ex.add("locations.csv", id=f"loc-{i}", location_type="physical", name=f"Location {i}",
           latitude=f"{lat:.5f}" if coords else "", longitude=f"{lon:.5f}" if coords else "")
    ex.add("addresses.csv", id=f"addr-{i}", location_id=f"loc-{i}", address_1=f"{i} Main St", city=z["city"],
           state_province="ME", postal_code=z["zip_code"], country="US", address_type="physical")
    ex.add("service_at_location.csv", id=f"sal-{i}", service_id=f"svc-{i}", location_id=f"loc-{i}")
    number = f"+1207555{i % 10000:04d}"
    ex.add("phones.csv", id=f"ph-{i}", service_id=f"svc-{i}", number=number, type="voice")
    opens, closes = rng.choice([(8 * 60, 16 * 60 + 30), (9 * 60, 17 * 60), (10 * 60, 14 * 60)])
    ex.add("schedules.csv", id=f"sch-{i}", service_id=f"svc-{i}", freq="WEEKLY", byday="MO,TU,WE,TH,FR",
           opens_at=f"{opens // 60:02d}:{opens % 60:02d}", closes_at=f"{closes // 60:02d}:{closes % 60:02d}")
    ex.add("attributes.csv", id=f"attr-{i}", link_id=f"svc-{i}", link_entity="service", taxonomy_term_id=f"term-{kind}")
    expect = Expect(f"sal-{i}", name=name, town=z["city"], at=(lat, lon) if coords else
                    (float(z["lat"]), float(z["long"])), phones=((number, "", "voice"),), codes=frozenset({kind}),
                    hours=(frozenset(range(5)), opens, closes))
    m.expects[expect.sal] = expect
    return expect


def _row(m: Messy, file: str, key: str) -> dict[str, str]:
    return next(r for r in m.export.rows[file] if r["id"] == key)


def plain(m, i, rng):
    _base(m, i, rng)


def postal_address_first(m, i, rng):
    """A PO box in another town listed before the physical address; no coordinates."""
    e = _base(m, i, rng, coords=False)
    po = rng.choice([z for z in MAINE if z["city"] != e.town])
    m.export.rows["addresses.csv"].insert(0, {"id": f"po-{i}", "location_id": f"loc-{i}", "address_1": f"PO Box {i}",
                                              "city": po["city"], "state_province": "ME", "postal_code": po["zip_code"],
                                              "country": "US", "address_type": "postal"})


def postal_location(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "locations.csv", f"loc-{i}")["location_type"] = "postal"
    e.at, e.town = None, ""


def virtual_without_coordinates(m, i, rng):
    e = _base(m, i, rng, coords=False)
    _row(m, "locations.csv", f"loc-{i}")["location_type"] = "virtual"
    m.export.rows["addresses.csv"] = [r for r in m.export.rows["addresses.csv"] if r["id"] != f"addr-{i}"]
    e.at, e.town = None, ""


def virtual_without_phone(m, i, rng):
    e = _base(m, i, rng, coords=False)
    _row(m, "locations.csv", f"loc-{i}")["location_type"] = "virtual"
    m.export.rows["phones.csv"] = [r for r in m.export.rows["phones.csv"] if r["id"] != f"ph-{i}"]
    e.kept, e.issue_file, e.issue_id, e.words = False, "service_at_location.csv", e.sal, ("no place to go", "no phone")


def text_before_voice(m, i, rng):
    e = _base(m, i, rng)
    text = f"+1207556{i % 10000:04d}"
    m.export.rows["phones.csv"].insert(0, {"id": f"tx-{i}", "service_id": f"svc-{i}", "number": text, "type": "text"})
    e.phones = e.phones + ((text, "", "text"),)


def text_only(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "phones.csv", f"ph-{i}")["type"] = "text"
    e.phones = ((e.phones[0][0], "", "text"),)


def extension_in_number(m, i, rng):
    e = _base(m, i, rng)
    row = _row(m, "phones.csv", f"ph-{i}")
    row["number"] = f"207-555-{i % 10000:04d} x{i % 900 + 100}"
    e.phones = ((e.phones[0][0], str(i % 900 + 100), "voice"),)


def extension_column(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "phones.csv", f"ph-{i}")["extension"] = str(i % 90 + 10)
    e.phones = ((e.phones[0][0], str(i % 90 + 10), "voice"),)


def international(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "phones.csv", f"ph-{i}")["number"] = f"+44 20 7946 {i % 10000:04d}"
    e.phones = ((f"+44207946{i % 10000:04d}", "", "voice"),)


def hours_out_of_range(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "schedules.csv", f"sch-{i}")["opens_at"] = "25:00"
    e.hours, e.unknown_hours = None, True


def hours_in_words(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "schedules.csv", f"sch-{i}")["opens_at"] = "nine"
    e.hours, e.unknown_hours = None, True


def monthly_without_byday(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "schedules.csv", f"sch-{i}").update(freq="MONTHLY", byday="", bymonthday="1,15", dtstart="2026-01-01")
    e.hours = None  # known, but not weekly: checked by its own test


def expired_hours(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "schedules.csv", f"sch-{i}").update(valid_from="2004-01-01", valid_to="2005-01-01")
    e.hours, e.unknown_hours = None, True


def organization_missing(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "services.csv", f"svc-{i}")["organization_id"] = f"org-gone-{i}"
    e.kept, e.issue_file, e.issue_id, e.words = False, "services.csv", f"svc-{i}", (f"org-gone-{i}", "organizations.csv")


def organization_left_out(m, i, rng):
    e = _base(m, i, rng)
    m.export.add("organizations.csv", id=f"org-nameless-{i}", name="", description="no name")
    _row(m, "services.csv", f"svc-{i}")["organization_id"] = f"org-nameless-{i}"
    e.kept, e.issue_file, e.issue_id = False, "service_at_location.csv", e.sal
    e.words = (f"svc-{i}", "was left out", "organizations.csv:", "empty name")


def no_coordinates_no_zip(m, i, rng):
    e = _base(m, i, rng, coords=False)
    _row(m, "addresses.csv", f"addr-{i}")["postal_code"] = ""
    e.kept, e.issue_file, e.issue_id, e.words = False, "locations.csv", f"loc-{i}", ("has no postal_code",)


def inactive(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "services.csv", f"svc-{i}")["status"] = "inactive"
    e.kept, e.issue_file, e.issue_id, e.words = False, "services.csv", f"svc-{i}", ("inactive",)


def optional_links(m, i, rng):
    """A phone linked only to a contact, a term linked to an organization, a term without a code."""
    _base(m, i, rng)
    m.export.add("phones.csv", id=f"cph-{i}", contact_id=f"contact-{i}", number="+12075559999", type="voice")
    m.export.add("attributes.csv", id=f"oattr-{i}", link_id=f"org-{i % ORGS}", link_entity="organization",
                 taxonomy_term_id="term-treatment")
    m.export.add("attributes.csv", id=f"nattr-{i}", link_id=f"svc-{i}", link_entity="service",
                 taxonomy_term_id="term-nocode")
    m.notes += [("phones.csv", f"cph-{i}"), ("attributes.csv", f"oattr-{i}"), ("attributes.csv", f"nattr-{i}")]


def airs_code(m, i, rng):
    e = _base(m, i, rng)
    _row(m, "attributes.csv", f"attr-{i}")["taxonomy_term_id"] = "term-airs"
    e.codes = frozenset({AIRS})


def swapped_coordinates(m, i, rng):
    """Latitude and longitude swapped: the place is put at its ZIP code, not in Antarctica."""
    e = _base(m, i, rng)
    row = _row(m, "locations.csv", f"loc-{i}")
    row["latitude"], row["longitude"] = row["longitude"], row["latitude"]
    z = next(z for z in MAINE if z["zip_code"] == _row(m, "addresses.csv", f"addr-{i}")["postal_code"])
    e.at = (float(z["lat"]), float(z["long"]))


def nameless_after_long_record(m, i, rng):
    """An empty name in a record that spans lines: the row named is the record's first line."""
    e = _base(m, i, rng)
    _row(m, "services.csv", f"svc-{i}").update(name="", description="Line one\nline two\nline three")
    e.kept, e.issue_file, e.issue_id, e.words = False, "services.csv", f"svc-{i}", ("empty name",)


SCENARIOS = [plain, postal_address_first, postal_location, virtual_without_coordinates, virtual_without_phone,
             text_before_voice, text_only, extension_in_number, extension_column, international,
             hours_out_of_range, hours_in_words, monthly_without_byday, expired_hours, organization_missing,
             organization_left_out, no_coordinates_no_zip, inactive, optional_links, airs_code,
             swapped_coordinates, nameless_after_long_record, plain]
