"""Reading HSDS 3.0 tabular data (CSV files named as the specification's datapackage.json names
them) into rows, and the issues a data manager can act on.

The names below are our own constants, written from reading the spec's datapackage.json: each file
the line reads, the columns it cannot do without, and the old names exports still use. A file or
column the spec makes optional may be absent. A row's number is the line its record starts on
(a quoted field may span lines), and bytes that are not UTF-8 are reported at the row they are in.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Iterator

from .directory_schedule import TIME_COLUMNS

ORGANIZATIONS = "organizations.csv"
SERVICES = "services.csv"
LOCATIONS = "locations.csv"
SERVICE_AT_LOCATION = "service_at_location.csv"
ADDRESSES = "addresses.csv"
PHONES = "phones.csv"
SCHEDULES = "schedules.csv"
TAXONOMY_TERMS = "taxonomy_terms.csv"
ATTRIBUTES = "attributes.csv"

#: Without these no service has a place: the spec's core objects and the table that joins them.
REQUIRED_FILES = (ORGANIZATIONS, SERVICES, LOCATIONS, SERVICE_AT_LOCATION)
#: The spec lets an export leave out a file it has no rows for.
OPTIONAL_FILES = (ADDRESSES, PHONES, SCHEDULES, TAXONOMY_TERMS, ATTRIBUTES)
#: Names exports made before HSDS 3.0 fixed them, read as the spec's name.
ALIASES = {SERVICE_AT_LOCATION: ("service_at_locations.csv",)}
#: Columns the line cannot read a file without (the spec requires more; we need these).
NEEDED_COLUMNS = {
    ORGANIZATIONS: ("id", "name"),
    SERVICES: ("id", "organization_id", "name"),
    LOCATIONS: ("id",),
    SERVICE_AT_LOCATION: ("id", "service_id", "location_id"),
    ADDRESSES: ("id", "location_id"),
    PHONES: ("id", "number"),
    SCHEDULES: ("id",),
    TAXONOMY_TERMS: ("id",),
    ATTRIBUTES: ("id", "link_id", "taxonomy_term_id"),
}
#: The columns the line reads; the others of an export are skipped unread (a 50,000-service export
#: has millions of cells the line never uses).
READ_COLUMNS = {
    ORGANIZATIONS: ("id", "name"),
    SERVICES: ("id", "organization_id", "name", "status"),
    LOCATIONS: ("id", "location_type", "name", "latitude", "longitude"),
    SERVICE_AT_LOCATION: ("id", "service_id", "location_id"),
    ADDRESSES: ("id", "location_id", "city", "postal_code", "address_type"),
    PHONES: ("id", "service_at_location_id", "service_id", "location_id", "organization_id", "contact_id",
             "number", "extension", "type"),
    SCHEDULES: ("id", "service_at_location_id", "service_id", "location_id", *TIME_COLUMNS),
    TAXONOMY_TERMS: ("id", "code", "parent_id"),
    ATTRIBUTES: ("id", "link_id", "taxonomy_term_id", "link_entity"),
}
#: The spec's figures write an empty value as `null` (its mapping guidance allows it in CSV).
NULL = "null"


@dataclass(frozen=True)
class Issue:
    """Something in the export a data manager can fix, at `file:line` (the record's first line).

    `reason` is short and shared by every issue of its kind, for the summary's counts; `skipped`
    says the row was left out (False: the row is kept and only the named value is not used).
    """

    file: str
    line: int
    message: str
    reason: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Table:
    """One file's good rows by id, each with the line its record starts on."""

    name: str
    present: bool
    columns: tuple[str, ...] = ()
    rows: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    read: int = 0  # records read, good or bad


class Reader:
    """Reads the files of one export folder and collects every issue."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.issues: list[Issue] = []
        self.notes: list[str] = []  # what the summary should say about the files themselves
        #: Rows left out, by file and id, with why: a row that names one can say why it is unknown.
        self.dropped: dict[str, dict[str, Issue]] = {}
        self._paths: dict[str, Path | None] = {}  # found once: issues name the file row after row

    def bad(self, name: str, line: int, message: str, reason: str, skipped: bool = True,
            key: str | None = None, table: str | None = None) -> Issue:
        """Record an issue; with `key`, remember that row `key` of `table` (default: the file) was
        left out and why."""
        issue = Issue(name, line, message, reason, skipped)
        self.issues.append(issue)
        if skipped and key:
            self.dropped.setdefault(table or name, {}).setdefault(key, issue)
        return issue

    def shown(self, name: str) -> str:
        """The file's name as the export spells it (an old alias, if that is what it has)."""
        path = self.path(name)
        return path.name if path else name

    def path(self, name: str) -> Path | None:
        """The export's file for `name`: the spec's name, else an old alias; None if it has neither."""
        if name not in self._paths:
            self._paths[name] = next((self.folder / candidate for candidate in (name, *ALIASES.get(name, ()))
                                      if (self.folder / candidate).is_file()), None)
        return self._paths[name]

    def table(self, name: str, needed: tuple[str, ...] = ()) -> Table:
        """The file's rows with an id, each id once; rows missing a `needed` value are dropped."""
        path = self.path(name)
        if path is None:
            if name in REQUIRED_FILES:
                self.bad(name, 1, "file is missing: without it no service has a place to tell callers "
                         "about", "required file missing")
            else:
                self.notes.append(f"{name} is not in the export (the spec lets it be left out)")
            return Table(name, False)
        shown = path.name
        text, bad_lines = _decoded(path)
        records = _records(text, bad_lines, shown, self)  # one pass: each record is read as it is used
        first = next(records, None)
        if first is None:
            self.bad(shown, 1, "is empty: it needs at least its header row", "file unreadable")
            return Table(name, True)
        header_line, header = first
        if header is None:
            return Table(name, True)  # its header row is not UTF-8: _records said so
        columns = tuple(column.strip().lstrip("\ufeff").lower() for column in header)
        missing = [c for c in NEEDED_COLUMNS[name] if c not in columns]
        if missing:
            self.bad(shown, header_line, f"has no column {', '.join(missing)} (its header row is: "
                     f"{','.join(columns)[:200]})", "column missing")
            return Table(name, True, columns)
        table = Table(name, True, columns)
        wanted = [c for c in READ_COLUMNS[name] if c in columns]
        indexes = [columns.index(c) for c in wanted]
        pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda values, i=indexes[0]: (values[i],))
        width, required, rows, strip = len(columns), ("id", *needed), table.rows, str.strip
        has_null, read = NULL in text, 0
        for line, values in records:
            read += 1
            if values is None:
                continue  # reported by _records
            if len(values) < width:
                values = values + [""] * (width - len(values))
            row = dict(zip(wanted, map(strip, pick(values))))
            if has_null and NULL in row.values():
                row = {c: "" if v == NULL else v for c, v in row.items()}
            key = row["id"]
            if not all(map(row.__getitem__, required)):
                empty = [c for c in required if not row[c]]
                self.bad(shown, line, f"empty {', '.join(empty)}", f"empty {' and '.join(empty)}",
                         key=key, table=name)
            elif key in rows:
                self.bad(shown, line, f"id '{key}' repeats row {rows[key][0]}", "repeated id")
            else:
                rows[key] = (line, row)
        table.read = read
        return table

    def why_dropped(self, name: str, key: str) -> Issue | None:
        return self.dropped.get(name, {}).get(key)


