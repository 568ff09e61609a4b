"""A directory of services near the caller, read from Open Referral HSDS 3.0 tabular data.

HSDS is what 2-1-1 systems exchange, so a program loads its 2-1-1's export (a folder of CSV files)
instead of typing listings. Loading reads the files as the spec's datapackage.json names them
(ivr/directory_hsds.py), keeps every row that can help a caller and reports each other one as
`file:row: message` (ivr/directory_places.py). The places become an index built once: a search
names one or more taxonomy codes and finds the places whose terms are those codes or descend from
them, nearest first. No Flask here.
"""
from __future__ import annotations

import gc
import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .directory_geo import Grid, ZipPlace, county_centres, zip_table
from .directory_hsds import ALIASES, OPTIONAL_FILES, REQUIRED_FILES, Issue, Reader
from .directory_phone import Phone
from .directory_places import Place, build_places
from .directory_schedule import Schedule

#: Marks the shipped sample, so a production line refuses to read it to callers.
SAMPLE_MARKER = "SAMPLE_DATA.txt"
#: Written by `ivr directory import`: what it checked, so a later load can tell a cut-short file.
MANIFEST = "IMPORTED.json"
#: Issues that make a whole file unusable: the export is broken, and nothing of it is used.
FATAL = ("required file missing", "column missing", "file unreadable", "not CSV")
#: The reason of the issue that says why a folder was refused as a whole.
REFUSED = "refused"
#: A load keeping less than this share of what the import checked is refused.
KEEP_AT_LEAST = 0.5
# AIRS/211 taxonomy codes name their parents: RX-8470.1900-610 is under RX-8470.1900, RX-8470, RX.
_AIRS = re.compile(r"^[A-Z]{1,2}(-\d{4}(\.\d{4}(-\d{3}(\.\d{2,3})?)?)?)?$")
_AIRS_PARENT = re.compile(r"^(.*)[.-]\d+$")

__all__ = ["Directory", "Issue", "Phone", "Place", "Schedule", "ZipPlace", "load_directory", "read_directory",
           "REQUIRED_FILES", "OPTIONAL_FILES", "SAMPLE_MARKER", "MANIFEST"]


def code_key(code: str) -> str:
    """Codes match whatever their case: a flow's `rx-8470` finds the data's `RX-8470`."""
    return code.strip().casefold()


def airs_parents(code: str) -> list[str]:
    """The codes above an AIRS/211 code, nearest first (none for a code of another shape)."""
    code = code.strip().upper()
    if not _AIRS.match(code):
        return []
    found = []
    while (match := _AIRS_PARENT.match(code)) is not None:
        code = match.group(1)
        found.append(code)
    if len(code) == 2:
        found.append(code[0])
    return found


def _as_codes(codes: str | Iterable[str]) -> list[str]:
    return [code_key(codes)] if isinstance(codes, str) else [code_key(c) for c in codes]


@dataclass
class Measures:
    """How much of the directory can serve callers; LABELS are what a load must not lose unsaid."""

    places: int
    with_number: int     # places with a number to call
    findable: int        # places with a taxonomy code (a search can find them)
    visit: int = 0       # places to go to (the others help by phone)
    with_hours: int = 0  # places with opening hours

    LABELS = {"places": "places", "with_number": "places with a number to call",
              "findable": "places with a taxonomy code a search can find"}

    @classmethod
    def of(cls, places: Sequence[Place]) -> "Measures":
        return cls(len(places), sum(place.phone is not None for place in places),
                   sum(bool(place.codes) for place in places), sum(place.visit for place in places),
                   sum(place.schedule is not None for place in places))

    def losses(self, before: "Measures") -> list[str]:
        """What this keeps less than KEEP_AT_LEAST of, compared with `before`."""
        return [f"{getattr(self, name):,} {label} against {getattr(before, name):,}"
                for name, label in self.LABELS.items()
                if getattr(self, name) < getattr(before, name) * KEEP_AT_LEAST]


