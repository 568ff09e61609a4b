"""Where things are: every US ZIP code (the zipcodes package, offline), great-circle distances, and
the grid index that finds the nearest places in a few cells instead of a pass over all of them."""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Generic, Iterable, Mapping, Protocol, TypeVar

import zipcodes

EARTH_KM = 6371.0088
CELL_DEGREES = 0.25  # grid cell of the index: about 28 km north-south
#: Coordinates this far outside a state's ZIP codes are a mistake (swapped, or another place):
#: about 100 km, so services just across the state line still count.
STATE_MARGIN_DEGREES = 1.0


class Located(Protocol):
    lat: float
    lon: float
    name: str


T = TypeVar("T", bound=Located)


@dataclass(frozen=True)
class ZipPlace:
    zip: str
    lat: float
    lon: float
    county: str  # without " County"
    state: str
    city: str


class Grid(Generic[T]):
    """Items bucketed by CELL_DEGREES cells, searched ring by ring outwards from the caller."""

    def __init__(self, items: Iterable[T]):
        self.cells: dict[tuple[int, int], list[T]] = defaultdict(list)
        self.size = 0
        lat_max = 0.0
        for item in items:
            self.cells[cell(item.lat, item.lon)].append(item)
            self.size += 1
            lat_max = max(lat_max, abs(item.lat))
        # The farthest any item is from the equator bounds how narrow a cell can be.
        self.lat_max = lat_max

    def nearest(self, lat: float, lon: float, count: int) -> list[tuple[T, float]]:
        if not self.size:
            return []
        row, col = cell(lat, lon)
        # Every item outside ring r is at least r cells away: r times the narrowest cell side.
        widest_lat = min(89.0, max(self.lat_max, abs(lat)) + CELL_DEGREES)
        side_km = km(0, 0, CELL_DEGREES, 0) * math.cos(math.radians(widest_lat))
        found: list[tuple[float, T]] = []
        seen = 0
        for ring in range(int(360 / CELL_DEGREES)):
            for key in _ring(row, col, ring):
                for item in self.cells.get(key, ()):
                    found.append((km(lat, lon, item.lat, item.lon), item))
                    seen += 1
            found.sort(key=lambda pair: (pair[0], pair[1].name))
            del found[count:]
            if seen == self.size or (len(found) >= count and found[-1][0] <= ring * side_km):
                break
        return [(item, distance) for distance, item in found]


def cell(lat: float, lon: float) -> tuple[int, int]:
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


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, a)))


@lru_cache(maxsize=1)
def zip_table() -> Mapping[str, ZipPlace]:
    """Every US ZIP code, read once per process."""
    table = {}
    for z in zipcodes.list_all():
        try:
            lat, lon = float(z["lat"]), float(z["long"])
        except (TypeError, ValueError):
            continue
        county = re.sub(r"\s+County$", "", z.get("county") or "")
        table[z["zip_code"]] = ZipPlace(z["zip_code"], lat, lon, county, z["state"], z["city"])
    return MappingProxyType(table)


@lru_cache(maxsize=8)
def state_bounds(state: str) -> tuple[float, float, float, float] | None:
    """(south, north, west, east) around the state's ZIP codes, widened by STATE_MARGIN_DEGREES."""
    points = [(z.lat, z.lon) for z in zip_table().values() if z.state == state]
    if not points:
        return None
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    m = STATE_MARGIN_DEGREES
    return min(lats) - m, max(lats) + m, min(lons) - m, max(lons) + m


@lru_cache(maxsize=8)
def county_centres(state: str) -> Mapping[str, tuple[float, float]]:
    """Each county's centre: the mean of its ZIP codes."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for z in zip_table().values():
        if z.state == state and z.county:
            points[z.county].append((z.lat, z.lon))
    return MappingProxyType({c: (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
                             for c, pts in points.items()})
