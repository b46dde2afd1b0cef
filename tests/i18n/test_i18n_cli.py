"""The CLI speaks the catalogue's language: zh_CN where LANG says zh, ``--lang`` over LANG,
English by default — output, argparse help and its errors, and interop's errors with their
code. JSON keys stay English."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from interop.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    buf = io.StringIO()
    with redirect_stdout(buf):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = int(exc.code or 0)
    return code, buf.getvalue(), capsys.readouterr().err


@pytest.fixture
def archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    db = ["--db", str(tmp_path / "archive.sqlite3")]
    assert _run(capsys, *db, "init")[0] == 0
    return db


def test_lang_zh_prints_chinese_and_lang_en_english(
    archive: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    code, out, _ = _run(capsys, *archive, "cases", "due")
    assert (code, out) == (0, "没有未到期的时限\n")
    code, out, _ = _run(capsys, *archive, "--lang", "en", "cases", "due")
    assert (code, out) == (0, "no open deadline\n")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert _run(capsys, *archive, "cases", "due")[1] == "no open deadline\n"
    assert _run(capsys, *archive, "--lang", "zh_CN", "cases", "due")[1] == "没有未到期的时限\n"


def test_json_output_keeps_english_keys(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, *archive, "--lang", "zh_CN", "audit", "verify", "--json")
    assert code == 0 and json.loads(out) == {"rows": 0, "ok": True}
    code, out, _ = _run(capsys, *archive, "--lang", "zh_CN", "audit", "verify")
    assert out == "审计链完整：0 个事件\n"


def test_missing_archive_error_in_chinese_with_its_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    code, _, err = _run(capsys, "--db", "nowhere.sqlite3", "cases", "due")
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "interop: [E520] 该位置没有档案库（只有 interop init 会创建档案库）。"
    assert lines[1].startswith("  详情：") and "nowhere.sqlite3" in lines[1]
    assert lines[2] == "  处理：运行 interop init --db URL，或用 --db 指定已有的档案库。"
    code, _, err = _run(capsys, "--lang", "en", "--db", "nowhere.sqlite3", "cases", "due")
    assert code == 1 and err.startswith("interop: [E520] no archive at ")
    assert len(err.splitlines()) == 1


def test_an_option_error_of_a_command_in_chinese(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, *archive, "--lang", "zh_CN", "cases", "due", "--within", "-1")
    assert code == 2
    assert err.splitlines()[0] == "interop: [E108] 数值选项超出范围。"
    assert "详情：--within：请给出天数（0 或以上）" in err


def test_help_and_argparse_errors_in_the_chosen_language(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and out.startswith("用法：interop ")
    assert "选项:" in out and "显示此帮助信息并退出" in out
    assert "将个案档案文件存入档案库" in out  # a command's one-line help
    code, out, _ = _run(capsys, "cases", "due", "--help")
    assert "只看此风险等级的个案" in out
    code, _, err = _run(capsys, "cases", "due", "--risk", "x")
    assert code == 2 and "错误：参数 --risk：无效的选项值：'x'" in err
    code, _, err = _run(capsys, "cases")
    assert code == 2 and "缺少以下必需参数：ACTION" in err
    code, out, _ = _run(capsys, "--lang", "en", "--help")
    assert out.startswith("usage: interop ") and "show this help message and exit" in out
    code, _, err = _run(capsys, "--lang", "en", "cases")
    assert "the following arguments are required: ACTION" in err


def test_the_language_of_a_command_does_not_outlive_it(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from interop.i18n import current

    assert _run(capsys, *archive, "--lang", "zh_CN", "cases", "due")[1] == "没有未到期的时限\n"
    assert current() == "en"  # library code run next (a test) speaks English again
    _run(capsys, "--lang", "zh_CN", "--help")  # argparse's exit too
    assert current() == "en"
