"""A directory of services near the caller, read from Open Referral HSDS 3.x tabular data.

HSDS is what 2-1-1 systems exchange, so a program loads its 2-1-1's export (a folder of CSV
files) instead of typing listings. Loading checks every row and reports each bad one as
`file:row: message`; the good rows become an index built once, so a lookup by ZIP code or county
is a few grid cells of great-circle distances. No Flask here.
"""
from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

import phonenumbers
import zipcodes

from .source import Problem

#: HSDS 3 tabular files the line reads; the first group must exist.
REQUIRED_FILES = ("organizations.csv", "services.csv", "locations.csv", "service_at_locations.csv",
                  "phones.csv", "taxonomy_terms.csv", "attributes.csv")
OPTIONAL_FILES = ("addresses.csv", "schedules.csv")
REQUIRED_COLUMNS = {
    "organizations.csv": ("id", "name"),
    "services.csv": ("id", "organization_id", "name"),
    "locations.csv": ("id",),
    "service_at_locations.csv": ("id", "service_id", "location_id"),
    "phones.csv": ("id", "number"),
    "taxonomy_terms.csv": ("id", "code"),
    "attributes.csv": ("id", "link_id", "taxonomy_term_id"),
    "addresses.csv": ("id", "location_id", "city", "postal_code"),
    "schedules.csv": ("id", "byday"),
}
#: Marks the shipped sample, so a production line refuses to read it to callers.
SAMPLE_MARKER = "SAMPLE_DATA.txt"
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EARTH_KM = 6371.0088
CELL_DEGREES = 0.25  # grid cell of the index: about 28 km north-south


@dataclass(frozen=True)
class Place:
    """One service at one location, as a caller hears it."""

    id: str
    name: str
    town: str
    lat: float
    lon: float
    county: str
    phone: str  # E.164
    kinds: frozenset[str]
    open_days: frozenset[int] | None  # weekdays (0 = Monday) with opening hours; None: not known


@dataclass(frozen=True)
class ZipPlace:
    zip: str
    lat: float
    lon: float
    county: str  # without " County"
    state: str
    city: str


class _Grid:
    """Places bucketed by CELL_DEGREES cells, searched ring by ring outwards from the caller."""

    def __init__(self, places: Iterable[Place]):
        self.cells: dict[tuple[int, int], list[Place]] = defaultdict(list)
        self.size = 0
        for place in places:
            self.cells[_cell(place.lat, place.lon)].append(place)
            self.size += 1
        # The farthest any place is from the equator bounds how narrow a cell can be.
        self.lat_max = max((abs(place.lat) for cell in self.cells.values() for place in cell), default=0.0)

    def nearest(self, lat: float, lon: float, count: int) -> list[tuple[Place, float]]:
        if not self.size:
            return []
        row, col = _cell(lat, lon)
        # Every place outside ring r is at least r cells away: r times the narrowest cell side.
        widest_lat = min(89.0, max(self.lat_max, abs(lat)) + CELL_DEGREES)
        side_km = _km(0, 0, CELL_DEGREES, 0) * math.cos(math.radians(widest_lat))
        found: list[tuple[float, Place]] = []
        seen = 0
        for ring in range(int(360 / CELL_DEGREES)):
            for cell in _ring(row, col, ring):
                for place in self.cells.get(cell, ()):
                    found.append((_km(lat, lon, place.lat, place.lon), place))
                    seen += 1
            found.sort(key=lambda item: (item[0], item[1].name))
            del found[count:]
            if seen == self.size or (len(found) >= count and found[-1][0] <= ring * side_km):
                break
        return [(place, km) for km, place in found]


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEGREES), math.floor(lon / CELL_DEGREES)


def _ring(row: int, col: int, ring: int) -> Iterable[tuple[int, int]]:
    if ring == 0:
        yield row, col
        return
    for d in range(-ring, ring + 1):
        yield row - ring, col + d
        yield row + ring, col + d
    for d in range(-ring + 1, ring):
        yield row + d, col - ring
        yield row + d, col + ring


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, a)))


@lru_cache(maxsize=1)
def _zip_table() -> Mapping[str, ZipPlace]:
    """Every US ZIP code (the zipcodes package, offline), read once per process."""
    table = {}
    for z in zipcodes.list_all():
        try:
            lat, lon = float(z["lat"]), float(z["long"])
        except (TypeError, ValueError):
            continue
        county = re.sub(r"\s+County$", "", z.get("county") or "")
        table[z["zip_code"]] = ZipPlace(z["zip_code"], lat, lon, county, z["state"], z["city"])
    return MappingProxyType(table)