@dataclass
class Directory:
    """The loaded directory for one state: places by taxonomy code, ZIP codes, county centres."""

    state: str
    places: tuple[Place, ...]
    sample: bool
    kinds: frozenset[str]  # codes a search may name: the data's, as written, and the AIRS codes above
    zips: Mapping[str, ZipPlace]
    county_centres: Mapping[str, tuple[float, float]]
    parents: Mapping[str, Iterable[str]] = field(default_factory=dict)  # code -> parent codes (parent_id)
    _grids: dict[str, Grid[Place]] = field(default_factory=dict, repr=False)
    _by_code: dict[str, list[Place]] = field(default_factory=dict, repr=False)  # every place, by code

    def __post_init__(self) -> None:
        parents = {code_key(c): {code_key(p) for p in ps} for c, ps in self.parents.items()}
        ancestors: dict[str, set[str]] = {}
        by_code: dict[str, list[Place]] = defaultdict(list)
        for place in self.places:
            keys = set()
            for code in place.codes:
                keys |= _lineage(code_key(code), parents, ancestors)
            for key in keys:
                by_code[key].append(place)
        self._by_code = dict(by_code)
        self._grids = {key: Grid(p for p in places if p.visit) for key, places in by_code.items()}

    def locate(self, zip_code: str) -> ZipPlace | None:
        return self.zips.get(zip_code)

    def in_state(self, zip_place: ZipPlace) -> bool:
        return zip_place.state == self.state

    def nearest(self, codes: str | Iterable[str], lat: float, lon: float,
                count: int = 3) -> list[tuple[Place, float]]:
        """The `count` nearest places to visit whose terms are any of `codes` or descend from one
        (taxonomy_terms.parent_id, or an AIRS/211 code's structure), with their distance in km."""
        found: dict[str, tuple[Place, float]] = {}
        for key in _as_codes(codes):
            grid = self._grids.get(key)
            for place, distance in (grid.nearest(lat, lon, count) if grid else ()):
                found[place.id] = (place, distance)
        return sorted(found.values(), key=lambda pair: (pair[1], pair[0].name))[:count]

    def near_zip(self, codes: str | Iterable[str], zip_code: str, count: int = 3) -> list[tuple[Place, float]]:
        where = self.zips[zip_code]
        return self.nearest(codes, where.lat, where.lon, count)

    def in_county(self, codes: str | Iterable[str], county: str, count: int = 3) -> list[tuple[Place, float]]:
        """Nearest to the county's centre (the mean of its ZIP codes)."""
        lat, lon = self.county_centres[county]
        return self.nearest(codes, lat, lon, count)

    def by_phone(self, codes: str | Iterable[str]) -> list[Place]:
        """Places of those codes that are no place to go (virtual or postal locations) but can be
        called, by name."""
        found = {p.id: p for key in _as_codes(codes) for p in self._by_code.get(key, ()) if not p.visit}
        return sorted(found.values(), key=lambda p: p.name)

    def count(self, codes: str | Iterable[str]) -> int:
        """How many places (to visit or by phone) a search for `codes` can find."""
        return len({p.id for key in _as_codes(codes) for p in self._by_code.get(key, ())})

    def common_codes(self, top: int = 20) -> list[tuple[str, int]]:
        """The codes most places have, as written, with how many: what a search could name."""
        return Counter(code for place in self.places for code in place.codes).most_common(top)

    @cached_property
    def measures(self) -> Measures:
        """What the directory holds, counted once (an import and a reload compare it several times)."""
        return Measures.of(self.places)


def _nameable(codes: Iterable[str]) -> frozenset[str]:
    """The data's codes and the AIRS/211 codes above them: a search for RX-8470 is one the data
    can answer when it has RX-8470.1900-610, though no term is written RX-8470."""
    return frozenset({*codes, *(parent for code in codes for parent in airs_parents(code))})


