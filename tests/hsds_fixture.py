"""Generate HSDS 3 tabular folders for tests and benchmarks (not shipped data)."""
from __future__ import annotations

import csv
import random
from pathlib import Path

KINDS = ("naloxone", "syringe-services", "hiv-hcv-testing", "treatment", "recovery-support")
FILES = {
    "organizations.csv": ["id", "name", "description"],
    "services.csv": ["id", "organization_id", "name", "description", "status"],
    "locations.csv": ["id", "name", "location_type", "latitude", "longitude"],
    "addresses.csv": ["id", "location_id", "address_1", "city", "state_province", "postal_code"],
    "service_at_locations.csv": ["id", "service_id", "location_id"],
    "phones.csv": ["id", "service_id", "number", "type"],
    "schedules.csv": ["id", "service_id", "freq", "byday", "opens_at", "closes_at"],
    "taxonomy_terms.csv": ["id", "code", "name"],
    "attributes.csv": ["id", "link_id", "link_type", "taxonomy_term_id"],
}


def write_hsds(folder: Path, services: int, seed: int = 1, bounds=(43.0, 47.4, -71.0, -67.0)) -> Path:
    """`services` services, each at its own location inside `bounds` (Maine by default)."""
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {name: [] for name in FILES}
    rows["organizations.csv"].append({"id": "org-1", "name": "Test organization", "description": "test"})
    for code in KINDS:
        rows["taxonomy_terms.csv"].append({"id": f"term-{code}", "code": code, "name": code})
    lat0, lat1, lon0, lon1 = bounds
    for i in range(services):
        kind = KINDS[i % len(KINDS)]
        rows["services.csv"].append({"id": f"svc-{i}", "organization_id": "org-1", "name": f"Service {i}",
                                     "description": "test", "status": "active"})
        rows["locations.csv"].append({"id": f"loc-{i}", "name": f"Location {i}", "location_type": "physical",
                                      "latitude": f"{rng.uniform(lat0, lat1):.5f}",
                                      "longitude": f"{rng.uniform(lon0, lon1):.5f}"})
        rows["addresses.csv"].append({"id": f"addr-{i}", "location_id": f"loc-{i}", "address_1": "1 Main St",
                                      "city": f"Town {i}", "state_province": "ME", "postal_code": "04101"})
        rows["service_at_locations.csv"].append({"id": f"sal-{i}", "service_id": f"svc-{i}", "location_id": f"loc-{i}"})
        rows["phones.csv"].append({"id": f"ph-{i}", "service_id": f"svc-{i}",
                                   "number": f"+1207555{i % 10000:04d}", "type": "voice"})
        rows["schedules.csv"].append({"id": f"sch-{i}", "service_id": f"svc-{i}", "freq": "WEEKLY",
                                      "byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "17:00"})
        rows["attributes.csv"].append({"id": f"attr-{i}", "link_id": f"svc-{i}", "link_type": "service",
                                       "taxonomy_term_id": f"term-{kind}"})
    folder.mkdir(parents=True, exist_ok=True)
    for name, fields in FILES.items():
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows[name])
    return folder
