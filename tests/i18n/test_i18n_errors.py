"""An error said to an operator: in English the one line ``[E123] message`` scripts read;
in zh_CN the code kept, the registry's meaning and action translated and the detail kept —
translated too where the catalogue has it or the template it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from interop._errors import REGISTRY, AccessDenied, InputError, InteropError, StoreError
from interop.i18n import catalogue, translate
from interop.i18n.errors import explain
from interop.i18n.parser import translate_message

WHERE = "sqlite:////srv/interop/archive.sqlite3"
NO_ARCHIVE = (
    f"no archive at {WHERE}: create one with `interop init --db URL` "
    "(the --db you gave), or give the --db of an existing archive"
)


def test_english_keeps_the_one_line_form() -> None:
    exc = StoreError(NO_ARCHIVE, code="E520")
    assert explain(exc, "en") == f"[E520] {NO_ARCHIVE}"


def test_zh_cn_translates_meaning_and_action_and_the_detail_from_its_template() -> None:
    said = explain(StoreError(NO_ARCHIVE, code="E520"), "zh_CN")
    first, detail, action = said.splitlines()
    assert first == "[E520] " + translate(REGISTRY["E520"].meaning, "zh_CN")
    assert first.startswith("[E520] 该位置没有档案库")
    # the variable part (which archive) is carried into the translated detail
    assert detail.strip().startswith("详情：") and WHERE in detail and "没有档案库" in detail
    assert "no archive" not in said
    assert action.strip() == "处理：" + translate(REGISTRY["E520"].action, "zh_CN")


def test_a_fixed_message_is_translated_whole() -> None:
    said = explain(AccessDenied("you are not staff of this case", code="E822"), "zh_CN")
    assert said.splitlines()[1] == "  详情：您不是此个案的服务人员"


def test_an_untranslated_detail_is_kept_as_written() -> None:
    said = explain(InputError("row 12: field 困境类型 code 99", code="E105"), "zh_CN")
    assert said.startswith("[E105] 某个值不符合选项或文件的要求")
    assert "详情：row 12: field 困境类型 code 99" in said


def test_a_code_without_translation_says_the_detail_only() -> None:
    # a code another branch registers before its translation is added
    assert explain(InteropError("something", code="E999"), "zh_CN") == "[E999] something"


def test_every_registered_code_is_said_in_chinese_with_its_code() -> None:
    zh = catalogue("zh_CN")
    for code, entry in REGISTRY.items():
        said = explain(InteropError("detail", code=code), "zh_CN")
        assert said.startswith(f"[{code}] {zh[entry.meaning]}"), code
        assert said.endswith(zh[entry.action]), code


def test_argparse_messages_are_translated_by_their_template() -> None:
    from interop.i18n import speaking

    nested = "argument --risk: invalid choice: 'x' (choose from 'low', 'high')"
    with speaking("zh_CN"):
        assert translate_message(nested) == "参数 --risk：无效的选项值：'x'（可选：'low', 'high'）"
        assert (
            translate_message("the following arguments are required: ACTION")
            == "缺少以下必需参数：ACTION"
        )
        assert translate_message("something argparse says anew") == "something argparse says anew"
    assert translate_message(nested) == nested


def test_a_message_made_from_a_template_is_said_with_its_values() -> None:
    from interop.exchange.driver import MSG_QUEUED
    from interop.i18n.templates import localise
    from interop.staff.policy import MSG_DENIED

    queued = MSG_QUEUED.format(partner="school-a", item="17")
    assert localise(queued, "zh_CN") == (
        "已作为发件箱投递 17 排队发往 school-a；由 interop outbox run 发送"
    )
    assert localise(queued, "en") == queued
    denied = MSG_DENIED.format(who="w01", action="disclosure.approve", roles="worker")
    said = explain(AccessDenied(denied, code="E820"), "zh_CN")
    assert "详情：w01 无权执行 disclosure.approve（角色：worker）" in said


def test_a_template_with_little_fixed_text_takes_no_message_apart() -> None:
    from interop.i18n.templates import localise

    # "token {id} {label} {revoked}" and "{file}: valid" must not match these
    assert localise("token x y z", "zh_CN") == "token x y z"
    assert localise("row 3: valid", "zh_CN") == "row 3: valid"


def test_a_message_with_parts_and_a_head_is_said_whole() -> None:
    from interop.core.resident_id import WRONG_CHECK
    from interop.i18n.templates import localise
    from interop.inbound.layout import AT_ROW_OF_SHEET, NO_DATA, OF_SHEETS

    # a field's value made from a shorter template ("row 3 of sheet 名单") is said too
    refusal = NO_DATA.format(file="l.xlsx", where=AT_ROW_OF_SHEET.format(row=3, sheet="名单"))
    assert localise(refusal, "zh_CN") == "l.xlsx：表头（工作表 名单 第 3 行）下没有数据行"
    # an empty field still matches
    assert (
        OF_SHEETS.format(sheets="A") != ""
        and localise(NO_DATA.format(file="l.csv", where=""), "zh_CN")
        == "l.csv：表头（）下没有数据行"
    )
    # a column put before a message of its own: the column kept, the message said
    finding = "身份证号: " + WRONG_CHECK.format(id="3601**********0040")
    assert localise(finding, "zh_CN") == (
        "身份证号：居民身份证号码 3601**********0040 的校验码错误（GB 11643 MOD 11-2）"
    )
    assert localise("身份证号: not a message", "zh_CN") == "身份证号: not a message"


def test_a_configuration_error_in_chinese(tmp_path: Path) -> None:
    from interop.config import ConfigError, load_config

    file = tmp_path / "partners.toml"
    file.write_text('[partners.s]\nkind = "school"\nurl = "ftp://x"\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert str(caught.value) == f"[E162] {file}: partner s: key 'url' must be an http(s) URL"
    said = explain(caught.value, "zh_CN").splitlines()
    assert said[0] == "[E162] 合作方配置表或其中的键有误。"
    assert said[1] == f"  详情：{file}: partner s：键 'url' 必须是 http(s) URL"
