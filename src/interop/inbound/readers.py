"""Readers of list files: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), XLSX, XML, JSON, NDJSON.

Each reader streams :class:`RawRow` objects — the row number a programme
officer would look for (the spreadsheet row for CSV and XLSX, with the
header as row 1; the record or line number for XML, JSON and NDJSON), the
cells by column name, and a problem when the row itself is unusable (cut
short, not an object, not valid JSON). A source can be iterated more than
once (the sync reads it twice: duplicates first, then the rows).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop._errors import InputError

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "xml", "json", "ndjson")
_SUFFIX = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xml": "xml",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
_SAMPLE = 1 << 20


@dataclass(slots=True)
class RawRow:
    """One record as read: its number, its cells, and what makes it unusable (if anything)."""

    number: int
    values: dict[str, str]
    problem: tuple[str, str] | None = None  # (code, plain message)


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise InputError(
                f"unknown format '{fmt}': use one of {', '.join(FORMATS)}", code="E130"
            )
        return fmt
    found = _SUFFIX.get(path.suffix.lower())
    if found is None:
        raise InputError(
            f"{path.name}: cannot tell the format from the file name; give --format "
            f"({', '.join(FORMATS)})",
            code="E130",
        )
    return found


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SAMPLE)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror})", code="E101") from None
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _SAMPLE)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=len(head) < _SAMPLE)
        return "gb18030"
    except UnicodeDecodeError:
        raise InputError(
            f"{path.name}: the text is neither UTF-8 nor GBK/GB18030; give --encoding",
            code="E131",
        ) from None


def _cell(value: Any) -> str:
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
    """A list file, readable any number of times as :class:`RawRow` objects."""

    def __init__(
        self,
        path: Path | str,
        *,
        fmt: str | None = None,
        encoding: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file", code="E101")
        self.format = detect_format(self.path, fmt)
        self.options = options or {}
        self.encoding = encoding
        if self.format == "csv" and encoding is None:
            self.encoding = detect_encoding(self.path)
        elif encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise InputError(f"unknown encoding '{encoding}'", code="E131") from None
        self.columns: list[str] = []

    def __iter__(self) -> Iterator[RawRow]:
        reader = {
            "csv": self._csv,
            "xlsx": self._xlsx,
            "xml": self._xml,
            "json": self._json,
            "ndjson": self._ndjson,
        }[self.format]
        return reader()

    # -- CSV ----------------------------------------------------------------

    def _csv(self) -> Iterator[RawRow]:
        assert self.encoding is not None
        delimiter = str(self.options.get("delimiter", ","))
        number = 0
        try:
            with self.path.open(encoding=self.encoding, newline="") as fh:
                rows = csv.reader(fh, delimiter=delimiter)
                header: list[str] | None = None
                for cells in rows:
                    number += 1
                    if header is None:
                        header = [c.strip().lstrip("\ufeff") for c in cells]
                        self.columns = header
                        continue
                    row = csv_row(number, header, cells)
                    if row is not None:
                        yield row
        except UnicodeDecodeError:
            raise InputError(
                f"{self.path.name}: row {number + 1} is not valid {self.encoding} text; "
                "give --encoding",
                code="E131",
            ) from None
        except csv.Error as exc:
            raise InputError(
                f"{self.path.name}: row {number + 1} is not valid CSV ({exc})", code="E132"
            ) from None
        except OSError as exc:
            raise InputError(
                f"{self.path}: cannot read the file ({exc.strerror})", code="E101"
            ) from None

    # -- XLSX ---------------------------------------------------------------

    def _xlsx(self) -> Iterator[RawRow]:
        import zipfile

        import openpyxl  # type: ignore[import-untyped,unused-ignore]

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise InputError(
                f"{self.path.name}: not a readable XLSX workbook ({type(exc).__name__})",
                code="E133",
            ) from None
        try:
            sheet_name = self.options.get("sheet")
            if sheet_name is not None and sheet_name not in book.sheetnames:
                raise InputError(f"{self.path.name}: no sheet named '{sheet_name}'", code="E133")
            sheet = book[sheet_name] if sheet_name else book.worksheets[0]
            header: list[str] | None = None
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                values = [_cell(v) for v in cells]
                if header is None:
                    if not any(v.strip() for v in values):
                        continue
                    while values and not values[-1].strip():
                        values.pop()
                    header = [v.strip() for v in values]
                    self.columns = header
                    continue
                if not any(v.strip() for v in values):
                    continue
                yield RawRow(number, dict(zip(header, values, strict=False)))
        finally:
            book.close()

    # -- XML ----------------------------------------------------------------

    def _xml(self) -> Iterator[RawRow]:
        from lxml import etree

        record_tag = self.options.get("record")
        number = 0
        try:
            context = etree.iterparse(
                str(self.path),
                events=("start", "end"),
                resolve_entities=False,
                no_network=True,
                huge_tree=False,
            )
            depth = 0
            for event, elem in context:
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                tag = etree.QName(elem).localname if isinstance(elem.tag, str) else None
                is_record = tag == record_tag if record_tag else depth == 1
                if not is_record:
                    continue
                number += 1
                values = {k: v for k, v in elem.attrib.items()}
                for child in elem:
                    if isinstance(child.tag, str):
                        values[etree.QName(child).localname] = (child.text or "").strip()
                yield RawRow(number, values)
                elem.clear()
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            raise InputError(
                f"{self.path.name}: not well-formed XML at line {exc.lineno} "
                f"(after record {number})",
                code="E134",
            ) from None
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read the file ({exc})", code="E101") from None

    # -- JSON / NDJSON ------------------------------------------------------

    def _json(self) -> Iterator[RawRow]:
        try:
            data = json.loads(self.path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise InputError(f"{self.path.name}: not valid JSON{where}", code="E135") from None
        records = records_of(data, self.options.get("records"))
        if records is None:
            raise InputError(
                f"{self.path.name}: expected a JSON array of records or an object holding one",
                code="E135",
            )
        for number, rec in enumerate(records, start=1):
            yield object_row(number, rec)

    def _ndjson(self) -> Iterator[RawRow]:
        try:
            with self.path.open("rb") as fh:
                for number, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        yield RawRow(number, {}, ("malformed", "the line is not valid JSON"))
                        continue
                    yield object_row(number, rec)
        except OSError as exc:
            raise InputError(
                f"{self.path}: cannot read the file ({exc.strerror})", code="E101"
            ) from None


def csv_row(number: int, header: list[str], cells: list[str]) -> RawRow | None:
    """The row of a CSV record under ``header``: cut short, or None for a blank line."""
    width = len(header)
    if len(cells) == width:
        return RawRow(number, dict(zip(header, cells, strict=True)))
    if not any(c.strip() for c in cells):
        return None  # blank line
    if len(cells) < width:
        missing = header[len(cells) :]
        return RawRow(
            number,
            dict(zip(header, cells, strict=False)),
            (
                "short-row",
                f"the row is cut short: {len(cells)} of {width} columns, "
                f"missing {', '.join(missing[:5])}" + ("…" if len(missing) > 5 else ""),
            ),
        )
    return RawRow(number, dict(zip(header, cells, strict=False)))


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
        return RawRow(number, {}, ("not-an-object", "the record is not a JSON object"))
    return RawRow(number, {str(k): _cell(v) for k, v in rec.items()})
