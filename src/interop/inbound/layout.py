"""Stage 1 of a list sync — understand the file (读懂名单文件) before anything is written.

From the first rows: the sheet, the header row (title rows and notes above it skipped
and reported), the mapping's columns (by name or synonym) and some data below. A file
not understood is refused — exit 2, nothing written, one message saying what was
expected and what was found (R-7.1.1-01: it must not change the archive, nor delist).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from typing import TYPE_CHECKING, Any

from interop._errors import FileRefused as FileRefused
from interop.core.resident_id import compact as label  # (a header cell as compared)
from interop.i18n import N_
from interop.inbound.source import NOT_ENCODED, FileSource, Layout, Part, cell_text, reading
from interop.inbound.workbook import column_letter, merged_below, open_workbook

if TYPE_CHECKING:
    from interop.inbound.mapping import InboundMapping

#: Rows looked at for the header (a government export has a title and notes above it).
HEAD_ROWS = 20
#: Bytes of a text file read to find the layout (the rest is read by the sync itself).
SAMPLE_BYTES = 256 << 10
#: Rows looked at below the header for data.
DATA_PEEK = 50

# The refusals (exit 2); one message each, naming what was expected and what was found.
NO_HEADER = N_(
    "{file}: no header row found in the first {rows} rows{where}: expected columns such as "
    "{expected}; found {found}"
)
MISSING = N_("{file}: required column(s) missing: {missing} (header on {where}; found: {found})")
TWICE = N_("{file}: column {column} appears more than once on the header ({where}): columns {at}")
NO_DATA = N_("{file}: no data rows below the header ({where})")
NO_SHEET = N_("{file}: no sheet named '{sheet}' (sheets: {sheets})")
BAD_HEADER_ROW = N_("{file}: --header-row {row}: the file has no such row{where}")
# The parts of a refusal that say where (each is localised within the refusal's message).
ON_SHEET = N_(" on sheet {sheet}")
OF_SHEETS = N_(" of sheet(s) {sheets}")
AT_ROW = N_("row {row}")
AT_ROW_OF_SHEET = N_("row {row} of sheet {sheet}")
AT_RECORDS = N_("the first {count} records")
NO_RECORDS = N_("no records")
SHAPE = N_("{rows} rows of up to {cells} cells, none naming a column")
NO_TEXT = N_("no text at all")
# (one field, not {found}{hint}: two fields side by side could not be told apart again)
READ_AS = N_("{found} (read as {encoding}; if the file is not in that encoding, give --encoding)")
NOT_FIELDS = N_("records without any of these fields")
AND = N_("{first} and {second}")

#: A sheet's first rows: its name (None: a CSV file), the rows as text, whether that is all.
Head = tuple[str | None, list[list[str]], bool]


class _Names:
    """The mapping's columns by :func:`label`, with the field each belongs to."""

    def __init__(self, mapping: InboundMapping) -> None:
        self.column: dict[str, str] = {}  # label → the column name the rows use
        self.field: dict[str, str] = {}  # column name → field
        for spec in mapping.fields.values():
            for col in spec.columns:
                self.column[label(col)] = col
                self.field[col] = spec.name
            for syn in spec.synonyms:
                self.column.setdefault(label(syn), spec.column)
        self.required = [
            spec
            for spec in mapping.fields.values()
            if spec.required or (spec.name in mapping.key and not mapping.alternate_key)
        ]

    def score(self, cells: list[str]) -> int:
        """How many of the mapping's fields a row names."""
        return len({self.field[c] for x in cells if (c := self.column.get(label(x)))})

    def no_header(self, file: str, where: str, found: str) -> FileRefused:
        """The refusal of a file none of whose first rows (or records) names a column."""
        expected = ", ".join(s.column for s in self.required[:8])
        expected += " …" if len(self.required) > 8 else ""
        return _refused(
            "E180", NO_HEADER, file, rows=HEAD_ROWS, where=where, expected=expected, found=found
        )

    def missing(self, seen: dict[str, Any]) -> list[str]:
        return [s.column for s in self.required if not any(c in seen for c in s.columns)]


