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
CELL_DEGREES = 0.25  # the largest grid cell of the index: about 28 km north-south
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
    """Items bucketed in square cells, searched ring by ring outwards from the caller.

    The cell side adapts to how dense the items are (about PER_CELL to a cell), so a search reads a
    few dozen items whether a kind has 50 places in a state or 10,000.
    """

    PER_CELL = 6

    def __init__(self, items: Iterable[T], cell_degrees: float | None = None):
        items = list(items)
        self.size = len(items)
        self.side = cell_degrees or _cell_side(items, self.PER_CELL)
        # Per item: its radians and the cosine of its latitude, worked out once for every search.
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, int, T]]] = defaultdict(list)
        for number, item in enumerate(items):
            lat = math.radians(item.lat)
            entry = (lat, math.radians(item.lon), math.cos(lat), number, item)
            self.cells[self.cell(item.lat, item.lon)].append(entry)
        # The farthest any item is from the equator bounds how narrow a cell can be.
        self.lat_max = max((abs(item.lat) for item in items), default=0.0)
        rows, cols = [key[0] for key in self.cells], [key[1] for key in self.cells]
        self.box = (min(rows, default=0), max(rows, default=0), min(cols, default=0), max(cols, default=0))

    def cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.side), math.floor(lon / self.side)

    def nearest(self, lat: float, lon: float, count: int) -> list[tuple[T, float]]:
        if not self.size:
            return []
        row, col = self.cell(lat, lon)
        # Every item outside ring r is at least r cells away: r times the narrowest cell side.
        widest_lat = min(89.0, max(self.lat_max, abs(lat)) + self.side)
        side_km = km(0, 0, self.side, 0) * math.cos(math.radians(widest_lat))
        here_lat, here_lon = math.radians(lat), math.radians(lon)
        here_cos = math.cos(here_lat)
        found: list[tuple[float, str, int, T]] = []
        seen = 0
        sin, asin, sqrt = math.sin, math.asin, math.sqrt
        top, bottom, left, right = self.box
        # Rings that reach no cell with items are skipped (a caller far from every place).
        first = max(0, top - row, row - bottom, left - col, col - right)
        for ring in range(first, int(360 / self.side) + 1):
            for key in _ring(row, col, ring, self.box):
                for item_lat, item_lon, item_cos, number, item in self.cells.get(key, ()):
                    # km() with the radians and cosines worked out in advance (the haversine).
                    a = (sin((item_lat - here_lat) / 2) ** 2
                         + here_cos * item_cos * sin((item_lon - here_lon) / 2) ** 2)
                    found.append((2 * EARTH_KM * asin(sqrt(min(1.0, a))), item.name, number, item))
                    seen += 1
            if len(found) >= count:  # sorted before the test below reads the farthest kept
                found.sort()
                del found[count:]
            if seen == self.size or (len(found) >= count and found[-1][0] <= ring * side_km):
                break
        found.sort()
        return [(item, distance) for distance, _name, _number, item in found[:count]]


def _cell_side(items: list, per_cell: int) -> float:
    """A cell side (degrees) that puts about `per_cell` items in a cell of the area they cover."""
    if len(items) <= per_cell:
        return CELL_DEGREES
    lats, lons = [i.lat for i in items], [i.lon for i in items]
    area = max(max(lats) - min(lats), 0.01) * max(max(lons) - min(lons), 0.01)
    return min(CELL_DEGREES, max(0.01, math.sqrt(area * per_cell / len(items))))


def _ring(row: int, col: int, ring: int, box: tuple[int, int, int, int]) -> Iterable[tuple[int, int]]:
    """The cells `ring` cells away from (row, col), within `box` (top, bottom, left, right)."""
    top, bottom, left, right = box
    if ring == 0:
        yield row, col
        return
    first_col, last_col = max(col - ring, left), min(col + ring, right)
    for edge in (row - ring, row + ring):
        if top <= edge <= bottom:
            for c in range(first_col, last_col + 1):
                yield edge, c
    first_row, last_row = max(row - ring + 1, top), min(row + ring - 1, bottom)
    for edge in (col - ring, col + ring):
        if left <= edge <= right:
            for r in range(first_row, last_row + 1):
                yield r, edge


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
