"""Parts of a CSV list file that worker processes read on their own.

A large list is synced on both cores (:mod:`interop.inbound.workers`): each
worker reads a byte range of the file itself, so the one process that
writes the archive does not also parse and ship every row. That is only
safe when a line is a record: no cell is quoted (no ``"`` anywhere in the
file), lines end in ``\\n`` or ``\\r\\n``, and the encoding keeps byte
``\\n`` for the line end only (UTF-8, GBK/GB18030, ASCII). Then a part cut
at a line end holds whole records, and the row number of its first line is
the count of line ends before it — the same numbers the one-process reader
(:meth:`interop.inbound.readers.FileSource._csv`) gives. Any other file is
read by that reader, which handles quoting.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr, NoReturn

from interop._errors import InputError
from interop.inbound.readers import FileSource

#: Bytes per part: about 4,000 rows of the default layout.
PART_BYTES = 1 << 20
#: The file's last ``TAIL_PARTS * PART_BYTES`` bytes are cut in parts ``TAIL_DIVISOR`` times
#: smaller. The writer commits a part's rows once a worker has prepared them; at the end of
#: the file it has nothing left to do meanwhile, and a small last part is a short wait
#: (a first sync: the last parts had the writer alone on one core for 0.3 s).
TAIL_PARTS, TAIL_DIVISOR = 4, 4
_BLOCK = 8 << 20
#: Encodings whose byte 0x0A is always a line end and 0x22 always a quote.
_SPLITTABLE = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "ascii"}


@dataclass(frozen=True, slots=True)
class Part:
    """Bytes ``start:end`` of the file; its first line is row ``first``."""

    index: int
    start: int
    end: int
    first: int


@dataclass(frozen=True, slots=True)
class CsvPlan:
    """A quote-free CSV file cut into parts at line ends."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    parts: list[Part]
    rows: int  # lines after the header (blank ones included)
    header_row: int = 1  # the line of the header (lines above it: a title, notes)

    @property
    def end(self) -> int:
        """One past the last row number."""
        return self.header_row + 1 + self.rows


def plan(source: FileSource, part_bytes: int = PART_BYTES) -> CsvPlan | None:
    """Cut ``source`` into parts, or None when it must be read by one process."""
    if source.format != "csv" or source.encoding is None:
        return None
    try:
        codec = codecs.lookup(source.encoding).name
    except LookupError:
        return None
    delimiter = str(source.options.get("delimiter", ","))
    small = max(1, part_bytes // TAIL_DIVISOR)
    if codec not in _SPLITTABLE or len(delimiter) != 1 or delimiter in '\r\n"':
        return None
    try:
        with source.path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            tail_from = size - TAIL_PARTS * part_bytes
            header_at = source.layout.header_row if source.layout is not None else 1
            above = b"".join(fh.readline() for _ in range(header_at - 1))  # (title rows: skipped)
            head = fh.readline()
            if _unsplittable(above + head):
                return None
            base = start = len(above) + len(head)
            bounds: list[tuple[int, int, int]] = []  # start, end, row number of its first line
            first, newlines, last = header_at + 1, 0, head[-1:]
            while block := fh.read(_BLOCK):
                # (a carriage return that ended the last block must start this one's line end)
                if _unsplittable(block) or (last == b"\r" and block[:1] != b"\n"):
                    return None
                last = block[-1:]
                at = 0
                while True:
                    cut = start + (part_bytes if start < tail_from else small) - base
                    if cut >= len(block):
                        break
                    nl = block.find(b"\n", max(cut, at))
                    if nl < 0:
                        break
                    newlines += block.count(b"\n", at, nl + 1)
                    bounds.append((start, base + nl + 1, first))
                    start, at = base + nl + 1, nl + 1
                    first, newlines = first + newlines, 0
                newlines += block.count(b"\n", at)
                base += len(block)
    except OSError as exc:
        raise InputError(
            f"{source.path}: cannot read the file ({exc.strerror})", code="E101"
        ) from None
    if base > start:
        bounds.append((start, base, first))
    if source.layout is not None:
        header = list(source.layout.header)
    else:
        header = cells_of(_decode(head, codec, source).rstrip("\r\n"), delimiter)
        header = [c.strip().lstrip("\ufeff") for c in header]
    parts = [Part(i, s, e, n) for i, (s, e, n) in enumerate(bounds)]
    body_start = len(above) + len(head)
    rows = first + newlines - (header_at + 1) + (1 if base > body_start and last != b"\n" else 0)
    body = "utf-8" if codec == "utf-8-sig" else codec  # the BOM is on the header line only
    return CsvPlan(source.path, body, delimiter, header, parts, rows, header_at)


def lines(plan: CsvPlan, part: Part) -> Iterator[tuple[int, str]]:
    """``(row number, line)`` of each line of ``part``, line ends removed."""
    _, text = _read_part(plan, part)
    return enumerate(_split_lines(text), start=part.first)


def byte_lines(plan: CsvPlan, part: Part) -> Iterator[tuple[int, bytes]] | None:
    """:func:`lines` as the bytes they are in the file — each the UTF-8 of the line
    :func:`lines` gives — for a UTF-8 list with an ASCII delimiter (else None).

    The part is checked to be UTF-8 all the same (the same error as :func:`lines`).
    A large re-sync hashes nearly every line and needs nothing else of it: as
    bytes it is not decoded and encoded again.
    """
    if plan.encoding != "utf-8" or not plan.delimiter.isascii():
        return None
    data, _ = _read_part(plan, part)
    return enumerate(_split_lines(data), start=part.first)


def _read_part(plan: CsvPlan, part: Part) -> tuple[bytes, str]:
    """A part's bytes and its text (a byte the encoding does not allow: E131, its row)."""
    with plan.path.open("rb") as fh:
        fh.seek(part.start)
        data = fh.read(part.end - part.start)
    try:
        return data, data.decode(plan.encoding)
    except UnicodeDecodeError:
        _raise_bad_line(plan, part, data)


def _split_lines(data: AnyStr) -> list[AnyStr]:
    """The lines of a part's text or bytes, line ends removed. A carriage return comes
    only before a line end, or as the file's last character (:func:`plan`)."""
    nl, cr = ("\n", "\r") if isinstance(data, str) else (b"\n", b"\r")
    if cr in data:
        data = data.replace(cr + nl, nl)
        if data.endswith(cr):
            data = data[:-1] + nl
    found = data.split(nl)
    if found and not found[-1]:
        found.pop()  # the part ends with a line end
    return found


def cells_of(line: str, delimiter: str) -> list[str]:
    """The cells of a line as the csv module reads it: an empty line has none."""
    return line.split(delimiter) if line else []


def _decode(data: bytes, codec: str, source: FileSource) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise InputError(
            f"{source.path.name}: row 1 is not valid {source.encoding} text; give --encoding",
            code="E131",
        ) from None


def _raise_bad_line(plan: CsvPlan, part: Part, data: bytes) -> NoReturn:
    number = part.first
    for raw in data.split(b"\n"):
        try:
            raw.decode(plan.encoding)
        except UnicodeDecodeError:
            break
        number += 1
    raise InputError(
        f"{plan.path.name}: row {number} is not valid {plan.encoding} text; give --encoding",
        code="E131",
    )


def _unsplittable(data: bytes) -> bool:
    """A quote, a NUL, or a carriage return that does not end a line: leave it to csv."""
    if b'"' in data or b"\x00" in data:
        return True
    if b"\r" not in data:  # (most files: no need to count)
        return False
    crs = data.count(b"\r")
    return crs != 0 and crs != data.count(b"\r\n") + (1 if data.endswith(b"\r") else 0)
