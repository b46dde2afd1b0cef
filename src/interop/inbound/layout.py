"""Stage 1 of a list sync — understand the file (读懂名单文件) before anything is written.

Looks at the first rows of the file only: which sheet (XLSX), which row is
the header (title rows, notes and blank rows above it are skipped and
reported), which of its columns are the mapping's (by name or by a synonym
the mapping declares), and whether there is any data below it. A file that
is not understood is refused — exit 2, nothing written — with one message
saying what was expected and what was found (R-7.1.1-01: a list that cannot
be read must not change the archive; a ``--full`` list that was not
understood must never delist).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from interop._errors import FileRefused as FileRefused
from interop._errors import InputError
from interop.i18n import N_
from interop.inbound.found import Layout as Layout
from interop.inbound.workbook import column_letter as column_letter
from interop.inbound.workbook import merged_below, open_workbook

if TYPE_CHECKING:
    from interop.inbound.mapping import InboundMapping
    from interop.inbound.source import FileSource

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
UNDECODABLE = N_("{file}: row {row} is not valid {encoding} text; give the right --encoding")
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
UNREADABLE = N_("{file}: cannot read the file ({error})")


def label(text: str) -> str:
    """A header cell as compared: NFKC, no spaces, no zero-width or byte-order marks."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


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

    def expected(self) -> str:
        return ", ".join(s.column for s in self.required[:8]) + (
            " …" if len(self.required) > 8 else ""
        )


def _show(cells: list[str], limit: int = 8) -> str:
    shown = [c.strip() for c in cells if c.strip()]
    if not shown:
        return "(blank)"
    return ", ".join(shown[:limit]) + (" …" if len(shown) > limit else "")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def understand(
    source: FileSource,
    mapping: InboundMapping,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
) -> Layout:
    """The layout of ``source`` for ``mapping``; raises :class:`FileRefused` when not understood."""
    names = _Names(mapping)
    file = source.path.name
    sheet = sheet or source.options.get("sheet")
    sheets: list[str] = []
    parts: dict[str, str] = {}  # sheet → its part in an XLSX package
    if source.format == "csv":
        head, whole = _csv_head(source)
        candidates: list[tuple[str | None, list[list[str]], bool]] = [(None, head, whole)]
    elif source.format == "xlsx":
        candidates, sheets = _xlsx_heads(source, sheet, parts)
    else:
        return _records_layout(source, mapping, names)
    best: tuple[int, int, int] | None = None  # score, -candidate, -row index
    for c, (_, rows_of, _) in enumerate(candidates):
        picks = [header_row - 1] if header_row is not None else range(min(HEAD_ROWS, len(rows_of)))
        for i in picks:
            if i >= len(rows_of):
                where = ON_SHEET.format(sheet=candidates[c][0]) if candidates[c][0] else ""
                raise FileRefused(
                    BAD_HEADER_ROW.format(file=file, row=header_row, where=where), code="E186"
                )
            s = names.score(rows_of[i])
            if best is None or (s, -c, -i) > best:
                best = (s, -c, -i)
    if best is None or best[0] == 0:
        # (what the rows hold is not shown: without a header they may be a child's data)
        widths = [len(r) for _, rs, _ in candidates for r in rs if any(x.strip() for x in r)]
        shape = SHAPE.format(rows=len(widths), cells=max(widths)) if widths else NO_TEXT
        where = OF_SHEETS.format(sheets=", ".join(sheets)) if sheets else ""
        raise FileRefused(
            NO_HEADER.format(
                file=file,
                rows=HEAD_ROWS,
                where=where,
                expected=names.expected(),
                found=READ_AS.format(found=shape, encoding=source.encoding)
                if source.encoding
                else shape,
            ),
            code="E180",
        )
    c, i = -best[1], -best[2]
    sheet_name, rows_of, complete = candidates[c]
    found = [x if isinstance(x, str) else _text(x) for x in rows_of[i]]
    while source.format == "xlsx" and found and not found[-1].strip():
        found.pop()  # (a sheet's empty columns to the right)
    where = (
        AT_ROW_OF_SHEET.format(row=i + 1, sheet=sheet_name)
        if sheet_name
        else AT_ROW.format(row=i + 1)
    )
    header: list[str] = []
    matched: dict[str, str] = {}
    seen: dict[str, int] = {}
    for pos, cell in enumerate(found):
        col = names.column.get(label(cell))
        if col is None:
            header.append(cell.strip().lstrip("\ufeff"))
            continue
        if col in seen:
            at = AND.format(first=column_letter(seen[col]), second=column_letter(pos))
            raise FileRefused(TWICE.format(file=file, column=col, where=where, at=at), code="E182")
        seen[col] = pos
        header.append(col)
        matched[col] = cell.strip()
    missing = [s.column for s in names.required if not any(c in seen for c in s.columns)]
    if missing:
        raise FileRefused(
            MISSING.format(file=file, missing=", ".join(missing), where=where, found=_show(found)),
            code="E181",
        )
    below = rows_of[i + 1 :]
    if complete and not any(any(x.strip() for x in r) for r in below):
        raise FileRefused(NO_DATA.format(file=file, where=where), code="E184")
    kinds = {s.column: s for s in mapping.fields.values()}
    merged = merged_below(source.path, parts[sheet_name], i + 1) if sheet_name in parts else []
    return Layout(
        format=source.format,
        encoding=source.encoding,
        sheet=sheet_name,
        header_row=i + 1,
        found=found,
        header=header,
        matched=matched,
        skipped=[n + 1 for n, r in enumerate(rows_of[:i]) if any(x.strip() for x in r)],
        sheets=sheets,
        merged=merged,
        id_columns=frozenset(c for c, s in kinds.items() if s.kind == "resident-id"),
        date_columns=frozenset(c for c, s in kinds.items() if s.kind == "date"),
        fill_down=frozenset(c for c, s in kinds.items() if s.fill_down),
    )


