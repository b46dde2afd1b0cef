"""The other inbound formats: XLSX, XML, JSON, NDJSON give the same result as CSV."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from child_lists import HEADER, RECEIVED, good_row, run_cli, write_csv


def _rows() -> list[dict[str, str]]:
    rows = [good_row(i) for i in range(1, 6)]
    rows[2]["风险等级"] = "极高"  # unknown code → quarantined
    return rows


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(HEADER)
    for r in rows:
        cells: list[Any] = [r[h] for h in HEADER]
        cells[0] = int(r["序号"])  # numbers and real date cells, as spreadsheets have them
        cells[HEADER.index("出生日期")] = dt.datetime.fromisoformat(r["出生日期"])
        cells[HEADER.index("监护人电话")] = int(r["监护人电话"])
        ws.append(cells)
    wb.save(path)
    return path


def write_xml(path: Path, rows: list[dict[str, str]]) -> Path:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<名单>"]
    for r in rows:
        parts.append("  <儿童>" + "".join(f"<{h}>{escape(r[h])}</{h}>" for h in HEADER) + "</儿童>")
    parts.append("</名单>")
    path.write_text("\n".join(parts), "utf-8")
    return path


def write_json(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps({"records": rows}, ensure_ascii=False), "utf-8")
    return path


def write_ndjson(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


WRITERS = {
    "csv": lambda p, r: write_csv(p, r),
    "xlsx": write_xlsx,
    "xml": write_xml,
    "json": write_json,
    "ndjson": write_ndjson,
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_each_format_syncs_the_same(tmp_path: Path, fmt: str) -> None:
    path = WRITERS[fmt](tmp_path / f"list.{fmt}", _rows())
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rc, rep = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json")
    assert rc == 0
    assert (rep["new"], rep["quarantined"]) == (4, 1), rep["issues"]
    assert [i["code"] for i in rep["issues"] if i["severity"] == "error"] == ["unknown-code"]
    rc, again = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json")
    assert (again["new"], again["changed"], again["unchanged"]) == (0, 0, 4)


@pytest.mark.parametrize("id_field", ["身份证号", "公民身份号码"])
def test_ndjson_bad_lines_are_quarantined(tmp_path: Path, id_field: str) -> None:
    """Each bad line with its own reason, the ID field named as the mapping does or by
    one of its synonyms."""
    path = tmp_path / "l.ndjson"
    good = [good_row(i) for i in (1, 2)]
    for r in good:
        r[id_field] = r.pop("身份证号")
    lines = [json.dumps(good[0], ensure_ascii=False), "{not json", "[1, 2]"]
    lines.append(json.dumps(good[1], ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    rc, rep = run_cli("--db", f"sqlite:///{tmp_path / 'a.db'}", "sync", str(path), "--json")
    assert rc == 0 and rep["new"] == 2 and rep["quarantined"] == 2
    assert {(i["row"], i["code"]) for i in rep["issues"]} == {
        (2, "malformed"),
        (3, "not-an-object"),
    }


def test_unreadable_files_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    bad_xml = tmp_path / "l.xml"
    bad_xml.write_text("<名单><儿童><姓名>x</儿童>", "utf-8")
    assert run_cli("--db", db, "sync", str(bad_xml))[0] == 2
    bad_json = tmp_path / "l.json"
    bad_json.write_text('{"records": 5}', "utf-8")
    assert run_cli("--db", db, "sync", str(bad_json))[0] == 2
    bad_xlsx = tmp_path / "l.xlsx"
    bad_xlsx.write_bytes(b"not a zip")
    assert run_cli("--db", db, "sync", str(bad_xlsx))[0] == 2


def test_xml_entities_are_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "l.xml"
    cells = "".join(f"<{h}>{escape(v)}</{h}>" for h, v in good_row(1).items() if h != "姓名")
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<名单><儿童><姓名>&x;</姓名>{cells}</儿童></名单>",
        "utf-8",
    )
    rc, rep = run_cli("--db", f"sqlite:///{tmp_path / 'a.db'}", "sync", str(path), "--json")
    assert rc == 0 and rep["new"] == 0 and rep["quarantined"] == 1