def _lineage(key: str, parents: Mapping[str, set[str]], memo: dict[str, set[str]]) -> set[str]:
    """The code and every code above it."""
    if key in memo:
        return memo[key]
    memo[key] = {key}  # a parent_id loop in the data must not loop here
    found = {key, *(code_key(p) for p in airs_parents(key))}
    for parent in parents.get(key, ()):
        found |= _lineage(parent, parents, memo)
    memo[key] = found
    return found


@dataclass
class Loaded:
    """A folder read: the directory (None when refused), every issue, and notes on the files."""

    directory: Directory | None
    issues: list[Issue]
    notes: list[str]
    read: dict[str, int]  # records read per file the export has


def read_directory(folder: Path, state: str) -> Loaded:
    """Read and check an HSDS folder. The directory is None, with the issue saying why, when a
    file is unusable, no place is left, or the folder keeps less than half of what `ivr directory
    import` checked into it (its MANIFEST): a file cut short must not empty the line's directory.

    The last folder read is remembered by its files' contents, so checking the whole line with a
    folder just read (as the import does), or reloading the line after a menu edit, does not read
    it again.
    """
    folder = Path(folder)
    key = (str(folder.resolve()), state, _fingerprint(folder))
    if _LAST and _LAST[0] == key:
        return _LAST[1]
    reader = Reader(folder)
    enabled = gc.isenabled()
    gc.disable()  # hundreds of thousands of new objects, none of them garbage: collections only cost
    try:
        built = build_places(reader, state, zip_table())
        issues = _in_file_order(reader.issues)
        fatal = next((issue for issue in issues if issue.reason in FATAL), None)
        directory = None if fatal else Directory(state, tuple(built.places), (folder / SAMPLE_MARKER).exists(),
                                                 _nameable(built.codes), zip_table(), county_centres(state),
                                                 built.parents)
    finally:
        if enabled:
            gc.enable()
    read = {reader.shown(name): table.read for name, table in built.tables.items() if table.present}
    refusal = f"{fatal}: the export is not read" if fatal else None
    if directory is not None and not directory.places:
        refusal = "no place a caller can be told about is left (see the rows above)"
    elif directory is not None and (before := read_manifest(folder)) is not None:
        lost = directory.measures.losses(before)
        if lost:
            refusal = (f"only {'; '.join(lost)} when it was imported: a file cut short or replaced by "
                       "hand? Import it again with `ivr directory import`")
    if refusal:
        issues.append(Issue(folder.name + "/", 1, refusal + ". Refused.", REFUSED, skipped=False))
        directory = None
    loaded = Loaded(directory, issues, reader.notes, read)
    _LAST[:] = [key, loaded]
    return loaded


_LAST: list = []


def _fingerprint(folder: Path) -> tuple:
    """Names and content hashes of the folder's files (times alone miss a rewrite within a tick)."""
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return ()
    return tuple((p.name, hashlib.blake2b(p.read_bytes(), digest_size=16).digest()) for p in files)


def load_directory(folder: Path, state: str) -> tuple[Directory | None, list[Issue]]:
    """Read and check an HSDS folder: the directory (None when it cannot serve) and every issue,
    each with `file`, `line` and `message`."""
    loaded = read_directory(folder, state)
    return loaded.directory, loaded.issues


def read_manifest(folder: Path) -> Measures | None:
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
        return Measures(int(data["places"]), int(data["with_number"]), int(data["findable"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_manifest(folder: Path, directory: Directory, source: str, when: str) -> None:
    measures = directory.measures
    data = {"imported_from": source, "imported_at": when, **asdict(measures)}
    (Path(folder) / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _in_file_order(issues: list[Issue]) -> list[Issue]:
    order = {alias: i for i, name in enumerate((*REQUIRED_FILES, *OPTIONAL_FILES))
             for alias in (name, *ALIASES.get(name, ()))}
    return sorted(issues, key=lambda i: (order.get(i.file, len(order)), i.line))

