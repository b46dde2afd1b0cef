"""Stage 1 — the file is understood before anything is written, or refused (exit 2).

Every refusal, and every kind of row quarantined before mapping, through the CLI on
real files (CSV, XLSX) and a real SQLite archive.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from child_lists import HEADER, RECEIVED, good_row, run_cli, write_csv


def _sync(tmp_path: Path, path: Path, *extra: str) -> tuple[int, Any]:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    return run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json", *extra)


def _refused(tmp_path: Path, path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """The one message of a refused file; nothing was written (not even a run)."""
    capsys.readouterr()
    rc, out = _sync(tmp_path, path, *extra)
    err = capsys.readouterr().err
    assert rc == 2, (out, err)
    from interop.store import Archive

    with Archive.open(f"sqlite:///{tmp_path / 'a.db'}") as archive:
        assert archive.recent_runs() == [], "a refused file writes nothing"
    assert "Traceback" not in err
    return err


def write_xlsx(path: Path, rows: list[list[Any]], *, sheets: tuple[str, ...] = ()) -> Path:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for name in sheets:
        other = wb.create_sheet(name)
        other.append(["说明"])
        other.append(["本表为汇总"])
    ws = wb.create_sheet("名单")
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _cells(row: dict[str, str]) -> list[Any]:
    return [row[h] for h in HEADER]


# -- where the list is -----------------------------------------------------------------


def test_xlsx_title_rows_and_a_second_sheet(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["某县2026年第四季度困境儿童名单"], [], ["填报单位：某县民政局"]]
    rows += [HEADER] + [_cells(good_row(i)) for i in range(1, 4)]
    path = write_xlsx(tmp_path / "l.xlsx", rows, sheets=("封面",))
    rc, rep = _sync(tmp_path, path)
    assert rc == 0, rep
    assert (rep["new"], rep["quarantined"]) == (3, 0), rep["issues"]
    layout = rep["layout"]
    assert (layout["sheet"], layout["header_row"], layout["skipped_rows"]) == ("名单", 4, [1, 3])
    assert layout["columns"][:2] == ["序号", "姓名"]


def test_csv_title_row_is_skipped_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(i) for i in range(1, 4)])
    path.write_text("某县困境儿童名单\n\n" + path.read_text("utf-8"), "utf-8")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rc, out = run_cli("--db", db, "sync", str(path), "--received", RECEIVED)
    err = capsys.readouterr().err
    assert rc == 0
    assert "3 new" in out and "row 1: skipped" in err
    rc, again = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json")
    assert (again["unchanged"], again["layout"]["header_row"]) == (3, 3)


def test_header_row_and_sheet_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[list[Any]] = [["标题"], HEADER] + [_cells(good_row(i)) for i in range(1, 3)]
    path = write_xlsx(tmp_path / "l.xlsx", rows, sheets=("封面",))
    rc, rep = _sync(tmp_path, path, "--sheet", "名单", "--header-row", "2")
    assert rc == 0 and rep["new"] == 2
    err = _refused(tmp_path / "x", path, capsys, "--sheet", "没有")
    assert "[E185]" in err and "名单" in err
    err = _refused(tmp_path / "y", path, capsys, "--sheet", "名单", "--header-row", "1")
    assert "[E180]" in err


def test_synonyms_of_a_column(tmp_path: Path) -> None:
    header = [
        "公民身份号码" if h == "身份证号" else "儿童姓名" if h == "姓名" else h for h in HEADER
    ]
    rows = []
    for i in range(1, 3):
        r = good_row(i)
        r["公民身份号码"], r["儿童姓名"] = r.pop("身份证号"), r.pop("姓名")
        rows.append(r)
    path = write_csv(tmp_path / "l.csv", rows, header=header)
    rc, rep = _sync(tmp_path, path)
    assert rc == 0 and rep["new"] == 2, rep["issues"]
    assert rep["layout"]["matched"]["身份证号"] == "公民身份号码"


# -- refusals: exit 2, nothing written ---------------------------------------------------


def test_no_header_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(i) for i in range(1, 4)], encoding="gbk")
    err = _refused(tmp_path, path, capsys, "--encoding", "latin-1")
    assert "[E180]" in err and "expected columns such as 姓名" in err
    assert "--encoding" in err
    # a file without a header: its rows (a child's data) are never shown
    path.write_text("测试1,360102201201020034,男\n测试2,360102201201030048,女\n", "utf-8")
    err = _refused(tmp_path, path, capsys)
    assert "[E180]" in err and "2 rows of up to 3 cells" in err
    assert "测试" not in err and "3601022012" not in err


def test_missing_required_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = [h for h in HEADER if h != "风险等级"]
    path = write_csv(tmp_path / "l.csv", [good_row(1)], header=header)
    err = _refused(tmp_path, path, capsys)
    assert "[E181]" in err and "风险等级" in err


def test_a_column_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(1)], header=[*HEADER, "姓名"])
    err = _refused(tmp_path, path, capsys)
    assert "[E182]" in err and "姓名" in err and "columns B and S" in err


def test_undecodable_text_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(1)], encoding="gbk")
    err = _refused(tmp_path, path, capsys, "--encoding", "utf-8")
    assert "[E183]" in err and "row 1" in err


@pytest.mark.parametrize("content", ["", ",".join(HEADER) + "\n", ",".join(HEADER) + "\n\n,,\n"])
def test_no_data_rows_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = tmp_path / "l.csv"
    path.write_text(content, "utf-8")
    err = _refused(tmp_path, path, capsys)
    assert "[E184]" in err or ("[E180]" in err and not content)


def test_empty_json_and_xlsx_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "l.json"
    path.write_text('{"records": []}', "utf-8")
    assert "[E184]" in _refused(tmp_path, path, capsys)
    xlsx = write_xlsx(tmp_path / "l.xlsx", [HEADER])
    assert "[E184]" in _refused(tmp_path, xlsx, capsys)


# -- rows quarantined with their own reason; the rest goes on ----------------------------


def test_long_rows_and_an_over_long_cell(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(i) for i in range(1, 5)])
    lines = path.read_text("utf-8").splitlines()
    lines[2] += ",多余"  # row 3: one cell more than the header
    cells = lines[3].split(",")
    cells[HEADER.index("备注")] = "长" * 140_000  # row 4: one cell over 131,072 characters
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    rc, rep = _sync(tmp_path, path)
    assert rc == 0
    assert (rep["new"], rep["quarantined"]) == (2, 2)
    codes = {i["row"]: i["code"] for i in rep["issues"] if i["severity"] == "error"}
    assert codes == {3: "long-row", 4: "cell-too-long"}
    assert all(len(i["message"]) < 300 for i in rep["issues"])


def test_xlsx_ids_as_numbers_and_serial_dates(tmp_path: Path) -> None:
    rows: list[list[Any]] = [HEADER]
    for i in range(1, 4):
        cells = _cells(good_row(i))
        cells[HEADER.index("出生日期")] = dt.datetime.fromisoformat(good_row(i)["出生日期"])
        rows.append(cells)
    rows[1][HEADER.index("身份证号")] = int(good_row(1)["身份证号"])  # Excel: 15 digits kept
    serial = (dt.date(2025, 6, 1) - dt.date(1899, 12, 30)).days
    rows[2][HEADER.index("认定日期")] = serial  # a date typed as a number
    path = write_xlsx(tmp_path / "l.xlsx", rows)
    rc, rep = _sync(tmp_path, path)
    assert rc == 0
    assert (rep["new"], rep["quarantined"]) == (2, 1), rep["issues"]
    [issue] = [i for i in rep["issues"] if i["severity"] == "error"]
    assert (issue["row"], issue["code"], issue["field"]) == (2, "id-as-number", "身份证号")
    assert "stored as a number by Excel: digits lost" in issue["message"]
    assert good_row(1)["身份证号"][:6] not in json.dumps(rep, ensure_ascii=False)
    from interop.store import Archive

    with Archive.open(f"sqlite:///{tmp_path / 'a.db'}") as a:
        rids = {
            r[0] for r in a.engine.connect().exec_driver_sql("SELECT resident_id FROM children")
        }
    assert rids == {good_row(2)["身份证号"], good_row(3)["身份证号"]}


# -- the preview --------------------------------------------------------------------------


def test_dry_run_shows_layout_and_counts_writing_nothing(tmp_path: Path) -> None:
    from interop.store import Archive

    db = f"sqlite:///{tmp_path / 'a.db'}"
    first = write_csv(tmp_path / "first.csv", [good_row(i) for i in range(1, 13)])
    assert run_cli("--db", db, "sync", str(first), "--received", RECEIVED)[0] == 0
    with Archive.open(db) as a:
        before = a.snapshot()
    rows = [good_row(i) for i in range(2, 16)]  # 1 gone, 13-15 new
    rows[0]["监护人电话"] = "13900000000"  # child 2 changed
    rows[5]["风险等级"] = "极高"  # child 7 quarantined
    rows.insert(0, {h: "" for h in HEADER} | {"序号": "说明"})
    path = write_csv(tmp_path / "next.csv", rows)
    path.write_text("某县名单\n" + path.read_text("utf-8"), "utf-8")
    rc, rep = run_cli(
        "--db", db, "sync", str(path), "--received", RECEIVED, "--json", "--dry-run", "--full"
    )
    assert rc == 0
    counts = [rep[k] for k in ("new", "changed", "unchanged", "delisted", "quarantined")]
    assert counts == [3, 1, 9, 1, 2], rep["issues"]
    assert rep["status"] == "dry-run"
    assert rep["layout"]["header_row"] == 2 and rep["layout"]["encoding"] == "utf-8"
    assert len(rep["layout"]["matched"]) == len(HEADER)
    with Archive.open(db) as a:
        assert a.snapshot() == before  # nothing written
        assert len(a.recent_runs()) == 1  # (no run recorded either)
    rc, text = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--dry-run")
    assert "header on row 2" in text and "nothing was written" in text and "3 new" in text


def _merged_xlsx(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["某县困境儿童名单"])
    ws.merge_cells("A1:R1")  # a title across the sheet: above the header, ignored
    ws.append(HEADER)
    for i in range(1, 4):
        ws.append(_cells(good_row(i)))
    col = HEADER.index("户籍地") + 1
    for r in (4, 5):
        ws.cell(row=r, column=col).value = None
    ws.merge_cells(start_row=3, start_column=col, end_row=5, end_column=col)
    wb.save(path)
    return path


def test_merged_cells_are_reported_or_filled_down(tmp_path: Path) -> None:
    import shutil

    from child_lists import ROOT

    path = _merged_xlsx(tmp_path / "l.xlsx")
    rc, rep = _sync(tmp_path, path)
    assert rc == 0
    assert rep["layout"]["merged_cells"] == ["G3:G5"]
    assert (rep["new"], rep["quarantined"]) == (1, 2)
    assert {i["field"] for i in rep["issues"] if i["severity"] == "error"} == {"户籍地"}

    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings" / "inbound" / "schemas", folder / "schemas")
    data = json.loads((ROOT / "mappings" / "inbound" / "civil-affairs-default.json").read_text())
    data["name"] = "fill-down"
    data["fields"]["household_registration"]["fill_down"] = True
    mapping = folder / "fill-down.json"
    mapping.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    rc, rep = _sync(tmp_path / "b", path, "--mapping", str(mapping))
    assert rc == 0 and (rep["new"], rep["quarantined"]) == (3, 0), rep["issues"]
