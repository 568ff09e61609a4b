"""Generate HSDS 3.0 tabular folders for tests and benchmarks (not shipped data).

Files and columns are written as the specification's datapackage.json lays them out: every column
of each file, in its order (our own constants, from reading the spec), so a generated folder looks
like a real export.
"""
from __future__ import annotations

import csv
import io
import random
from pathlib import Path

KINDS = ("naloxone", "syringe-services", "hiv-hcv-testing", "treatment", "recovery-support")
SPEC_COLUMNS = {
    "organizations.csv": ("id", "name", "alternate_name", "description", "email", "website", "tax_status",
                          "tax_id", "year_incorporated", "legal_status", "logo", "uri", "parent_organization_id"),
    "services.csv": ("id", "organization_id", "program_id", "name", "alternate_name", "description", "url",
                     "email", "status", "interpretation_services", "application_process", "fees_description",
                     "wait_time", "fees", "accreditations", "eligibility_description", "minimum_age",
                     "maximum_age", "assured_date", "assurer_email", "licenses", "alert", "last_modified"),
    "locations.csv": ("id", "location_type", "url", "organization_id", "name", "alternate_name", "description",
                      "transportation", "latitude", "longitude", "external_identifier",
                      "external_identifier_type"),
    "service_at_location.csv": ("id", "service_id", "location_id", "description"),
    "addresses.csv": ("id", "location_id", "attention", "address_1", "address_2", "city", "region",
                      "state_province", "postal_code", "country", "address_type"),
    "phones.csv": ("id", "location_id", "service_id", "organization_id", "contact_id", "service_at_location_id",
                   "number", "extension", "type", "description"),
    "schedules.csv": ("id", "service_id", "location_id", "service_at_location_id", "valid_from", "valid_to",
                      "dtstart", "timezone", "until", "count", "wkst", "freq", "interval", "byday", "byweekno",
                      "bymonthday", "byyearday", "description", "opens_at", "closes_at", "schedule_link",
                      "attending_type", "notes"),
    "taxonomy_terms.csv": ("id", "code", "name", "description", "parent_id", "taxonomy", "language",
                           "taxonomy_id", "term_uri"),
    "attributes.csv": ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"),
}


class Export:
    """Rows of an HSDS export in memory, written out as its CSV files."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, str]]] = {name: [] for name in SPEC_COLUMNS}

    def add(self, file: str, **values: object) -> dict[str, str]:
        unknown = set(values) - set(SPEC_COLUMNS[file])
        assert not unknown, f"{file} has no column {unknown}"
        row = {column: str(value) for column, value in values.items()}
        self.rows[file].append(row)
        return row

    def write(self, folder: Path, omit: tuple[str, ...] = (), names: dict[str, str] | None = None,
              encodings: dict[str, str] | None = None) -> dict[str, dict[str, int]]:
        """Write each file (`names` renames one, `omit` leaves it out); returns the line each
        record starts on, by file and id, counted from what was written."""
        folder.mkdir(parents=True, exist_ok=True)
        lines: dict[str, dict[str, int]] = {}
        for name, columns in SPEC_COLUMNS.items():
            if name in omit:
                continue
            shown = (names or {}).get(name, name)
            buffer = io.StringIO(newline="")
            writer = csv.writer(buffer, lineterminator="\r\n")
            chunks, starts, line = [], {}, 1
            for values in (columns, *([row.get(c, "") for c in columns] for row in self.rows[name])):
                buffer.seek(0)
                buffer.truncate()
                writer.writerow(values)
                chunks.append(buffer.getvalue())
                if values is not columns:
                    starts.setdefault(values[0], line)
                line += chunks[-1].count("\n")
            lines[shown] = starts
            encoding = (encodings or {}).get(name, "utf-8")
            (folder / shown).write_bytes("".join(chunks).encode(encoding))
        return lines


def write_hsds(folder: Path, services: int, seed: int = 1, bounds=(43.0, 47.4, -71.0, -67.0)) -> Path:
    """`services` services, each at its own location inside `bounds` (Maine by default), with a
    voice number, weekday hours and one of KINDS."""
    plain_export(services, seed, bounds).write(folder)
    return folder


def plain_export(services: int, seed: int = 1, bounds=(43.0, 47.4, -71.0, -67.0)) -> Export:
    rng = random.Random(seed)
    ex = Export()
    ex.add("organizations.csv", id="org-1", name="Test organization", description="test")
    for code in KINDS:
        ex.add("taxonomy_terms.csv", id=f"term-{code}", code=code, name=code, description=code)
    lat0, lat1, lon0, lon1 = bounds
    for i in range(services):
        ex.add("services.csv", id=f"svc-{i}", organization_id="org-1", name=f"Service {i}", description="test",
               status="active")
        ex.add("locations.csv", id=f"loc-{i}", name=f"Location {i}", location_type="physical",
               latitude=f"{rng.uniform(lat0, lat1):.5f}", longitude=f"{rng.uniform(lon0, lon1):.5f}")
        ex.add("addresses.csv", id=f"addr-{i}", location_id=f"loc-{i}", address_1="1 Main St", city=f"Town {i}",
               state_province="ME", postal_code="04101", country="US", address_type="physical")
        ex.add("service_at_location.csv", id=f"sal-{i}", service_id=f"svc-{i}", location_id=f"loc-{i}")
        ex.add("phones.csv", id=f"ph-{i}", service_id=f"svc-{i}", number=f"+1207555{i % 10000:04d}", type="voice")
        ex.add("schedules.csv", id=f"sch-{i}", service_id=f"svc-{i}", freq="WEEKLY", byday="MO,TU,WE,TH,FR",
               opens_at="09:00", closes_at="17:00")
        ex.add("attributes.csv", id=f"attr-{i}", link_id=f"svc-{i}", link_entity="service",
               taxonomy_term_id=f"term-{KINDS[i % len(KINDS)]}")
    return ex
