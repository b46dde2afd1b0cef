"""Source (名单来源): a list file read as rows — CSV, XLSX, XML, JSON, NDJSON — where stage 1
(:mod:`interop.inbound.layout`) found them. A CSV list whose lines are its records is
cut into parts that worker processes read on their own; any other file is one part.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from interop._errors import InputError
from interop.i18n import N_
from interop.inbound.workbook import column_letter, open_workbook

FORMATS = ("csv", "xlsx", "xml", "json", "ndjson")
_SUFFIX = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xml": "xml", ".json": "json"}
_SUFFIX |= {".ndjson": "ndjson", ".jsonl": "ndjson"}
_SAMPLE = 1 << 20
_BLOCK = 8 << 20
#: The longest cell taken in (the csv module's own limit); a longer one quarantines its row.
MAX_CELL = 131_072
#: What the csv module may read of one cell before giving up on the file.
_CSV_FIELD_LIMIT = 1 << 26
#: Excel's day 0 for serial dates (1900 date system, after its 1900-02-29).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
#: Encodings whose byte 0x0A is only ever a line end (a part cut there holds whole rows).
_SPLITTABLE = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "ascii"}

# Why a row is quarantined before it is mapped.
LONG_ROW = N_("the row has {cells} cells, the header {width}: extra cells {extra}")
LONG_CELL = N_("{column}: the cell holds {size} characters, more than {limit}")
ID_AS_NUMBER = N_(
    "{column}: stored as a number by Excel: digits lost (format the column as text and "
    "export again)"
)
SHORT_ROW = N_("the row is cut short: {cells} of {width} columns, missing {missing}")
COLUMN_N = N_("column {n}")
LINE_NOT_JSON = N_("the line is not valid JSON")
# Why the file cannot be read at all (the file name first; said through interop.i18n.errors).
NO_FORMAT = N_("{file}: cannot tell the format from the file name; give --format ({formats})")
UNKNOWN_FORMAT = N_("unknown format '{format}': use one of {formats}")
NOT_TEXT = N_("{file}: the text is neither UTF-8 nor GBK/GB18030; give --encoding")
NOT_ENCODED = N_("{file}: row {row} is not valid {encoding} text; give the right --encoding")
NOT_CSV = N_("{file}: row {row} is not valid CSV ({error})")
UNREADABLE = N_("{file}: cannot read the file ({error})")
UNKNOWN_ENCODING = N_("unknown encoding '{encoding}'")
NO_FILE = N_("{file}: no such file")
NOT_XML = N_("{file}: not well-formed XML at line {line} (after record {record})")
NOT_JSON = N_("{file}: not valid JSON{where}")
AT_LINE = N_(" at line {line}")
NO_RECORDS = N_("{file}: expected a JSON array of records or an object holding one")
# What stage 1 tells the operator.
SKIPPED = N_("row {row}: skipped (above the header: a title, a note or a blank row)")
MERGED = N_(
    "cells {cells} are merged: only their first row holds the value (a column the mapping "
    "marks fill_down takes it on every row; otherwise the other rows read it as empty)"
)
SYNONYM = N_("column {found} read as {name} (a synonym in the mapping)")


@dataclass(frozen=True, slots=True)
class Part:
    """The file from byte ``start``, its first row numbered ``first``; ``lines``: how many
    lines it holds (None: the rest of the file, read record by record)."""

    start: int
    first: int
    lines: int | None = None


#: Whether to read the row numbered so whose record is these bytes (see :meth:`FileSource.rows`).
Take = Callable[[int, bytes], bool]


@dataclass(slots=True)
class RawRow:
    """One record as read: the number an officer would look for (the spreadsheet row, the
    header being row 1; else the record or line), its cells, its bytes (what its digest is
    of: a CSV line as in the file, else its cells as JSON), what makes it unusable."""

    number: int
    values: dict[str, str]
    raw: bytes
    problem: tuple[str, ...] | None = None  # (code, plain message[, column])


@dataclass(slots=True)
class Layout:
    """What stage 1 found (版式): where the list is in the file and what its columns are."""

    format: str
    encoding: str | None
    sheet: str | None
    header_row: int  # the spreadsheet row (or line) of the header, 1-based
    found: list[str]  # the header cells as in the file
    header: list[str]  # each column as the rows are keyed: the mapping's name, else as found
    matched: dict[str, str]  # mapping column → header cell it was found under
    skipped: list[int] = field(default_factory=list)  # rows above the header with text
    merged: list[str] = field(default_factory=list)  # merged cells below the header (A3:A5)
    id_columns: frozenset[str] = frozenset()
    date_columns: frozenset[str] = frozenset()
    fill_down: frozenset[str] = frozenset()

    @property
    def renames(self) -> dict[str, str]:
        """Header cell → the mapping's name, where they differ (a synonym)."""
        return {f: h for f, h in zip(self.found, self.header, strict=True) if f.strip() != h}

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("format", "encoding", "sheet", "header_row")}
        out |= {"columns": self.header, "matched": self.matched, "skipped_rows": self.skipped}
        return out | {"merged_cells": self.merged}

    def notes(self) -> list[str]:
        """Information lines for the operator (rows skipped, columns found by a synonym)."""
        out = [SKIPPED.format(row=n) for n in self.skipped]
        out += [MERGED.format(cells=ref) for ref in self.merged]
        return out + [SYNONYM.format(found=f.strip(), name=n) for f, n in self.renames.items()]