@dataclass
class Directory:
    """The loaded directory for one state: places by kind, ZIP codes, county centres."""

    state: str
    places: tuple[Place, ...]
    sample: bool
    kinds: frozenset[str]
    zips: Mapping[str, ZipPlace]
    county_centres: Mapping[str, tuple[float, float]]
    _grids: dict[str, _Grid] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[Place]] = defaultdict(list)
        for place in self.places:
            for kind in place.kinds:
                by_kind[kind].append(place)
        self._grids = {kind: _Grid(places) for kind, places in by_kind.items()}

    def locate(self, zip_code: str) -> ZipPlace | None:
        return self.zips.get(zip_code)

    def in_state(self, zip_place: ZipPlace) -> bool:
        return zip_place.state == self.state

    def nearest(self, kind: str, lat: float, lon: float, count: int = 3) -> list[tuple[Place, float]]:
        grid = self._grids.get(kind)
        return grid.nearest(lat, lon, count) if grid else []

    def near_zip(self, kind: str, zip_code: str, count: int = 3) -> list[tuple[Place, float]]:
        where = self.zips[zip_code]
        return self.nearest(kind, where.lat, where.lon, count)

    def in_county(self, kind: str, county: str, count: int = 3) -> list[tuple[Place, float]]:
        """Nearest to the county's centre (the mean of its ZIP codes)."""
        lat, lon = self.county_centres[county]
        return self.nearest(kind, lat, lon, count)


# -- loading and checking -------------------------------------------------------------------

def _read(folder: Path, name: str, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    path = folder / name
    if not path.exists():
        if name in REQUIRED_FILES:
            problems.append(Problem(name, 1, "", "file is missing (HSDS 3 tabular data needs it)"))
        return []
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS[name] if c not in (reader.fieldnames or [])]
        if missing:
            problems.append(Problem(name, 1, "", f"missing column(s): {', '.join(missing)}"))
            return []
        for row in reader:
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}))
    return rows


class _Checker:
    """Reads each table, checks every row and keeps the good ones by id."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []

    def bad(self, name: str, row: int, message: str) -> None:
        self.problems.append(Problem(name, row, "", message))

    def table(self, name: str, required: tuple[str, ...] = ()) -> dict[str, tuple[int, dict[str, str]]]:
        """Rows by id; reports empty required fields and repeated ids."""
        kept: dict[str, tuple[int, dict[str, str]]] = {}
        for row_no, row in _read(self.folder, name, self.problems):
            empty = [c for c in ("id", *required) if not row.get(c)]
            if empty:
                self.bad(name, row_no, f"empty {', '.join(empty)}")
                continue
            if row["id"] in kept:
                self.bad(name, row_no, f"id {row['id']} repeats row {kept[row['id']][0]}")
                continue
            kept[row["id"]] = (row_no, row)
        return kept

    def linked(self, name: str, rows: dict, field_name: str, targets: Mapping, what: str,
               required: bool = True) -> dict:
        """Keep the rows whose `field_name` names an existing `what`."""
        kept = {}
        for key, (row_no, row) in rows.items():
            ref = row.get(field_name, "")
            if not ref and not required:
                kept[key] = (row_no, row)
            elif ref not in targets:
                self.bad(name, row_no, f"{field_name} '{ref}' is not a known {what}")
            else:
                kept[key] = (row_no, row)
        return kept


def load_directory(folder: Path, state: str) -> tuple[Directory | None, list[Problem]]:
    """Read and check an HSDS folder. Returns the directory built from the good rows (None when a
    required file is unusable) and every problem, each as file:row."""
    folder = Path(folder)
    check = _Checker(folder)
    zips = _zip_table()
    orgs = check.table("organizations.csv", ("name",))
    services = check.linked("services.csv", check.table("services.csv", ("name",)), "organization_id",
                            orgs, "organization")
    locations = check.table("locations.csv")
    addresses = check.linked("addresses.csv", check.table("addresses.csv"), "location_id", locations,
                             "location")
    sals = check.linked("service_at_locations.csv",
                        check.linked("service_at_locations.csv", check.table("service_at_locations.csv"),
                                     "service_id", services, "service"),
                        "location_id", locations, "location")
    terms = check.table("taxonomy_terms.csv", ("code",))
    attributes = check.linked("attributes.csv", check.table("attributes.csv", ("link_id",)),
                              "taxonomy_term_id", terms, "taxonomy term")
    if any(p.line == 1 and p.file in REQUIRED_FILES for p in check.problems):
        return None, _in_file_order(check.problems)

    address_of = {row["location_id"]: (row_no, row) for row_no, row in addresses.values()}
    coords: dict[str, tuple[float, float, str, str]] = {}
    for loc_id, (row_no, row) in locations.items():
        place = _coordinates(check, row_no, row, address_of.get(loc_id), zips)
        if place:
            coords[loc_id] = place
    phones = _phones(check, services, locations, sals, orgs)
    days = _schedules(check, services, locations, sals)
    kinds: dict[str, set[str]] = defaultdict(set)
    for row_no, row in attributes.values():
        if row["link_id"] in services:
            kinds[row["link_id"]].add(terms[row["taxonomy_term_id"]][1]["code"])
        else:
            check.bad("attributes.csv", row_no, f"link_id '{row['link_id']}' is not a known service")

    places = []
    for sal_id, (row_no, row) in sals.items():
        service_id, loc_id = row["service_id"], row["location_id"]
        service = services[service_id][1]
        if service.get("status", "active") not in ("", "active"):
            continue
        if loc_id not in coords:
            continue  # its location's problem is reported already
        phone = (phones.get(("sal", sal_id)) or phones.get(("service", service_id))
                 or phones.get(("location", loc_id)) or phones.get(("organization", service["organization_id"])))
        if not phone:
            check.bad("service_at_locations.csv", row_no, "no phone number for this service here "
                      "(phones.csv links none to it, its service, location or organization)")
            continue
        lat, lon, town, county = coords[loc_id]
        open_days = days.get(("sal", sal_id), days.get(("service", service_id), days.get(("location", loc_id))))
        places.append(Place(sal_id, service["name"], town, lat, lon, county, phone,
                            frozenset(kinds.get(service_id, ())), open_days))
    centres: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for z in zips.values():
        if z.state == state and z.county:
            centres[z.county].append((z.lat, z.lon))
    county_centres = {c: (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
                      for c, pts in centres.items()}
    directory = Directory(state, tuple(places), (folder / SAMPLE_MARKER).exists(),
                          frozenset(row["code"] for _, row in terms.values()), zips, county_centres)
    return directory, _in_file_order(check.problems)


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    order = {name: i for i, name in enumerate((*REQUIRED_FILES, *OPTIONAL_FILES))}
    return sorted(problems, key=lambda p: (order.get(p.file, len(order)), p.line))


def _coordinates(check: _Checker, row_no: int, row: dict, address: tuple | None, zips: Mapping) -> tuple | None:
    """(lat, lon, town, county) from the location's coordinates or, failing that, its ZIP code."""
    town, county, zip_place = "", "", None
    if address:
        addr_row = address[1]
        postal = addr_row["postal_code"][:5]
        zip_place = zips.get(postal)
        if zip_place is None:
            check.bad("addresses.csv", address[0], f"postal_code '{addr_row['postal_code']}' is not a known ZIP code")
        town = addr_row["city"]
    if zip_place:
        county = zip_place.county
        town = town or zip_place.city
    lat_text, lon_text = row.get("latitude", ""), row.get("longitude", "")
    if lat_text or lon_text:
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            check.bad("locations.csv", row_no, f"latitude '{lat_text}' and longitude '{lon_text}' must be numbers")
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            check.bad("locations.csv", row_no, f"latitude {lat} or longitude {lon} is out of range")
            return None
        return lat, lon, town or row.get("name", ""), county
    if zip_place:
        return zip_place.lat, zip_place.lon, town, county
    check.bad("locations.csv", row_no, "no latitude and longitude, and no address with a known ZIP code")
    return None


