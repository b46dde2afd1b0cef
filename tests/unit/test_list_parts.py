"""The list-owned parts of a case record, and a new child's whole record (core.listed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from interop.core.listed import ListParts, org_id
from interop.fhir.canonical import cs
from interop.fhir.terminology import Terminology
from interop.inbound.mapping import InboundMapping
from interop.inbound.prepare import Preparer, SyncOptions
from interop.store.archive import merge_list_fields
from interop.store.jsontext import dumpb

_FULL = {
    "name": "黎轩",
    "sex": "1",
    "ethnicity": "01",
    "birth_date": "2013-07-23",
    "resident_id": "360402201307232138",
    "home_address": "江西省九江市濂溪区165号",
    "household_registration": "江西省九江市濂溪区",
    "difficulty_categories": ["disability", "economic-hardship"],
    "risk_level": "medium",
    "designation_date": "2025-09-10",
    "designating_org": "上饶市信州区民政局",
    "school": "濂溪区第5中学",
    "school_stage": "junior-secondary",
    "guardian_name": "陶某男",
    "guardian_relationship": "祖父",
    "guardian_phone": "13598350940",
    "list_number": "13284",
}


@pytest.fixture(scope="module")
def parts() -> ListParts:
    options = SyncOptions(received=dt.date(2025, 12, 22), contractor_name="某承接机构")
    return Preparer(InboundMapping.load(None), Terminology.load(), options, None).parts


def _org(prefix: str, name: str) -> str:
    return org_id(prefix, name)


def test_a_new_childs_record_holds_every_list_owned_part(parts: ListParts) -> None:
    school, office = _org("school-", "濂溪区第5中学"), _org("ca-", "上饶市信州区民政局")
    expected: dict[str, Any] = {
        "format_version": "1.0",
        "case": {
            "case_number": "",
            "state": "listed",
            "risk_level": "medium",
            "designation_date": "2025-09-10",
            "inclusion_basis": "department-designation",
            "designating_org": office,
            "list_received_date": "2025-12-22",
            "contractor": "contractor",
        },
        "child": {
            "name": "黎轩",
            "sex": "1",
            "ethnicity": "01",
            "birth_date": "2013-07-23",
            "resident_id": "360402201307232138",
            "home_address": {"text": "江西省九江市濂溪区165号"},
            "household_registration": {"text": "江西省九江市濂溪区"},
            "difficulty_categories": ["disability", "economic-hardship"],
            "school": {"enrolled": True, "stage": "junior-secondary", "school": school},
        },
        "adults": [
            {
                "id": "guardian-list",
                "name": "陶某男",
                "roles": ["guardian"],
                "relationship": Terminology.load().code_for_text(cs("family-relationship"), "祖父"),
                "phone": "13598350940",
            }
        ],
        "organisations": [
            {"id": "contractor", "kind": "contractor", "name": "某承接机构"},
            {"id": school, "kind": "school", "name": "濂溪区第5中学"},
            {"id": office, "kind": "civil-affairs", "name": "上饶市信州区民政局"},
        ],
    }
    assert expected["adults"][0]["relationship"]  # (the code system knows 祖父)
    record = parts.new_record(_FULL)
    assert orjson.loads(record) == expected
    assert record == dumpb(expected)  # canonical: sorted keys, no spaces


def test_a_row_without_optional_columns_has_no_school_guardian_or_office(
    parts: ListParts,
) -> None:
    entry = {k: v for k, v in _FULL.items() if not k.startswith(("school", "guardian", "desig"))}
    entry["designation_date"] = "2025-09-10"
    record = orjson.loads(parts.new_record(entry))
    assert "school" not in record["child"]
    assert record["adults"] == []
    assert "designating_org" not in record["case"]
    assert [o["kind"] for o in record["organisations"]] == ["contractor"]


def test_an_unknown_relationship_leaves_the_code_out(parts: ListParts) -> None:
    record = orjson.loads(parts.new_record({**_FULL, "guardian_relationship": "不知道"}))
    assert "relationship" not in record["adults"][0]


def test_not_at_school_is_not_enrolled(parts: ListParts) -> None:
    entry = {k: v for k, v in _FULL.items() if k != "school"}
    record = orjson.loads(parts.new_record({**entry, "school_stage": "not-applicable"}))
    assert record["child"]["school"] == {"enrolled": False, "stage": "not-applicable"}


def test_records_share_no_part_a_merge_or_a_later_row_could_change(parts: ListParts) -> None:
    first = parts.of(_FULL)
    second = parts.of({**_FULL, "risk_level": "high", "name": "另一个"})
    for key in ("child", "case", "adults"):
        assert first[key] is not second[key]
    assert first["case"]["risk_level"] == "medium"
    assert first["child"]["name"] == "黎轩"
    # a new record's case is built for it alone: the parts handed out before stay as they were
    parts.new_record(_FULL)
    assert "case_number" not in first["case"]
    # organisation entries are shared, and merging leaves them as they are
    merged = merge_list_fields(orjson.loads(parts.new_record(_FULL)), second)
    assert merged["organisations"][1] is second["organisations"][1]
    assert second["organisations"][1] == {
        "id": _org("school-", "濂溪区第5中学"),
        "kind": "school",
        "name": "濂溪区第5中学",
    }


def test_a_run_names_each_school_once_however_many_rows_name_it(parts: ListParts) -> None:
    entries = [{**_FULL, "school": f"第{i % 3}中学"} for i in range(9)]
    records = [orjson.loads(parts.new_record(entry)) for entry in entries]
    ids = {r["child"]["school"]["school"] for r in records}
    assert ids == {_org("school-", f"第{i}中学") for i in range(3)}


def test_the_caches_stay_bounded(parts: ListParts) -> None:
    for i in range(5000):
        parts.new_record({**_FULL, "school": f"第{i}中学", "guardian_relationship": f"亲属{i}"})
    assert parts._org.cache_info().currsize <= 4096
    assert parts._relationship.cache_info().currsize <= 4096