def unreadable(path: Path, exc: OSError) -> InputError:
    return InputError(UNREADABLE.format(file=path, error=exc.strerror), code="E101")


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """While ``path`` is read: an OSError is :func:`unreadable`."""
    try:
        yield
    except OSError as exc:
        raise unreadable(path, exc) from None


def detect_format(path: Path, fmt: str | None = None) -> str:
    found = fmt or _SUFFIX.get(path.suffix.lower())
    if found in FORMATS:
        return str(found)
    formats = ", ".join(FORMATS)
    msg = UNKNOWN_FORMAT.format(format=fmt, formats=formats) if fmt else None
    raise InputError(msg or NO_FORMAT.format(file=path.name, formats=formats), code="E130")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    with reading(path), path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        with suppress(UnicodeDecodeError):
            codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) < _SAMPLE)
            return encoding
    raise InputError(NOT_TEXT.format(file=path.name), code="E131")


def cell_text(value: Any) -> str:
    """A spreadsheet or JSON value as text (dates as YYYY-MM-DD, 2.0 as 2)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class FileSource:
    """A list file, readable any number of times, by parts."""

    def __init__(
        self, path: Path | str, *, fmt: str | None = None, encoding: str | None = None
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(NO_FILE.format(file=self.path), code="E101")
        self.format = detect_format(self.path, fmt)
        self.options: dict[str, Any] = {}  # the mapping's reader options for the format
        self.encoding = encoding
        if self.format == "csv" and encoding is None:
            self.encoding = detect_encoding(self.path)
        elif encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise InputError(UNKNOWN_ENCODING.format(encoding=encoding), code="E131") from None
        self.layout: Layout | None = None  # what stage 1 found (interop.inbound.layout)

    def rows(self, part: Part, take: Take | None = None) -> Iterator[RawRow]:
        """The rows of ``part`` that ``take(number, bytes)`` takes (None: every row). A CSV
        list read line by line asks before it decodes a line: a row not taken costs its
        read only. A row that cannot be used is always taken."""
        if self.format == "csv":
            rows = self._csv(part, take)
        else:
            reader = {"xlsx": self._xlsx, "xml": self._xml, "json": self._json}
            rows = reader.get(self.format, self._ndjson)()
            names = self.layout.renames if self.layout is not None else {}
            if names and self.format != "xlsx":  # (fields named by a synonym: the mapping's)
                rows = (
                    replace(r, values={names.get(k, k): v for k, v in r.values.items()})
                    for r in rows
                )
        return rows if self.format == "csv" and part.lines is not None else taken(rows, take)

    def parts(self, part_bytes: int) -> tuple[list[Part], int]:
        """The list cut at line ends into parts of about ``part_bytes``, and the lines below
        the header; or the whole file as one part (lines: 0). Only a CSV list whose lines
        are its records is cut: no quote (a quoted cell may hold a line end), no NUL, no
        lone carriage return, an encoding whose byte ``\\n`` is only ever a line end."""
        whole = [Part(0, 1)], 0
        delimiter = str(self.options.get("delimiter", ","))
        if self.format != "csv" or self.encoding is None or len(delimiter) != 1:
            return whole
        if codecs.lookup(self.encoding).name not in _SPLITTABLE:
            return whole
        at = self.layout.header_row if self.layout is not None else 1
        out: list[Part] = []
        with reading(self.path), self.path.open("rb") as fh:
            for _ in range(at):  # (the header and the lines above it)
                line = fh.readline()
                if not line.endswith(b"\n") or b'"' in line:
                    return whole
            start = pos = fh.tell()
            first, seen, tail = at + 1, 0, b""  # seen: line ends from start to pos
            while block := fh.read(_BLOCK):
                if b'"' in block or b"\x00" in block or _lone_cr(tail + block):
                    return whole
                tail, i = block[-1:], 0
                while (cut := block.find(b"\n", max(i, start + part_bytes - pos))) >= 0:
                    seen += block.count(b"\n", i, cut + 1)
                    out.append(Part(start, first, seen))
                    first, seen, start, i = first + seen, 0, pos + cut + 1, cut + 1
                seen += block.count(b"\n", i)
                pos += len(block)
        if tail == b"\r":
            return whole
        if last := seen + (tail not in (b"", b"\n")):
            out.append(Part(start, first, last))
        return out, first + last - at - 1

    def _csv(self, part: Part, take: Take | None) -> Iterator[RawRow]:
        assert self.encoding is not None and self.layout is not None
        header, at, encoding = list(self.layout.header), self.layout.header_row, self.encoding
        if part.start and codecs.lookup(encoding).name == "utf-8-sig":
            encoding = "utf-8"  # (the byte-order mark is on the first line only)
        if csv.field_size_limit() < _CSV_FIELD_LIMIT:
            csv.field_size_limit(_CSV_FIELD_LIMIT)  # (a longer cell quarantines its row only)
        sep = self.options.get("delimiter", ",")
        number = part.first - 1
        try:
            with reading(self.path), self.path.open("rb", buffering=1 << 16) as fh:  # (fewer reads)
                fh.seek(part.start)
                if part.lines is None:  # (a record may span lines: read them all in turn)
                    text = io.TextIOWrapper(fh, encoding=encoding, newline="")
                    for number, cells in enumerate(csv.reader(text, delimiter=sep), part.first):
                        if number > at and (row := csv_row(number, header, cells)):
                            yield row
                    return
                # one record a line: only the lines taken are decoded and parsed
                numbers, raws, lines = [], [], []
                for number, line in enumerate(itertools.islice(fh, part.lines), part.first):
                    if take is None or take(number, line):
                        numbers.append(number)
                        raws.append(line)
                        lines.append(line.decode(encoding))
                records = csv.reader(lines, delimiter=sep)
                for number, raw, cells in zip(numbers, raws, records, strict=True):
                    if row := csv_row(number, header, cells, raw):
                        yield row
        except UnicodeDecodeError:
            bad = number if part.lines is not None else self._bad_line(part)
            msg = NOT_ENCODED.format(file=self.path.name, row=bad, encoding=self.encoding)
            raise InputError(msg, code="E131") from None
        except csv.Error as exc:
            msg = NOT_CSV.format(file=self.path.name, row=number + 1, error=exc)
            raise InputError(msg, code="E132") from None

    def _bad_line(self, part: Part) -> int:
        """The line of ``part`` with the first byte the encoding does not allow."""
        with self.path.open("rb") as fh:
            fh.seek(part.start)
            for number, line in enumerate(fh, start=part.first):
                try:
                    line.decode(self.encoding or "utf-8")
                except UnicodeDecodeError:
                    return number
        return part.first

    def _xlsx(self) -> Iterator[RawRow]:
        """Cells as text, by what the mapping says a column holds: an ID column's number is
        no ID (Excel keeps 15 digits of 18: the row is quarantined, never keyed by what is
        left); a date column's number is a serial date; a column filled down takes the
        value above when empty (a merged cell reads as its first row only)."""
        assert self.layout is not None
        layout, header, above = self.layout, list(self.layout.header), dict[str, str]()
        book = open_workbook(self.path)
        try:
            sheet = book[layout.sheet] if layout.sheet else book.worksheets[0]  # (found by stage 1)
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number <= layout.header_row:
                    continue
                values: dict[str, str] = {}
                problem: tuple[str, ...] | None = None
                for col, v in zip(header, cells, strict=False):
                    number_cell = isinstance(v, int | float) and not isinstance(v, bool)
                    if number_cell and col in layout.id_columns:
                        problem = problem or ("id-as-number", ID_AS_NUMBER.format(column=col), col)
                        values[col] = ""
                    elif number_cell and col in layout.date_columns and 0 < v < 2_958_466:
                        values[col] = (_EXCEL_EPOCH + dt.timedelta(days=int(v))).isoformat()
                    else:
                        values[col] = cell_text(v)
                texts = [cell_text(v) for v in cells]
                if not any(x.strip() for x in [*values.values(), *texts[len(header) :]]):
                    continue  # blank row
                for col in layout.fill_down:
                    if values.get(col, "").strip():
                        above[col] = values[col]
                    elif col in above:
                        values[col] = above[col]
                problem = problem or _width_problem(header, texts)
                yield RawRow(number, values, cells_raw(values), problem)
        finally:
            book.close()

    def _xml(self) -> Iterator[RawRow]:
        from lxml import etree

        record_tag, number, depth = self.options.get("record"), 0, 0
        try:  # (no entities resolved, no network, no huge trees: XXE and entity bombs)
            for event, elem in etree.iterparse(
                str(self.path), events=("start", "end"), resolve_entities=False, no_network=True
            ):
                depth += 1 if event == "start" else -1
                tag = etree.QName(elem).localname if isinstance(elem.tag, str) else None
                if event == "start" or not (tag == record_tag if record_tag else depth == 1):
                    continue
                number += 1
                values = dict(elem.attrib)
                for child in elem:
                    if isinstance(child.tag, str):
                        values[etree.QName(child).localname] = (child.text or "").strip()
                yield RawRow(number, values, cells_raw(values))
                elem.clear()
                while (parent := elem.getparent()) is not None and elem.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as exc:
            msg = NOT_XML.format(file=self.path.name, line=exc.lineno, record=number)
            raise InputError(msg, code="E134") from None
        except OSError as exc:
            raise unreadable(self.path, exc) from None

    def _json(self) -> Iterator[RawRow]:
        try:
            data = json.loads(self.path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = AT_LINE.format(line=exc.lineno) if hasattr(exc, "lineno") else ""
            msg = NOT_JSON.format(file=self.path.name, where=where)
            raise InputError(msg, code="E135") from None
        records = records_of(data, self.options.get("records"))
        if records is None:
            raise InputError(NO_RECORDS.format(file=self.path.name), code="E135")
        for number, rec in enumerate(records, start=1):
            yield object_row(number, rec)

    def _ndjson(self) -> Iterator[RawRow]:
        with reading(self.path), self.path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield object_row(number, json.loads(line))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    yield RawRow(number, {}, line, ("malformed", LINE_NOT_JSON))


def _lone_cr(data: bytes) -> bool:
    """Whether a carriage return does not start a line end (one at the very end may)."""
    crs = data.count(b"\r") if b"\r" in data else 0  # (none in LF lists: one memchr)
    return crs != 0 and crs - data.endswith(b"\r") != data.count(b"\r\n")


def _width_problem(header: list[str], cells: list[str]) -> tuple[str, ...] | None:
    """Why a row whose cells fit no header is quarantined: more cells, or one too long."""
    width = len(header)
    if extra := [i for i in range(width, len(cells)) if cells[i].strip()]:
        shown = ", ".join(column_letter(i) for i in extra[:5])
        return ("long-row", LONG_ROW.format(cells=len(cells), width=width, extra=shown))
    for i, c in enumerate(cells):
        if len(c) > MAX_CELL:
            col = header[i] if i < width else COLUMN_N.format(n=i + 1)
            msg = LONG_CELL.format(column=col, size=len(c), limit=MAX_CELL)
            return ("cell-too-long", msg, col)
    return None


def taken(rows: Iterable[RawRow], take: Take | None) -> Iterator[RawRow]:
    """The rows ``take`` takes (None: every row), and every row that cannot be used."""
    return (r for r in rows if take is None or r.problem is not None or take(r.number, r.raw))


def cells_raw(values: dict[str, str]) -> bytes:
    """A record's bytes when it is not a line of the file: its cells as JSON."""
    return orjson.dumps(values)


