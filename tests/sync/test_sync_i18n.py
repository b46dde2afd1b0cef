"""A sync said in Chinese (``--lang zh_CN``): each quarantine reason and stage-1 note in the
catalogue's words, the row, column and code kept, no cell's value shown; ``--json`` and the
default language keep the English the reasons were made in."""

from __future__ import annotations

from pathlib import Path

import pytest
from child_lists import HEADER, RECEIVED, good_row, run_cli, write_csv


def _bad_list(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    wrong = good_row(2)
    rid = wrong["身份证号"]
    wrong["身份证号"] = rid[:17] + ("0" if rid[17] != "0" else "1")
    rows = [good_row(1), wrong, good_row(3, 认定日期="去年"), good_row(4, 风险等级="很高")]
    path = write_csv(tmp_path / "l.csv", rows)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(",".join(good_row(5)[h] for h in HEADER[:4]) + "\n")  # cut short
    return path, wrong


def _sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: Path, *lang: str
) -> tuple[int, str, str]:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    capsys.readouterr()
    code, out = run_cli(*lang, "--db", db, "sync", str(path), "--received", RECEIVED)
    return code, str(out), capsys.readouterr().err


def test_quarantine_reasons_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, wrong = _bad_list(tmp_path)
    code, out, err = _sync(tmp_path, capsys, path, "--lang", "zh_CN")
    assert code == 0
    lines = err.splitlines()
    masked = wrong["身份证号"][:4] + "*" * 10 + wrong["身份证号"][14:]
    assert (
        f"第 3 行：错误 [resident-id] 身份证号：居民身份证号码 {masked} 的校验码错误"
        "（GB 11643 MOD 11-2）" in lines
    ), err
    assert (
        "第 4 行：错误 [bad-date] 认定日期：不是可识别格式的日期"
        "（YYYY-MM-DD、YYYY/M/D、YYYYMMDD、YYYY年M月D日）" in lines
    ), err
    # (what a coded column holds is named by the mapping file's label, as it is written there)
    assert any(
        line.startswith("第 5 行：错误 [unknown-code] 风险等级：该值不是已知的") for line in lines
    )
    assert any(
        line.startswith("第 6 行：错误 [short-row] 该行不完整：18 列中只有 4 列，缺少 ")
        for line in lines
    ), err
    assert "隔离 4" in out and out.startswith("同步已完成：")
    for value in (wrong["身份证号"], wrong["姓名"], "去年", "很高", wrong["监护人电话"]):
        assert value not in err + out  # the column and the rule, never the value
    assert "row " not in err and "resident ID" not in err and "not a date" not in err


def test_default_and_json_keep_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _wrong = _bad_list(tmp_path)
    code, _out, err = _sync(tmp_path, capsys, path)
    assert code == 0
    assert "row 4: error [bad-date] 认定日期: not a date in a known format" in err
    assert "the row is cut short: 4 of 18 columns, missing " in err
    db = f"sqlite:///{tmp_path / 'b.db'}"
    code, rep = run_cli(
        "--lang", "zh_CN", "--db", db, "sync", str(path), "--received", RECEIVED, "--json"
    )
    assert code == 0
    reasons = {i["code"]: i["message"] for i in rep["issues"]}
    assert reasons["bad-date"].startswith("认定日期: not a date in a known format")
    assert reasons["short-row"].startswith("the row is cut short: 4 of 18 columns")


def test_refusal_and_notes_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nohead = tmp_path / "nohead.csv"
    nohead.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    code, _out, err = _sync(tmp_path, capsys, nohead, "--lang", "zh_CN")
    assert code == 2
    assert (
        "nohead.csv：前 20 行中未找到表头行：应有 姓名, 性别, 民族, 身份证号, 出生日期, 户籍地, "
        "常住地址, 困境类型 … 等列；实际为 2 行、每行至多 3 个单元格，均不是列名"
        "（按 utf-8 读取；文件若不是该编码，请给出 --encoding）" in err
    ), err
    titled = tmp_path / "titled.csv"
    titled.write_text(
        "困境儿童名单\n" + write_csv(tmp_path / "l.csv", [good_row(1)]).read_text("utf-8"),
        encoding="utf-8",
    )
    code, out, err = _sync(tmp_path, capsys, titled, "--lang", "zh_CN")
    assert code == 0 and "新增 1" in out
    assert "第 1 行：已跳过（位于表头之上：标题、说明或空行）" in err, err
