"""From HSDS rows to places a caller can be told about: one service at one location, with where it
is, its numbers, its hours and its taxonomy codes.

What the spec's fields mean here: `location_type` postal or virtual is no place to go (such a place
helps by phone only); only a physical address places a location or names its town (a postal
address is where letters go); phones are voice or cell before text-only; `extension` is kept.
A row that cannot help a caller is left out with the reason, and a row that names a left-out row
says why that row was left out.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from .directory_geo import ZipPlace, state_bounds
from .directory_hsds import (ADDRESSES, ATTRIBUTES, LOCATIONS, ORGANIZATIONS, PHONES, SCHEDULES,
                             SERVICE_AT_LOCATION, SERVICES, TAXONOMY_TERMS, Reader, Table)
from .directory_phone import Phone, PhoneError, parse_phone, phone_type
from .directory_schedule import Rule, Schedule, ScheduleError, parse_rule
from .hours import HolidayCalendar, OpenStatus

NO_PLACE = "no usable coordinates or ZIP code"
#: What a phone or a schedule can be for, most specific first.
_PHONE_LINKS = ("service_at_location_id", "service_id", "location_id", "organization_id")
_SCHEDULE_LINKS = _PHONE_LINKS[:3]
#: The tables an attribute may describe (`link_entity`, by the spec's object names). Only the terms
#: of a service, or of a service at one location, find places; the others are accepted and unused.
ENTITIES = frozenset({"service", "service_at_location", "organization", "location", "phone", "schedule",
                      "address", "contact", "program", "service_area", "language", "funding", "cost_option",
                      "required_document", "accessibility", "taxonomy_term", "taxonomy", "metadata",
                      "organization_identifier", "meta_table_description"})
_SINGULAR = {**{entity + "s": entity for entity in ENTITIES}, "addresses": "address",
             "accessibilities": "accessibility", "taxonomies": "taxonomy"}
# Without link_entity (older exports), the table whose ids include link_id says what it describes.
_LOOKUP = {"service": SERVICES, "service_at_location": SERVICE_AT_LOCATION, "organization": ORGANIZATIONS,
           "location": LOCATIONS}


@dataclass(frozen=True)
class Place:
    """One service at one location, as a caller hears it."""

    id: str                      # service_at_location id
    name: str                    # the service's name
    town: str
    lat: float | None            # None: no place to go (virtual or postal location): by phone only
    lon: float | None
    county: str
    phones: tuple[Phone, ...]    # numbers to call first, then text-only ones
    codes: frozenset[str]        # taxonomy codes of the service's terms, as the data writes them
    schedule: Schedule | None    # None: the data gives no usable hours

    @property
    def visit(self) -> bool:
        """A place the caller can go to (it has coordinates)."""
        return self.lat is not None

    @property
    def first_callable(self) -> Phone | None:
        """The first number to call (text-only numbers never): a place to visit may have none."""
        return next((p for p in self.phones if p.callable), None)

    @property
    def phone(self) -> str | None:
        """The first number to call, E.164."""
        phone = self.first_callable
        return phone.number if phone else None

    def status(self, now: datetime, calendar: HolidayCalendar | None = None) -> OpenStatus | None:
        """Open now (until when) or closed (opens when), in `now`'s zone (the line's) with the
        line's holidays; None when the data gives no hours for today."""
        return self.schedule.status(now, calendar) if self.schedule else None



@dataclass
class Built:
    """What a folder gives: its places, the taxonomy's parent relation, and the tables read."""

    places: list[Place] = field(default_factory=list)
    parents: dict[str, set[str]] = field(default_factory=dict)  # taxonomy code -> its parents' codes
    codes: set[str] = field(default_factory=set)                 # every code taxonomy_terms.csv defines
    tables: dict[str, Table] = field(default_factory=dict)


