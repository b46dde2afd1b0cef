"""Normalise, then check: IDs and codes normalised (information lines), control and
direction characters removed or quarantined, formulas kept as text, IDs from outside the
mapping's region warned about — through the CLI on real files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from child_lists import RECEIVED, ROOT, good_row, run_cli, write_csv

from interop.core.resident_id import make
from interop.store import Archive


def _sync(db: str, path: Path, *extra: str) -> dict[str, Any]:
    rc, rep = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json", *extra)
    assert rc == 0, rep
    assert isinstance(rep, dict)
    return rep


def _stored(db: str) -> dict[str, dict[str, Any]]:
    """Each stored child's list entry, by resident ID."""
    with Archive.open(db) as a, a.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.resident_id, v.entry FROM children c JOIN child_versions v"
            " ON v.child_id = c.id AND v.version = c.version"
        ).all()
    return {rid: json.loads(entry) for rid, entry in rows}


def _id_with_x() -> str:
    for n in range(1000):
        rid = make("360102", dt.date(2013, 3, 3), "1", n)
        if rid.endswith("X"):
            return rid
    raise AssertionError("no ID with check character X")


def test_ids_and_codes_are_normalised_with_an_information_line(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(1, 7)]
    ids = [r["身份证号"] for r in rows]
    full_width = ids[1].translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    rows[0]["身份证号"] = ids[0][:6] + " " + ids[0][6:14] + " " + ids[0][14:]
    rows[1]["身份证号"] = full_width
    rows[2]["身份证号"] = "'" + ids[2]
    rows[3]["身份证号"] = ids[3][:9] + "\u200b" + ids[3][9:] + "\u202c"
    xid = _id_with_x()
    rows[4]["身份证号"] = xid.lower()
    rows[4]["出生日期"] = "2013-03-03"
    rows[4]["性别"] = "男"
    rows[5]["风险等级"] = "高　风险"  # an ideographic space inside a code
    db = f"sqlite:///{tmp_path / 'a.db'}"
    path = write_csv(tmp_path / "l.csv", rows)
    rep = _sync(db, path)
    assert (rep["new"], rep["quarantined"]) == (6, 0), rep["issues"]
    notes = sorted((i["row"], i["code"], i["severity"]) for i in rep["issues"])
    assert notes == [(n, "normalised", "information") for n in range(2, 8)]
    assert set(_stored(db)) == {*ids[:4], xid, ids[5]}
    assert _stored(db)[ids[5]]["risk_level"] == "high"
    again = _sync(db, path)
    assert (again["unchanged"], again["new"]) == (6, 0)
    for i in rep["issues"]:  # never the value itself
        assert ids[0][6:14] not in i["message"]


def test_control_and_direction_characters_removed_from_names(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(1, 4)]
    rows[0]["姓名"] = "测试\u202e1"  # a right-to-left override
    rows[1]["备注"] = "见\x00附件\x07"
    rows[2]["备注"] = '=HYPERLINK("http://example.invalid","点击")'
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rep = _sync(db, write_csv(tmp_path / "l.csv", rows))
    assert rep["new"] == 3
    notes = sorted((i["row"], i["field"], i["code"]) for i in rep["issues"])
    assert notes == [(2, "姓名", "control-characters"), (3, "备注", "control-characters")]
    stored = _stored(db)
    assert stored[rows[0]["身份证号"]]["name"] == "测试1"
    assert stored[rows[1]["身份证号"]]["note"] == "见附件"
    # a formula is kept as the text it is (and travels on as text, never evaluated)
    assert stored[rows[2]["身份证号"]]["note"] == rows[2]["备注"]


def test_a_mapping_may_quarantine_rows_with_control_characters(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings" / "inbound" / "schemas", folder / "schemas")
    data = json.loads((ROOT / "mappings" / "inbound" / "civil-affairs-default.json").read_text())
    data["name"] = "strict-names"
    data["fields"]["name"]["controls"] = "quarantine"
    mapping = folder / "strict-names.json"
    mapping.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    rows = [good_row(i) for i in range(1, 3)]
    rows[0]["姓名"] = "测试\u202e1"
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rep = _sync(db, write_csv(tmp_path / "l.csv", rows), "--mapping", str(mapping))
    assert (rep["new"], rep["quarantined"]) == (1, 1)
    [issue] = rep["issues"]
    assert (issue["row"], issue["code"], issue["severity"]) == (2, "control-characters", "error")
    assert "U+202E" in issue["message"]


def test_an_id_from_outside_the_region_is_a_warning(tmp_path: Path) -> None:
    rows = [good_row(1), good_row(2)]
    rows[1]["身份证号"] = make("110101", dt.date(2012, 1, 3), "2", 7)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rep = _sync(db, write_csv(tmp_path / "l.csv", rows))
    assert rep["new"] == 2
    [w] = rep["issues"]
    assert (w["row"], w["code"], w["severity"]) == (3, "outside-region", "warning")
    assert "region 36" in w["message"]