def _decoded(path: Path) -> tuple[str, dict[int, str]]:
    """The file's text, and the lines that are not UTF-8 (replaced, with the offending byte)."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), {}
    except UnicodeDecodeError:
        return _decode_by_line(data)


def _records(text: str, bad_lines: dict[int, str], shown: str,
             reader: Reader) -> Iterator[tuple[int, list[str] | None]]:
    """(first line, values) for each CSV record, header first; (line, None) for a record with bytes
    that are not UTF-8, reported once each (the record is dropped, not guessed at)."""
    rows = csv.reader(io.StringIO(text, newline=""))
    previous = 0
    try:
        for values in rows:
            first, previous = previous + 1, rows.line_num
            if not values:
                continue
            broken = bad_lines and next((bad_lines[n] for n in range(first, previous + 1)
                                         if n in bad_lines), None)
            if broken:
                reader.bad(shown, first, f"is not UTF-8 text ({broken}): save the file as UTF-8 "
                           "(in Excel: Save As, CSV UTF-8)", "not UTF-8")
                yield first, None
            else:
                yield first, values
    except csv.Error as exc:
        reader.bad(shown, previous + 1, f"cannot be read as CSV ({exc}); the rows after it are not read",
                   "not CSV")


def _decode_by_line(data: bytes) -> tuple[str, dict[int, str]]:
    """Decode line by line; lines that are not UTF-8 are replaced and remembered with their byte."""
    parts, bad = [], {}
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            parts.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad[number] = f"byte 0x{raw[exc.start]:02X} at column {exc.start + 1}"
            parts.append(raw.decode("utf-8", errors="replace"))
    return "".join(parts), bad