def understand(
    source: FileSource,
    mapping: InboundMapping,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
) -> Layout:
    """The layout of ``source`` for ``mapping``; raises :class:`FileRefused` when not understood."""
    names, file = _Names(mapping), source.path.name
    sheet = sheet or source.options.get("sheet")
    sheets: list[str] = []
    parts: dict[str, str] = {}  # sheet → its part in an XLSX package
    if source.format == "csv":
        heads: list[Head] = [(None, *_csv_head(source))]
    elif source.format == "xlsx":
        heads, sheets = _xlsx_heads(source, sheet, parts)
    else:
        return _records_layout(source, names)
    best: tuple[int, int, int] | None = None  # score, -head, -row index
    for c, (name, rows, _) in enumerate(heads):
        picks = [header_row - 1] if header_row is not None else range(min(HEAD_ROWS, len(rows)))
        for i in picks:
            if i >= len(rows):
                where = ON_SHEET.format(sheet=name) if name else ""
                raise _refused("E186", BAD_HEADER_ROW, file, row=header_row, where=where)
            best = max(best or (-1, 0, 0), (names.score(rows[i]), -c, -i))
    if best is None or best[0] == 0:
        # (what the rows hold is not shown: without a header they may be a child's data)
        widths = [len(r) for _, rs, _ in heads for r in rs if any(x.strip() for x in r)]
        shape = SHAPE.format(rows=len(widths), cells=max(widths)) if widths else NO_TEXT
        found = READ_AS.format(found=shape, encoding=source.encoding) if source.encoding else shape
        where = OF_SHEETS.format(sheets=", ".join(sheets)) if sheets else ""
        raise names.no_header(file, where, found)
    c, i = -best[1], -best[2]
    sheet_name, rows, complete = heads[c]
    cells = list(rows[i])
    while source.format == "xlsx" and cells and not cells[-1].strip():
        cells.pop()  # (a sheet's empty columns to the right)
    where = (AT_ROW_OF_SHEET if sheet_name else AT_ROW).format(row=i + 1, sheet=sheet_name)
    header: list[str] = []
    matched: dict[str, str] = {}
    seen: dict[str, int] = {}
    for pos, cell in enumerate(cells):
        col = names.column.get(label(cell))
        if col is None:
            header.append(cell.strip().lstrip("\ufeff"))
            continue
        if col in seen:
            at = AND.format(first=column_letter(seen[col]), second=column_letter(pos))
            raise _refused("E182", TWICE, file, column=col, where=where, at=at)
        seen[col] = pos
        header.append(col)
        matched[col] = cell.strip()
    if missing := names.missing(seen):
        shown = [c.strip() for c in cells if c.strip()]
        found = ", ".join(shown[:8]) + (" …" if len(shown) > 8 else "") or "(blank)"
        raise _refused("E181", MISSING, file, missing=", ".join(missing), where=where, found=found)
    if complete and not any(any(x.strip() for x in r) for r in rows[i + 1 :]):
        raise _refused("E184", NO_DATA, file, where=where)
    kinds = {s.column: s for s in mapping.fields.values()}
    return Layout(
        format=source.format,
        encoding=source.encoding,
        sheet=sheet_name,
        header_row=i + 1,
        found=cells,
        header=header,
        matched=matched,
        skipped=[n + 1 for n, r in enumerate(rows[:i]) if any(x.strip() for x in r)],
        merged=merged_below(source.path, parts[sheet_name], i + 1) if sheet_name in parts else [],
        id_columns=frozenset(c for c, s in kinds.items() if s.kind == "resident-id"),
        date_columns=frozenset(c for c, s in kinds.items() if s.kind == "date"),
        fill_down=frozenset(c for c, s in kinds.items() if s.fill_down),
    )


def _refused(code: str, template: str, file: str, **fields: Any) -> FileRefused:
    """The refusal ``code`` of ``file``: ``template`` filled in with ``fields``."""
    return FileRefused(template.format(file=file, **fields), code=code)


def _csv_head(source: FileSource) -> tuple[list[list[str]], bool]:
    """The first rows of a CSV file as text cells, and whether they are the whole file."""
    assert source.encoding is not None
    with reading(source.path), source.path.open("rb") as fh:
        data = fh.read(SAMPLE_BYTES + 1)
    whole = len(data) <= SAMPLE_BYTES
    if not whole:
        data = data[: data.rfind(b"\n", 0, SAMPLE_BYTES) + 1]
    try:
        text = codecs.decode(data, source.encoding).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        msg = NOT_ENCODED.format(file=source.path.name, row=row, encoding=source.encoding)
        raise FileRefused(msg, code="E183") from None
    delimiter = str(source.options.get("delimiter", ","))
    rows: list[list[str]] = []
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(cells)
            if len(rows) >= HEAD_ROWS + DATA_PEEK:
                return rows, False
    except csv.Error:
        return rows, False  # (the row is quarantined by the sync with its reason)
    return rows, whole


def _xlsx_heads(
    source: FileSource, sheet: str | None, parts: dict[str, str]
) -> tuple[list[Head], list[str]]:
    """The first rows of each sheet (or of ``sheet``) as text cells."""
    book = open_workbook(source.path)
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise _refused("E185", NO_SHEET, source.path.name, sheet=sheet, sheets=", ".join(names))
        out: list[Head] = []
        limit = HEAD_ROWS + DATA_PEEK
        for name in [sheet] if sheet is not None else names:
            ws = book[name]
            cells = ws.iter_rows(max_row=limit + 1, values_only=True)
            rows = [[cell_text(v) for v in r] for r in cells]
            out.append((name, rows[:limit], len(rows) <= limit))
            parts[name] = ws._worksheet_path  # (for merged_below)
        return out, names
    finally:
        book.close()


def _records_layout(source: FileSource, names: _Names) -> Layout:
    """XML, JSON, NDJSON: the names of the first records' fields."""
    head = list(itertools.islice(source.rows(Part(0, 1)), HEAD_ROWS))
    seen: dict[str, str] = {}
    for row in head:
        for k in row.values:
            if (col := names.column.get(label(k))) is not None:
                seen.setdefault(col, k)
    file = source.path.name
    if not head:
        raise _refused("E184", NO_DATA, file, where=NO_RECORDS)
    if not seen:
        raise names.no_header(file, "", NOT_FIELDS)
    if missing := names.missing(seen):
        where, shown = AT_RECORDS.format(count=len(head)), ", ".join(seen.values())
        raise _refused("E181", MISSING, file, missing=", ".join(missing), where=where, found=shown)
    return Layout(source.format, None, None, 0, list(seen.values()), list(seen), dict(seen))
