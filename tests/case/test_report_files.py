"""``interop report`` files: a text cell that a spreadsheet would run as a formula (it
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: CSV injection) is
written with a leading ``'`` (OWASP), in CSV and XLSX; read back, no cell is a formula."""

from __future__ import annotations

import csv
from pathlib import Path

from interop.casework.report import Row
from interop.casework.report_files import FORMULA_START, write_csv, write_xlsx

HOSTILE = ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://x")']
ROWS = [Row("sessions by location", item, 1) for item in HOSTILE] + [
    Row("sessions by location", "office", 4),
    Row("=section", "plain", -1),  # a negative number stays a number
]


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write_csv(ROWS, out)
    with path.open(encoding="utf-8", newline="") as f:
        back = list(csv.reader(f))
    assert back[0] == ["section", "item", "value"]
    cells = [c for row in back[1:] for c in row[:2]]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    assert [r[1] for r in back[1 : len(HOSTILE) + 1]] == ["'" + h for h in HOSTILE]
    assert back[-2][1] == "office" and back[-1] == ["'=section", "plain", "-1"]


def test_xlsx_cells_are_text_never_formulas(tmp_path: Path) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]

    path = tmp_path / "r.xlsx"
    write_xlsx(ROWS, path, "2026-01-01~2026-12-31")
    sheet = load_workbook(path).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(FORMULA_START)]
    assert "'=1+2" in texts and "office" in texts
    assert [c.value for c in cells if not isinstance(c.value, str)][-1] == -1