def _phones(check: _Checker, services: Mapping, locations: Mapping, sals: Mapping, orgs: Mapping) -> dict:
    """The first good phone number of each thing a phone row links to."""
    found: dict[tuple[str, str], str] = {}
    links = (("service_at_location_id", "sal", sals), ("service_id", "service", services),
             ("location_id", "location", locations), ("organization_id", "organization", orgs))
    for row_no, row in check.table("phones.csv", ("number",)).values():
        if row.get("type") and row["type"] not in ("voice", "cell", "text"):
            continue
        try:
            parsed = phonenumbers.parse(row["number"], "US")
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            check.bad("phones.csv", row_no, f"'{row['number']}' is not a valid phone number")
            continue
        number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        linked = False
        for column, kind, targets in links:
            ref = row.get(column, "")
            if ref:
                if ref not in targets:
                    check.bad("phones.csv", row_no, f"{column} '{ref}' is not known")
                    continue
                found.setdefault((kind, ref), number)
                linked = True
        if not linked and not any(row.get(c) for c, _, _ in links):
            check.bad("phones.csv", row_no, "links to no service, location or organization")
    return found


def _schedules(check: _Checker, services: Mapping, locations: Mapping, sals: Mapping) -> dict:
    """Weekdays with opening hours, by what each schedule row is for (weekly schedules only)."""
    days: dict[tuple[str, str], set[int]] = {}
    if not (check.folder / "schedules.csv").exists():
        return {}
    links = (("service_at_location_id", "sal", sals), ("service_id", "service", services),
             ("location_id", "location", locations))
    for row_no, row in check.table("schedules.csv").values():
        if row.get("freq", "WEEKLY").upper() not in ("", "WEEKLY"):
            continue
        codes = [c.strip().upper() for c in row["byday"].split(",") if c.strip()]
        unknown = [c for c in codes if c not in DAY_CODES]
        if unknown or not codes:
            check.bad("schedules.csv", row_no, f"byday '{row['byday']}' must list days as MO,TU,WE,TH,FR,SA,SU")
            continue
        column, kind, targets = next(((c, k, t) for c, k, t in links if row.get(c)), (None, None, None))
        if column is None:
            check.bad("schedules.csv", row_no, "links to no service, location or service at location")
        elif row[column] not in targets:
            check.bad("schedules.csv", row_no, f"{column} '{row[column]}' is not known")
        else:
            days.setdefault((kind, row[column]), set()).update(DAY_CODES.index(c) for c in codes)
    return {key: frozenset(value) for key, value in days.items()}
