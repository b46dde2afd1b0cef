"""Sync of CSV lists: encodings, quarantine kinds, reconciliation, idempotency."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from child_lists import FIXTURE, HEADER, RECEIVED, good_row, run_cli, write_csv

from interop.store import Archive


def sync(db: str, path: Path, *extra: str) -> tuple[int, Any]:
    return run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json", *extra)


def codes_by_row(report: dict[str, Any]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for i in report["issues"]:
        out.setdefault(i["row"], set()).add(i["code"])
    return out


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(1), good_row(2)], encoding=encoding)
    code, rep = sync(f"sqlite:///{tmp_path / 'a.db'}", path)
    assert code == 0 and rep["new"] == 2 and rep["quarantined"] == 0, rep["issues"]


def test_explicit_encoding_and_bad_encoding(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(1)], encoding="gbk")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    code, rep = sync(db, path, "--encoding", "gb18030")
    assert code == 0 and rep["new"] == 1
    assert run_cli("--db", db, "sync", str(path), "--encoding", "nope")[0] == 2
    assert run_cli("--db", db, "sync", str(tmp_path / "missing.csv"))[0] == 2


QUARANTINE_CASES: list[tuple[str, dict[str, str], str]] = [
    ("wrong check digit", {}, "resident-id"),
    ("ID/birth mismatch", {"出生日期": "2012-05-05"}, "id-mismatch"),
    ("ID/sex mismatch", {"性别": "女"}, "id-mismatch"),
    ("age 18 on designation (R-3.1-01)", {"认定日期": "2030-06-01"}, "age"),
    ("unknown code", {"风险等级": "很高"}, "unknown-code"),
    ("unknown ethnicity", {"民族": "火星族"}, "unknown-code"),
    ("unknown category", {"困境类型": "自身残疾、外星"}, "unknown-code"),
    ("missing required", {"姓名": ""}, "missing-field"),
    ("missing ID", {"身份证号": ""}, "missing-field"),
    ("unparseable date", {"认定日期": "去年"}, "bad-date"),
    ("future date", {"认定日期": "2026-01-05"}, "future-date"),
]


@pytest.mark.parametrize(
    ("label", "change", "code"), QUARANTINE_CASES, ids=[c[0] for c in QUARANTINE_CASES]
)
def test_each_quarantine_kind(
    tmp_path: Path, label: str, change: dict[str, str], code: str
) -> None:
    bad = good_row(1, **change)
    if label == "wrong check digit":
        rid = bad["身份证号"]
        bad["身份证号"] = rid[:17] + ("0" if rid[17] != "0" else "1")
    if code == "age":  # born 2012: 18 only in 2030 — use an old child instead
        bad = good_row(1, 认定日期="2025-06-01")
        from interop.core.resident_id import make

        bad["身份证号"] = make("360102", __import__("datetime").date(2007, 1, 1), "1", 1)
        bad["出生日期"] = "2007-01-01"
        bad["性别"] = "男"
    path = write_csv(tmp_path / "l.csv", [bad, good_row(2)])
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rc, rep = sync(db, path)
    assert rc == 0  # a bad row never stops the run
    assert rep["new"] == 1 and rep["quarantined"] == 1
    assert code in codes_by_row(rep)[2]
    with Archive.open(db) as a:
        q = a.quarantined(rep["run_id"])
    assert q and q[0]["row"] == 2 and q[0]["code"] == code
    assert q[0]["raw"]  # the raw row is stored …
    for issue in rep["issues"]:  # … but never printed: no names, no unmasked IDs
        assert "测试1" not in issue["message"]
        assert bad["身份证号"] == "" or bad["身份证号"] not in issue["message"]


def test_duplicates_quarantine_both_rows(tmp_path: Path) -> None:
    a, b = good_row(1), good_row(2)
    dup = dict(a, 姓名="测试重复")
    path = write_csv(tmp_path / "l.csv", [a, b, dup])
    rc, rep = sync(f"sqlite:///{tmp_path / 'a.db'}", path)
    assert rc == 0 and rep["new"] == 1 and rep["quarantined"] == 2
    dups = {i["row"]: i["message"] for i in rep["issues"] if i["code"] == "duplicate"}
    assert set(dups) == {2, 4}
    assert "row 4" in dups[2] and "row 2" in dups[4]


def test_short_row_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    write_csv(path, [good_row(1), good_row(2)], header=[*HEADER, "额外列"])
    with path.open("a", encoding="utf-8") as fh:
        fh.write("3,测试3,男\n")
    rc, rep = sync(f"sqlite:///{tmp_path / 'a.db'}", path)
    assert rc == 0 and rep["new"] == 2 and rep["quarantined"] == 1
    assert codes_by_row(rep)[4] == {"short-row"}
    extra = [i for i in rep["issues"] if i["code"] == "extra-column"]
    assert len(extra) == 1 and extra[0]["field"] == "额外列"  # reported once


def test_column_order_is_free_and_date_formats(tmp_path: Path) -> None:
    rows = [
        good_row(1, 认定日期="2025/6/1"),
        good_row(2, 认定日期="20250601"),
        good_row(3, 认定日期="2025年6月1日"),
    ]
    path = write_csv(tmp_path / "l.csv", rows, header=list(reversed(HEADER)))
    rc, rep = sync(f"sqlite:///{tmp_path / 'a.db'}", path)
    assert rc == 0 and rep["new"] == 3, rep["issues"]


def test_outside_jiangxi_is_kept_with_a_warning(tmp_path: Path) -> None:
    from datetime import date

    from interop.core.resident_id import make

    row = good_row(1, 户籍地="广东省广州市", 常住地址="广东省广州市某路")
    row["身份证号"] = make("440106", date(2012, 1, 2), "1", 1)
    path = write_csv(tmp_path / "l.csv", [row])
    rc, rep = sync(f"sqlite:///{tmp_path / 'a.db'}", path)
    assert rc == 0 and rep["new"] == 1 and rep["quarantined"] == 0
    (w,) = [i for i in rep["issues"] if i["code"] == "outside-province"]
    assert w["severity"] == "warning" and w["requirement"] == "R-5.1-01"


def test_fixture_sync_is_idempotent(db_url: str, tmp_path: Path) -> None:
    rc, first = sync(db_url, FIXTURE)
    assert rc == 0
    assert first["rows"] == 300 and first["quarantined"] > 0 and first["new"] > 200
    assert first["new"] + first["quarantined"] == first["rows"]
    for key in ("run_id", "source", "rows", "new", "changed", "unchanged", "delisted"):
        assert key in first
    assert {"row", "field", "code", "message"} <= set(first["issues"][0])
    with Archive.open(db_url) as a:
        before = a.snapshot()
    rc, second = sync(db_url, FIXTURE)
    assert rc == 0
    assert (second["new"], second["changed"], second["unchanged"]) == (0, 0, first["new"])
    with Archive.open(db_url) as a:
        assert a.snapshot() == before  # no new versions, nothing touched


def test_the_same_children_exported_again_otherwise_are_unchanged(tmp_path: Path) -> None:
    """A re-sync decides by what the rows say: the same list exported again with its
    columns in another order, other line ends, every cell quoted, in GBK, or with a
    column the mapping ignores changed, names no child as changed."""
    rows = [good_row(i) for i in range(1, 6)]
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert sync(db, write_csv(tmp_path / "first.csv", rows))[1]["new"] == 5
    with Archive.open(db) as a:
        before = a.snapshot()

    def written(name: str, **fmt: Any) -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, **fmt)
            w.writerow(HEADER)
            w.writerows([r[h] for h in HEADER] for r in rows)
        return path

    with_note = [dict(r, 随访批次=f"第{i}批") for i, r in enumerate(rows)]
    variants = [
        write_csv(tmp_path / "order.csv", rows, header=list(reversed(HEADER))),
        written("lf.csv", lineterminator="\n"),
        written("quoted.csv", quoting=csv.QUOTE_ALL),
        write_csv(tmp_path / "gbk.csv", rows, encoding="gbk"),
        write_csv(tmp_path / "note.csv", with_note, header=[*HEADER, "随访批次"]),
    ]
    for path in variants:
        for _ in range(2):  # (again: now the rows are known as they are in this file)
            rc, rep = sync(db, path)
            counts = (rep["new"], rep["changed"], rep["unchanged"], rep["quarantined"])
            assert rc == 0 and counts == (0, 0, 5, 0), (path.name, rep["issues"])
    with Archive.open(db) as a:
        assert a.snapshot() == before  # no new version, record or case of any child


def test_a_known_child_named_twice_on_a_resync_quarantines_both_rows(tmp_path: Path) -> None:
    """Two rows alike, line for line, of a child the archive knows unchanged: a
    duplicate all the same — neither row is taken."""
    a, b = good_row(1), good_row(2)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert sync(db, write_csv(tmp_path / "first.csv", [a, b]))[1]["new"] == 2
    rc, rep = sync(db, write_csv(tmp_path / "again.csv", [a, b, a]))
    assert rc == 0 and (rep["unchanged"], rep["quarantined"]) == (1, 2)
    dups = {i["row"] for i in rep["issues"] if i["code"] == "duplicate"}
    assert dups == {2, 4}


def test_changes_add_versions_and_full_list_delists(db_url: str, tmp_path: Path) -> None:
    rows = [good_row(i, 风险等级="中") for i in range(1, 6)]
    path = write_csv(tmp_path / "l.csv", rows)
    rc, first = sync(db_url, path)
    assert first["new"] == 5
    changed = [dict(r) for r in rows[:4]]
    changed[0]["风险等级"] = "高"  # risk rises: DL-03 from this receipt, earliest wins
    changed[1]["监护人电话"] = "13900000000"
    changed[2]["监护人电话"] = " 13800000000 "  # only spaces differ: unchanged
    path2 = write_csv(tmp_path / "l2.csv", changed)
    rc, second = run_cli(
        "--db",
        db_url,
        "sync",
        str(path2),
        "--received",
        "2025-12-23",
        "--json",
        "--full",
        "--allow-delist",
        "1",
    )
    assert rc == 0
    assert (second["new"], second["changed"], second["unchanged"]) == (0, 2, 2)
    assert second["delisted"] == 1
    assert sorted(second["changes"].values()) == [["guardian_phone"], ["risk_level"]]
    with Archive.open(db_url) as a:
        snap = a.snapshot()
        case = next(c for c in snap["cases"] if c[0] == "ORG-2025-00001")
        assert case[2:] == ("high", "DL-03", "2025-12-30")
        versions = a.case_versions("ORG-2025-00001")
        assert [v["body"]["case"]["risk_level"] for v in versions] == ["medium", "high"]
        statuses = {c[0]: c[2] for c in snap["children"]}
        assert sorted(statuses.values()).count("delisted") == 1
    # the delisted child comes back: relisted as a change, never a second child
    rc, third = sync(db_url, path)
    assert third["new"] == 0 and third["changed"] >= 1
    assert any("status" in f for f in third["changes"].values())


def test_synced_records_pass_the_case_record_check(tmp_path: Path) -> None:
    from interop.caserecord import check_case_record
    from interop.fhir.terminology import Terminology

    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert sync(db, FIXTURE)[0] == 0
    terms = Terminology.load()
    with Archive.open(db) as a:
        for item in a.waiting_cases()[:40]:
            (v,) = a.case_versions(item["case_number"])
            checked = check_case_record(v["body"], terms)
            assert checked.ok, [i.line() for i in checked.issues]


def test_cases_due(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rows = [good_row(1, 风险等级="高"), good_row(2, 风险等级="中"), good_row(3, 风险等级="低")]
    sync(db, write_csv(tmp_path / "l.csv", rows))
    rc, items = run_cli("--db", db, "cases", "due", "--json", on="2025-12-30")
    assert rc == 0
    assert [(i["risk"], i["rule"], i["deadline"]) for i in items] == [
        ("high", "DL-03", "2025-12-29"),
        ("medium", "DL-02", "2026-01-06"),
    ]
    assert [i["overdue"] for i in items] == [True, False]
    assert {"case", "risk", "deadline", "rule", "provisional", "overdue"} <= set(items[0])
    rc, soon = run_cli("--db", db, "cases", "due", "--json", "--within", "3", on="2025-12-30")
    assert [i["rule"] for i in soon] == ["DL-03"]
    rc, text = run_cli("--db", db, "cases", "due", on="2025-12-30")
    assert "OVERDUE" in text and "ORG-2025-00001" in text


def test_agreement_date_gives_dl01_to_low_risk(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    path = write_csv(tmp_path / "l.csv", [good_row(1, 风险等级="低")])
    sync(db, path, "--agreement-date", "2025-12-01")
    _, items = run_cli("--db", db, "cases", "due", "--json", on="2025-12-22")
    assert [(i["rule"], i["deadline"]) for i in items] == [("DL-01", "2026-01-13")]


def test_provisional_deadline_into_unpublished_year(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    path = write_csv(tmp_path / "l.csv", [good_row(1, 风险等级="中")])
    rc, rep = run_cli("--db", db, "sync", str(path), "--received", "2026-12-24", "--json")
    assert rc == 0 and rep["new"] == 1
    rc, items = run_cli("--db", db, "cases", "due", "--json", on="2026-12-24")
    assert items[0]["provisional"] is True


def test_arguments_errors_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert run_cli("--db", db, "sync")[0] == 2
    assert run_cli("--db", db, "sync", str(FIXTURE), "--received", "yesterday")[0] == 2
    assert run_cli("--db", db, "sync", str(FIXTURE), "--mapping", "no-such")[0] == 2
    other = tmp_path / "l.dat"
    shutil.copy(FIXTURE, other)
    assert run_cli("--db", db, "sync", str(other))[0] == 2
    assert (
        run_cli("--db", db, "sync", str(other), "--format", "csv", "--received", RECEIVED)[0] == 0
    )