def csv_row(
    number: int, header: list[str], cells: list[str], raw: bytes | None = None
) -> RawRow | None:
    """The row of a CSV record under ``header`` (``raw``: its line, if it is one): cut
    short, too long, or None for a blank line."""
    width = len(header)
    values = dict(zip(header, cells, strict=False))
    raw = cells_raw(values) if raw is None else raw
    if len(cells) == width:  # (nearly every row: one long cell is the only thing to look for)
        long = len(raw) > MAX_CELL and max(map(len, cells)) > MAX_CELL  # (a byte ≤ a character)
        return RawRow(number, values, raw, _width_problem(header, cells) if long else None)
    if not any(c.strip() for c in cells):
        return None  # blank line
    if len(cells) < width:
        missing = header[len(cells) :]
        shown = ", ".join(missing[:5]) + ("…" if len(missing) > 5 else "")
        msg = SHORT_ROW.format(cells=len(cells), width=width, missing=shown)
        return RawRow(number, values, raw, ("short-row", msg))
    return RawRow(number, values, raw, _width_problem(header, cells))


def records_of(data: Any, key: str | None) -> list[Any] | None:
    """The list of records in a JSON document: the document, or the list under ``key``."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for k in [key] if key else ["records", "items", "data", "children", "list"]:
            if isinstance(data.get(k), list):
                return list(data[k])
    return None


def object_row(number: int, rec: Any) -> RawRow:
    if not isinstance(rec, dict):
        problem = ("not-an-object", "the record is not a JSON object")
        return RawRow(number, {}, orjson.dumps(rec, default=str), problem)
    values = {str(k): cell_text(v) for k, v in rec.items()}
    return RawRow(number, values, cells_raw(values))
