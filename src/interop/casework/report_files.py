"""The report's files (报表文件): CSV and XLSX with every text cell safe to open.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some,
a tab or carriage return) as a formula — CSV injection. The report's items come from
case data (locations, closure reasons …), so a text cell beginning with one of them is
written with a leading ``'`` as OWASP advises, in CSV and XLSX alike; numbers stay
numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from interop.casework.report import Row

__all__ = ["HEADER", "safe_cell", "write_csv", "write_xlsx"]

HEADER = ("section", "item", "value")
#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell prefixed with ``'`` when a spreadsheet would run it; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cells(rows: Iterable[Row]) -> Iterable[Sequence[object]]:
    yield HEADER
    for r in rows:
        yield [safe_cell(r.section), safe_cell(r.item), r.value]


def write_csv(rows: Iterable[Row], out: IO[str]) -> None:
    import csv

    # Every text cell quoted: a carriage return inside one cannot start a new row either.
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC).writerows(_cells(rows))


def write_xlsx(rows: Iterable[Row], path: Path | str, title: str) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for cells in _cells(rows):
        ws.append(list(cells))
    wb.save(path)