def _csv_head(source: FileSource) -> tuple[list[list[str]], bool]:
    """The first rows of a CSV file as text cells, and whether they are the whole file."""
    assert source.encoding is not None
    try:
        with source.path.open("rb") as fh:
            data = fh.read(SAMPLE_BYTES + 1)
    except OSError as exc:
        msg = UNREADABLE.format(file=source.path, error=exc.strerror)
        raise InputError(msg, code="E101") from None
    whole = len(data) <= SAMPLE_BYTES
    if not whole:
        data = data[: data.rfind(b"\n", 0, SAMPLE_BYTES) + 1]
    decoder = codecs.getincrementaldecoder(source.encoding)()
    try:
        text = decoder.decode(data, final=True)
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        raise FileRefused(
            UNDECODABLE.format(file=source.path.name, row=row, encoding=source.encoding),
            code="E183",
        ) from None
    text = text.lstrip("\ufeff")
    delimiter = str(source.options.get("delimiter", ","))
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            rows.append(cells)
            if len(rows) >= HEAD_ROWS + DATA_PEEK:
                return rows, False
    except csv.Error:
        return rows, False  # (the row is quarantined by the sync with its reason)
    return rows, whole


def _xlsx_heads(
    source: FileSource, sheet: str | None, parts: dict[str, str]
) -> tuple[list[tuple[str | None, list[list[str]], bool]], list[str]]:
    """The first rows of each sheet (or of ``sheet``) as text cells."""
    book = open_workbook(source.path)
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise FileRefused(
                NO_SHEET.format(file=source.path.name, sheet=sheet, sheets=", ".join(names)),
                code="E185",
            )
        out = []
        for name in [sheet] if sheet is not None else names:
            ws = book[name]
            limit = HEAD_ROWS + DATA_PEEK
            rows = [
                [_text(v) for v in cells]
                for cells in ws.iter_rows(max_row=limit + 1, values_only=True)
            ]
            out.append((name, rows[:limit], len(rows) <= limit))
            parts[name] = ws._worksheet_path  # (for merged_below)
        return out, names
    finally:
        book.close()


def _records_layout(source: FileSource, mapping: InboundMapping, names: _Names) -> Layout:
    """XML, JSON, NDJSON: the names of the first records' fields."""
    seen: dict[str, str] = {}
    count = 0
    records: Iterator[Any] = iter(source)
    for row in records:
        count += 1
        for k in row.values:
            col = names.column.get(label(k))
            if col is not None:
                seen.setdefault(col, k)
        if count >= HEAD_ROWS:
            break
    file = source.path.name
    if count == 0:
        raise FileRefused(NO_DATA.format(file=file, where=NO_RECORDS), code="E184")
    if not seen:
        raise FileRefused(
            NO_HEADER.format(
                file=file,
                rows=HEAD_ROWS,
                where="",
                expected=names.expected(),
                found=NOT_FIELDS,
            ),
            code="E180",
        )
    missing = [s.column for s in names.required if not any(c in seen for c in s.columns)]
    if missing:
        raise FileRefused(
            MISSING.format(
                file=file,
                missing=", ".join(missing),
                where=AT_RECORDS.format(count=count),
                found=", ".join(seen.values()),
            ),
            code="E181",
        )
    found = list(seen.values())
    return Layout(
        format=source.format,
        encoding=None,
        sheet=None,
        header_row=0,
        found=found,
        header=list(seen),
        matched={c: k for c, k in seen.items()},
    )