def build_places(reader: Reader, state: str, zips: Mapping[str, ZipPlace], region: str = "US") -> Built:
    """Read every table and join them into places; `region` reads numbers without a country code."""
    built = Built()
    t = built.tables
    t[ORGANIZATIONS] = orgs = reader.table(ORGANIZATIONS, ("name",))
    t[SERVICES] = services = reader.table(SERVICES, ("name", "organization_id"))
    _keep_linked(reader, services, "organization_id", orgs)
    for key, (line, row) in list(services.rows.items()):
        if row.get("status", "").lower() not in ("", "active"):
            reader.bad(reader.shown(SERVICES), line, f"status '{row['status']}': not offered to callers",
                       "service not active", key=key, table=SERVICES)
            del services.rows[key]
    t[LOCATIONS] = locations = reader.table(LOCATIONS)
    t[ADDRESSES] = addresses = reader.table(ADDRESSES)
    where = _place_locations(reader, locations, addresses, state, zips)
    t[SERVICE_AT_LOCATION] = sals = reader.table(SERVICE_AT_LOCATION, ("service_id", "location_id"))
    _keep_linked(reader, sals, "service_id", services)
    _keep_linked(reader, sals, "location_id", locations)
    t[PHONES] = phone_rows = reader.table(PHONES, ("number",))
    phones = _phones(reader, phone_rows, dict(zip(_PHONE_LINKS, (sals, services, locations, orgs))), region)
    t[SCHEDULES] = schedule_rows = reader.table(SCHEDULES)
    schedules = _schedules(reader, schedule_rows, dict(zip(_SCHEDULE_LINKS, (sals, services, locations))))
    t[TAXONOMY_TERMS] = terms = reader.table(TAXONOMY_TERMS)
    t[ATTRIBUTES] = attributes = reader.table(ATTRIBUTES, ("link_id", "taxonomy_term_id"))
    service_codes, sal_codes = _codes(reader, terms, attributes, t, built)
    sal_phones, service_phones, location_phones, org_phones = (phones[c] for c in _PHONE_LINKS)
    sal_hours, service_hours, location_hours = (schedules[c] for c in _SCHEDULE_LINKS)
    none: frozenset[str] = frozenset()
    for key, (line, row) in sals.rows.items():
        loc_id, service_id = row["location_id"], row["service_id"]
        service = services.rows[service_id][1]
        org_id = service["organization_id"]
        found = [*sal_phones.get(key, ()), *service_phones.get(service_id, ()),
                 *location_phones.get(loc_id, ()), *org_phones.get(org_id, ())]
        numbers = tuple(found) if len(found) < 2 else tuple(_ordered(found))  # one needs no ordering
        lat, lon, town, county = where[loc_id]
        if lat is None and not numbers:
            kind = locations.rows[loc_id][1].get("location_type") or "not physical"
            reader.bad(reader.shown(SERVICE_AT_LOCATION), line, f"'{service['name']}' has no place to go "
                       f"(its location is {kind}) and no phone number: a caller could not reach it",
                       "no place to go and no phone", key=key, table=SERVICE_AT_LOCATION)
            continue
        # The most specific schedule wins: this service here, the service, the location.
        for hours, ref in ((sal_hours, key), (service_hours, service_id), (location_hours, loc_id)):
            if ref in hours:
                schedule = hours[ref]
                break
        else:
            schedule = None
        own = service_codes.get(service_id, none)
        if key in sal_codes:
            own = own | sal_codes[key]
        built.places.append(Place(key, service["name"], town, lat, lon, county, numbers, own, schedule))
    return built


def _keep_linked(reader: Reader, table: Table, column: str, target: Table) -> None:
    """Drop the rows of `table` whose `column` names no row of `target`, saying why that row is
    unknown: not in its file, or left out (and why)."""
    what, shown = column.removesuffix("_id"), reader.shown(table.name)
    for key, (line, row) in list(table.rows.items()):
        ref = row[column]
        if ref in target.rows:
            continue
        why = reader.why_dropped(target.name, ref)
        if why is not None:
            message, reason = f"its {what} '{ref}' was left out ({why}).", why.reason
        elif not target.present:
            message, reason = f"{column} '{ref}': {target.name} is missing.", f"{target.name} missing"
        else:
            message, reason = f"{column} '{ref}' is not in {target.name}.", f"{what} not in {target.name}"
        reader.bad(shown, line, message, reason, key=key, table=table.name)
        del table.rows[key]


