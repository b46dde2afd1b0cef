"""The one message catalogue stays whole: every msgid the code uses (Babel's extractors over
src/interop, each command's HELP, every registered error's meaning and action) has a zh_CN
translation, and no entry is left that no code names. tools/i18n_catalogue.py is what
finds them; these tests also show that it does find a gap."""

from __future__ import annotations

import re
import string
from pathlib import Path

import i18n_catalogue
import pytest

from interop._errors import REGISTRY
from interop.i18n import catalogue

PO_HEAD = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


@pytest.fixture(scope="module")
def report() -> i18n_catalogue.Report:
    return i18n_catalogue.report()


def test_every_msgid_the_code_uses_has_a_zh_cn_translation(
    report: i18n_catalogue.Report,
) -> None:
    assert len(report.required) > 500, "the extraction must find the code's messages"
    missing = {m: report.required[m][0] for m in report.missing}
    assert missing == {}, "run: python tools/i18n_catalogue.py --stub, then translate"


def test_no_catalogue_entry_is_stale(report: i18n_catalogue.Report) -> None:
    assert report.stale == [], "no code names these any more: delete them from interop.po"


def test_every_registered_error_has_its_meaning_and_action_in_zh_cn() -> None:
    zh = catalogue("zh_CN")
    lacking = sorted(
        code
        for code, entry in REGISTRY.items()
        if not zh.get(entry.meaning) or not zh.get(entry.action)
    )
    assert lacking == [], "registry entries without a zh_CN translation"


def test_the_extraction_sees_commands_helps_templates_and_marked_values(
    report: i18n_catalogue.Report,
) -> None:
    used = report.required
    assert "the staff register: people, roles, qualifications, screening, passwords and tokens" in (
        used
    )  # a command's HELP
    assert "Approvals" in used  # a console template
    assert "handed-over" in used  # a value marked in interop.i18n.vocabulary
    assert REGISTRY["E520"].action in used
    # a literal message of a raised error may be translated whole; it is not stale then
    assert "a rejection needs a reason" in report.optional


def test_the_check_finds_a_missing_and_a_stale_entry_and_stubs_the_missing(
    tmp_path: Path,
) -> None:
    real = i18n_catalogue.PO.read_text("utf-8")
    po = tmp_path / "interop.po"
    # the real catalogue less one used entry, plus one no code uses
    dropped = "usage: "
    trimmed = real.replace('msgid "usage: "\nmsgstr "用法："\n', "")
    assert trimmed != real
    po.write_text(trimmed + '\nmsgid "a message nobody uses"\nmsgstr "无人使用"\n', "utf-8")
    rep = i18n_catalogue.report(po)
    assert rep.missing == [dropped]
    assert rep.stale == ["a message nobody uses"]
    assert i18n_catalogue.stub(rep, po) == 1
    again = i18n_catalogue.report(po)
    assert again.missing == [dropped], "a stub has no translation yet: still missing"
    assert dropped in again.entries and again.entries[dropped] == ""
    assert i18n_catalogue.stub(again, po) == 0, "stubs are added once"


def test_the_tool_exits_1_on_a_gap_and_0_when_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert i18n_catalogue.main([]) == 0
    assert "0 missing, 0 stale" in capsys.readouterr().out
    po = tmp_path / "interop.po"
    po.write_text(PO_HEAD + 'msgid "options"\nmsgstr "选项"\n', "utf-8")
    monkeypatch.setattr(i18n_catalogue, "PO", po)
    assert i18n_catalogue.main([]) == 1
    assert "missing: 'usage: '" in capsys.readouterr().out


def test_placeholders_of_both_kinds_survive_translation() -> None:
    printf = re.compile(r"%(?:\(\w+\))?[sr]")
    for msgid, said in catalogue("zh_CN").items():
        fields = {f[1] for f in string.Formatter().parse(msgid) if f[1] is not None}
        assert fields == {f[1] for f in string.Formatter().parse(said) if f[1] is not None}, msgid
        assert sorted(printf.findall(msgid)) == sorted(printf.findall(said)), msgid


def test_the_standard_s_terms_are_used() -> None:
    # docs/glossary.md: one Chinese term per English term of the msgids
    zh = catalogue("zh_CN")
    said = "\n".join(zh.values())
    for term in ("个案", "转介", "结案", "档案库", "督导人员", "委托机构", "服务方案", "危机干预"):
        assert term in said, term
    for wrong in ("案例", "病例", "转诊", "主管", "服务计划"):
        assert wrong not in said, wrong
