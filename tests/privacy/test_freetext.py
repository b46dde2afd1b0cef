"""The PII guard of free text: its recognizers find resident ID numbers (checked by
the MOD 11-2 digit), phone numbers, street and village addresses and the names the
case knows; its operators redact, or report for review / block (9.3 最小必要)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from interop._errors import DataFileError
from interop.core.resident_id import make
from interop.privacy.freetext import Guard, is_free_text, marker
from interop.privacy.policy import load_policies
from interop.resources import mappings_dir

ID = make("360102", dt.date(2012, 1, 11), "1", 123)
GUARD = Guard(names=["张伟", "李娜"], allowed_names=["李娜"], addresses=["赣州市章贡区梧桐里126号"])


def _kinds(text: str) -> list[str]:
    return [k for _, _, k in GUARD.find(text)]


@pytest.mark.parametrize(
    "written",
    [
        ID,
        ID.lower(),
        f"{ID[:6]} {ID[6:14]} {ID[14:]}",
        f"{ID[:6]}-{ID[6:10]}-{ID[10:14]}-{ID[14:]}",
        " ".join(ID[i : i + 4] for i in range(0, 18, 4)),
        ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
        f"证件号{ID}。",
        f"ID{ID}",
    ],
)
def test_resident_id_numbers_are_found_in_any_writing(written: str) -> None:
    text, found = GUARD.check(f"监护人身份证 {written} 已核对", "X.valueString", "redact")
    assert [f.kind for f in found] == ["resident-id"]
    assert "".join(c for c in text if c.isdigit()) == ""
    assert marker("resident-id") in text
    assert found[0].shown == ID[:4] + "*" * 10 + ID[-4:]  # masked, never the number


def test_eighteen_digits_without_a_valid_check_digit_are_not_an_id() -> None:
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert _kinds(f"订单号 {wrong}") == []
    assert _kinds("20251130123456789012345") == []  # longer runs are not IDs


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "138-0013-8000",
        "138 0013 8000",
        "+86 138 0013 8000",
        "008613800138000",
        "0791-88881234",
        "(0797)8123456",
        "0791 8888 1234",
        "0797-8123456转12",
    ],
)
def test_mobile_and_landline_numbers_are_found(phone: str) -> None:
    text, found = GUARD.check(f"联系电话：{phone}，晚上打", "X.text", "redact")
    assert [f.kind for f in found] == ["phone"]
    assert text == f"联系电话：{marker('phone')}，晚上打"


@pytest.mark.parametrize(
    "address",
    [
        "江西省南昌市青山湖区云锦路35号8栋503室",
        "九江市濂溪区梧桐里182号2栋104室",
        "清源乡泉水村6组49号",
        "江西省南昌市青山湖区清源乡泉水村",
        "八一大道128号",
        "3栋2单元401室",
    ],
)
def test_street_and_village_addresses_are_found(address: str) -> None:
    text, found = GUARD.check(f"现住{address}，", "X.text", "redact")
    assert [f.kind for f in found] == ["address"]
    assert address not in text and marker("address") in text


def test_plain_plan_text_is_left_alone() -> None:
    for text in (
        "返校前两周试读半天，教室调整到一楼，每周二下午与班主任沟通",
        "2025年春季学期第3周起，每周1次，共8次",
        "在农村留守，与祖父母同住",
    ):
        assert GUARD.check(text, "X.text", "redact") == (text, [])


def test_names_the_case_knows_are_found_unless_the_purpose_lets_them_out() -> None:
    text, found = GUARD.check("与张伟、李娜谈话", "Goal.description.text", "redact")
    assert text == f"与{marker('name')}、李娜谈话"
    assert [f.kind for f in found] == ["name"]
    assert "张伟" not in found[0].line()


def test_the_case_s_own_address_is_found_literally() -> None:
    assert _kinds("家访地址：赣州市章贡区梧桐里126号") == ["address"]


def test_review_and_block_report_without_changing_the_text() -> None:
    for action in ("review", "block"):
        text, found = GUARD.check(f"电话13800138000 身份证{ID}", "E.text", action)
        assert text == f"电话13800138000 身份证{ID}"
        assert [(f.kind, f.action) for f in found] == [("phone", action), ("resident-id", action)]
        line = found[1].line()
        assert ID not in line and "13800138000" not in line and "characters" in line


def test_structured_names_and_addresses_are_not_free_text() -> None:
    assert is_free_text("valueString", None) and is_free_text("text", "description")
    assert not is_free_text("text", "name") and not is_free_text("text", "address")
    assert not is_free_text("text", "valueAddress") and not is_free_text("family", "name")


# -- policy files: the free_text and safety_flags sections are checked on load --------


def _policies_with(tmp_path: Path, name: str, **changes: object) -> Path:
    folder = tmp_path / "purposes"
    shutil.copytree(mappings_dir() / "purposes", folder)
    path = folder / name
    data = json.loads(path.read_text("utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "changes", "message"),
    [
        (
            "school-support.json",
            {"free_text": {"default": "hide"}},
            "school-support.json.*free_text.default: must be one of redact, review, block",
        ),
        (
            "school-support.json",
            {"free_text": {"elements": {"CarePlan.nonsense": "redact"}}},
            "school-support.json.*unknown element 'nonsense' of CarePlan",
        ),
        (
            "school-support.json",
            {"free_text": {"elements": {"Nothing.text": "redact"}}},
            "unknown resource type 'Nothing'",
        ),
        (
            "crisis-safety.json",
            {"free_text": {"default": "review"}},
            "crisis-safety.json.*a break-glass policy leaves at once: no review",
        ),
        (
            "school-support.json",
            {"safety_flags": {"guardian-restricted": "ignore"}},
            "safety_flags.guardian-restricted: must be one of flag, label, block",
        ),
        (
            "school-support.json",
            {"safety_flags": {"no-such-flag": "flag"}},
            "unknown flag 'no-such-flag'",
        ),
    ],
)
def test_policy_sections_are_checked_on_load(
    tmp_path: Path, name: str, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(DataFileError, match=message):
        load_policies(_policies_with(tmp_path, name, **changes))


def test_every_policy_says_how_it_honours_every_safety_flag() -> None:
    for p in load_policies().policies:
        assert set(p.safety_flags) == {
            "guardian-restricted",
            "avoid-reinterview",
            "contacting-subject-prohibited",
        }, p.file