def _place_locations(reader: Reader, locations: Table, addresses: Table, state: str,
                     zips: Mapping[str, ZipPlace]) -> dict[str, tuple]:
    """(lat, lon, town, county) of each location; lat None for one that is no place to go.
    Physical locations without usable coordinates or a known ZIP code are dropped."""
    physical: dict[str, tuple[int, dict[str, str]]] = {}
    shown = reader.shown(ADDRESSES)
    for key, (line, row) in addresses.rows.items():
        kind = row.get("address_type", "").lower()
        if kind not in ("", "physical", "postal", "virtual"):
            reader.bad(shown, line, f"address_type '{row['address_type']}' is not physical, postal or "
                       "virtual", "address_type unknown")
        elif kind in ("", "physical") and row["location_id"] in locations.rows:
            # An explicit physical address wins over one that does not say its type.
            earlier = physical.get(row["location_id"])
            if earlier is None or (kind and not earlier[1].get("address_type")):
                physical[row["location_id"]] = (line, row)
    bounds = state_bounds(state)
    found: dict[str, tuple] = {}
    shown_loc = reader.shown(LOCATIONS)
    for key, (line, row) in list(locations.rows.items()):
        kind = row.get("location_type", "").lower()
        if kind in ("postal", "virtual"):
            found[key] = (None, None, "", "")
            continue
        if kind not in ("", "physical"):
            reader.bad(shown_loc, line, f"location_type '{row['location_type']}' is not physical, postal or "
                       "virtual: read as physical", "location_type unknown", skipped=False)
        address = physical.get(key)
        postal = (address[1].get("postal_code", "") if address else "")
        zip_place = zips.get(postal[:5]) if postal[:5].isdigit() else None
        coords, problem = _coordinates(row, bounds, state)
        if coords is None and zip_place is None:
            said = ("it has no physical address" if address is None else
                    f"its physical address ({shown}:{address[0]}) has no postal_code" if not postal else
                    f"its physical address ({shown}:{address[0]}) has postal_code '{postal}', not a known ZIP code")
            reader.bad(shown_loc, line, f"{problem}, and {said}: a caller cannot be told where it is",
                       NO_PLACE, key=key, table=LOCATIONS)
            del locations.rows[key]
            continue
        if coords is None:
            if row.get("latitude") or row.get("longitude"):
                reader.bad(shown_loc, line, f"{problem}: placed by its ZIP code {zip_place.zip} instead",
                           "coordinates unusable", skipped=False)
            coords = (zip_place.lat, zip_place.lon)
        lat, lon = coords
        town = ((address[1].get("city", "") if address else "") or (zip_place.city if zip_place else "")
                or row.get("name", ""))
        found[key] = (lat, lon, town, zip_place.county if zip_place else "")
    return found


def _coordinates(row: Mapping[str, str], bounds, state: str) -> tuple[tuple[float, float] | None, str]:
    lat_text, lon_text = row.get("latitude", ""), row.get("longitude", "")
    if not lat_text and not lon_text:
        return None, "no latitude and longitude"
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None, f"latitude '{lat_text}' and longitude '{lon_text}' are not both numbers"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, f"latitude {lat_text}, longitude {lon_text} is no place on Earth"
    if bounds and not (bounds[0] <= lat <= bounds[1] and bounds[2] <= lon <= bounds[3]):
        return None, f"latitude {lat_text}, longitude {lon_text} is far outside {state} (swapped?)"
    return (lat, lon), ""


def _phones(reader: Reader, table: Table, links: Mapping[str, Table],
            region: str) -> dict[str, dict[str, list[Phone]]]:
    """Numbers by link column, then by what they are for."""
    found: dict[str, dict[str, list[Phone]]] = {column: defaultdict(list) for column in links}
    shown = reader.shown(PHONES)
    for key, (line, row) in table.rows.items():
        kind = phone_type(row.get("type", ""))
        if kind is None:
            continue  # fax, pager, video, textphone: not for a voice line, and not an error
        try:
            phone = parse_phone(row["number"], row.get("extension", ""), kind, region)
        except PhoneError as exc:
            reader.bad(shown, line, str(exc), "phone number unusable")
            continue
        for column, target in links.items():
            ref = row.get(column, "")
            if ref in target.rows:
                found[column][ref].append(phone)
            elif ref and not reader.why_dropped(target.name, ref):
                reader.bad(shown, line, f"{column} '{ref}' is not in {target.name}",
                           "phone links to nothing known", skipped=False)
        if not any(row.get(c) for c in (*links, "contact_id")):
            reader.bad(shown, line, "links to no service, location, organization or contact",
                       "phone links to nothing")
    return found


def _ordered(phones: list[Phone]) -> list[Phone]:
    """Each number once: numbers to call first (most specific first), then text-only ones."""
    seen, callable_, texts = set(), [], []
    for phone in phones:
        if (phone.number, phone.extension, phone.callable) not in seen:
            seen.add((phone.number, phone.extension, phone.callable))
            (callable_ if phone.callable else texts).append(phone)
    return callable_ + texts


def _schedules(reader: Reader, table: Table,
               links: Mapping[str, Table]) -> dict[str, dict[str, Schedule | None]]:
    """Schedules by link column, then by what they are for; None where a row's hours could not be
    read, so that a place is told without hours rather than with part of them."""
    rules: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    broken: set[tuple[str, str]] = set()
    shown = reader.shown(SCHEDULES)
    for key, (line, row) in table.rows.items():
        column = next((c for c in links if row.get(c)), None)
        if column is None:
            reader.bad(shown, line, "links to no service, location or service at location",
                       "schedule links to nothing")
            continue
        ref = row[column]
        if ref not in links[column].rows:
            if not reader.why_dropped(links[column].name, ref):
                reader.bad(shown, line, f"{column} '{ref}' is not in {links[column].name}",
                           "schedule links to nothing")
            continue
        try:
            rule = parse_rule(row)
        except ScheduleError as exc:
            reader.bad(shown, line, f"{exc}: its place is told to callers without hours", "hours unreadable",
                       skipped=False)
            broken.add((column, ref))
            continue
        if rule is not None:
            rules[(column, ref)].append(rule)
    found: dict[str, dict[str, Schedule | None]] = {column: {} for column in links}
    for (column, ref), found_rules in rules.items():
        found[column][ref] = Schedule(tuple(found_rules))
    for column, ref in broken:
        found[column][ref] = None
    return found


def _codes(reader: Reader, terms: Table, attributes: Table, tables: Mapping[str, Table],
           built: Built) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Taxonomy codes by service id and by service-at-location id (each set of codes made once:
    thousands of services share a few), and each code's parent codes (parent_id) into `built`."""
    code_of = {key: row.get("code", "") for key, (_line, row) in terms.rows.items()}
    built.codes = {code for code in code_of.values() if code}
    for key, (_line, row) in terms.rows.items():
        parent = code_of.get(row.get("parent_id", ""), "")
        if code_of[key] and parent:
            built.parents.setdefault(code_of[key], set()).add(parent)
    found: dict[str, dict[str, set[str]]] = {"service": defaultdict(set),
                                             "service_at_location": defaultdict(set)}
    shown = reader.shown(ATTRIBUTES)
    for key, (line, row) in attributes.rows.items():
        term = row["taxonomy_term_id"]
        if term not in terms.rows:
            if not reader.why_dropped(TAXONOMY_TERMS, term):
                where = f"it is not in {TAXONOMY_TERMS}" if terms.present else f"{TAXONOMY_TERMS} is missing"
                reader.bad(shown, line, f"taxonomy_term_id '{term}': {where}", "taxonomy term unknown")
            continue
        entity = _entity(row, tables)
        if entity is None:
            reader.bad(shown, line, f"link_entity '{row.get('link_entity', '')}' is not a table of the spec "
                       "(service, service_at_location, organization, location, ...)", "link_entity unknown")
        elif entity in found and code_of[term]:
            found[entity][row["link_id"]].add(code_of[term])
    shared: dict[frozenset[str], frozenset[str]] = {}

    def once(codes: set[str]) -> frozenset[str]:
        return shared.setdefault(frozenset(codes), frozenset(codes))

    return ({key: once(codes) for key, codes in found["service"].items()},
            {key: once(codes) for key, codes in found["service_at_location"].items()})


def _entity(row: Mapping[str, str], tables: Mapping[str, Table]) -> str | None:
    """The table an attribute describes: its link_entity, else (older exports) the table whose ids
    include link_id. Plural names (services) are read as the spec's singular."""
    written = row.get("link_entity", "").strip().lower()
    if written:
        written = _SINGULAR.get(written, written)
        return written if written in ENTITIES else None
    return next((entity for entity, name in _LOOKUP.items() if row["link_id"] in tables[name].rows), "unknown")
