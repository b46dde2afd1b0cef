"""Declarative inbound mappings, and their schema checks by jsonschema-rs."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from child_lists import HEADER, RECEIVED, good_row, run_cli, write_csv
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_mapping import map_row_reference

from interop._errors import DataFileError
from interop.inbound.mapping import InboundMapping
from interop.resources import mappings_dir

ENTRY_SCHEMA = json.loads(
    (mappings_dir() / "inbound" / "schemas" / "child-list-entry.schema.json").read_text("utf-8")
)
_fast = jsonschema_rs.validator_for(ENTRY_SCHEMA)
_slow = jsonschema.Draft202012Validator(ENTRY_SCHEMA)


def _agree(fast: Any, slow: Any, doc: Any) -> None:
    """jsonschema-rs and jsonschema give the same verdict and the same breaks."""
    assert fast.is_valid(doc) == slow.is_valid(doc)

    def named(path: Any, rule: str, message: str) -> tuple[str, str, str]:
        return repr(list(path)), rule, message.split("'")[1] if rule == "required" else ""

    ours = [
        named(e.instance_path, e.kind.name, f"'{getattr(e.kind, 'property', '')}'")
        for e in fast.iter_errors(doc)
    ]
    theirs = [named(e.absolute_path, e.validator, e.message) for e in slow.iter_errors(doc)]
    assert sorted(ours) == sorted(theirs)


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(["", "1", "01", "high", "2012-01-01", "36010220120101001X", "x" * 60]),
    st.text(max_size=8),
    st.lists(st.sampled_from(["", "disability", "x" * 41, 3]), max_size=3),
)
_records = st.dictionaries(
    st.sampled_from([*ENTRY_SCHEMA["properties"], "extra"]), _values, max_size=12
)


@settings(max_examples=400, deadline=None)
@given(_records)
def test_fast_check_agrees_with_jsonschema(record: dict[str, Any]) -> None:
    _agree(_fast, _slow, record)


@settings(max_examples=200, deadline=None)
@given(_records)
def test_fast_check_agrees_on_nearly_valid_records(record: dict[str, Any]) -> None:
    base: dict[str, Any] = {
        "name": "测",
        "sex": "1",
        "ethnicity": "01",
        "birth_date": "2012-01-01",
        "household_registration": "江西",
        "home_address": "江西",
        "difficulty_categories": ["disability"],
        "risk_level": "high",
        "designation_date": "2025-01-01",
    }
    base.update(record)
    _agree(_fast, _slow, base)


# The mapping format itself (anyOf, minProperties, additionalProperties as a schema).
MAPPING_FORMAT = json.loads(
    (mappings_dir() / "inbound" / "schemas" / "inbound-mapping.schema.json").read_text("utf-8")
)
_fast_format = jsonschema_rs.validator_for(MAPPING_FORMAT)
_slow_format = jsonschema.Draft202012Validator(MAPPING_FORMAT)
_DEFAULT_MAPPING = json.loads(
    (mappings_dir() / "inbound" / "civil-affairs-default.json").read_text("utf-8")
)
_field_specs = st.dictionaries(
    st.sampled_from(["column", "required", "type", "system", "values", "past", "bogus"]),
    st.one_of(
        _values,
        st.lists(st.sampled_from(["列", "", 1]), max_size=2),
        st.dictionaries(st.sampled_from(["男", "女"]), st.sampled_from(["1", 2])),
        st.sampled_from(["text", "date", "codes", "nope"]),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["name", "sex", "x"]), _field_specs, max_size=3),
    st.sampled_from([None, "Bad Name", "county-y", 3]),
    st.sampled_from([None, [], ["resident_id"], "resident_id"]),
    st.sampled_from([None, {}, {"delimiter": ";"}, {"delimiter": ";;"}, {"x": 1}]),
)
def test_fast_mapping_format_agrees_with_jsonschema(
    fields: dict[str, Any], name: Any, key: Any, csv_options: Any
) -> None:
    doc: dict[str, Any] = json.loads(json.dumps(_DEFAULT_MAPPING))
    doc["fields"].update(fields)
    for k, v in (("name", name), ("key", key), ("csv", csv_options)):
        if v is not None:
            doc[k] = v
    _agree(_fast_format, _slow_format, doc)
    empty = {**doc, "fields": {}}
    _agree(_fast_format, _slow_format, empty)


def _county_mapping(tmp_path: Path, **over: Any) -> Path:
    data: dict[str, Any] = {
        "name": "county-x",
        "key": ["resident_id"],
        "alternate_key": ["name", "birth_date", "guardian_name"],
        "date_formats": ["YYYY.MM.DD"],
        "schema": str(mappings_dir() / "inbound" / "schemas" / "child-list-entry.schema.json"),
        "fields": {
            "name": {"column": ["儿童姓名", "姓名"], "required": True},
            "sex": {"column": "性别", "required": True, "type": "code",
                    "system": "urn:oid:2.16.156.10011.2.3.3.4", "values": {"M": "1", "F": "2"}},
            "ethnicity": {"column": "民族", "required": True, "type": "code",
                          "system": "urn:oid:2.16.156.10011.2.3.3.3"},
            "resident_id": {"column": "公民身份号码", "type": "resident-id"},
            "birth_date": {"column": "生日", "required": True, "type": "date", "past": True},
            "household_registration": {"column": "户籍", "required": True},
            "home_address": {"column": "现住址", "required": True},
            "guardian_name": {"column": "监护人"},
            "difficulty_categories": {"column": "类别", "required": True, "type": "codes",
                                      "system": "cs:difficulty-category", "separators": "|"},
            "risk_level": {"column": "风险", "required": True, "type": "code",
                           "system": "cs:risk-level", "values": {"III": "high"}},
            "designation_date": {"column": "认定时间", "required": True, "type": "date"},
        },
    }  # fmt: skip
    data.update(over)
    path = tmp_path / "county-x.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def test_another_county_is_a_mapping_file(tmp_path: Path) -> None:
    mapping = _county_mapping(tmp_path)
    header = ["儿童姓名", "性别", "民族", "公民身份号码", "生日", "户籍", "现住址"]
    header += ["监护人", "类别", "风险", "认定时间"]
    g = good_row(1)
    base = {
        "儿童姓名": "测试",
        "性别": "M",
        "民族": "汉",
        "公民身份号码": g["身份证号"],
        "生日": g["出生日期"].replace("-", "."),
        "户籍": "江西省",
        "现住址": "江西省",
        "监护人": "某人",
        "类别": "自身残疾|虐待",
        "风险": "III",
        "认定时间": "2025.06.01",
    }
    no_id = dict(base, 公民身份号码="", 儿童姓名="无证")  # matched on the alternate key
    path = write_csv(tmp_path / "x.csv", [base, no_id], header=header)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rc, rep = run_cli("--db", db, "sync", str(path), "--mapping", str(mapping), "--json",
                      "--received", RECEIVED)  # fmt: skip
    assert rc == 0 and rep["new"] == 2 and rep["quarantined"] == 0, rep["issues"]
    rc, rep = run_cli("--db", db, "sync", str(path), "--mapping", str(mapping), "--json",
                      "--received", RECEIVED)  # fmt: skip
    assert rep["unchanged"] == 2


def test_mapping_errors_name_file_entry_and_line(tmp_path: Path) -> None:
    path = _county_mapping(tmp_path, key=["nope"])
    with pytest.raises(DataFileError) as err:
        InboundMapping.load(str(path))
    assert err.value.file.endswith("county-x.json") and "key" in err.value.entry
    path = _county_mapping(tmp_path, surprise=1)
    with pytest.raises(DataFileError, match="breaks the mapping format"):
        InboundMapping.load(str(path))
    text = json.loads(path.read_text("utf-8"))
    text.pop("surprise")
    text["fields"]["name"]["column"] = 5
    path.write_text(json.dumps(text, indent=2, ensure_ascii=False), "utf-8")
    with pytest.raises(DataFileError) as err:
        InboundMapping.load(str(path))
    assert "fields.name.column" in err.value.entry and "line" in err.value.entry
    text["fields"]["name"]["column"] = "x"
    text["fields"]["shoe_size"] = {"column": "鞋码"}
    path.write_text(json.dumps(text, ensure_ascii=False), "utf-8")
    with pytest.raises(DataFileError, match="not a field of the record schema"):
        InboundMapping.load(str(path))


def test_every_shipped_mapping_loads() -> None:
    for path in (mappings_dir() / "inbound").glob("*.json"):
        InboundMapping.load(str(path))


_cells = st.one_of(
    st.sampled_from(
        ["", " ", "男", "女", "1", "2", "9", "火", "汉族", "汉", "01", "回族", "火星族",
         "高", "中风险", "低", "很高", "high", "2012-01-01", "2012/1/1", "20120101",
         "2012年1月1日", "2012.1.1", "2012-02-30", "2030-01-01", "去年", "初中", "学前",
         "自身残疾", "自身残疾、外星", "遗弃，虐待", "/、", "母亲", "13800000000", "x" * 60,
         "36010220120101001X", "360102201201010011", "36010220120101001x", "３６０１０２"]
    ),
    st.text(max_size=6),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(HEADER), _cells, max_size=8), st.integers(1, 400))
def test_mapping_agrees_with_the_reference(over: dict[str, str], i: int) -> None:
    mapping = _default_mapping()
    terms = _terms()
    row = good_row(i, **over)
    received = dt.date(2025, 12, 22)
    assert mapping.map_row(row, terms, received) == map_row_reference(mapping, row, terms, received)
    assert mapping.map_row(row, terms, received) == map_row_reference(
        mapping, row, terms, received
    )  # from the caches, too


@functools.cache
def _default_mapping() -> InboundMapping:
    return InboundMapping.load()


@functools.cache
def _terms() -> Any:
    from interop.fhir.terminology import Terminology

    return Terminology.load()


# The mapper checks a coded or date field's value once per distinct cell text (when the
# converter's result is cached) and the rest of the record per row: together exactly the
# record schema. A stricter schema than the shipped one makes coded and date values fail.
_STRICT = {
    **ENTRY_SCHEMA,
    "properties": {
        **ENTRY_SCHEMA["properties"],
        "sex": {"type": "string", "enum": ["1", "2"]},
        "risk_level": {"type": "string", "enum": ["high", "medium"]},
        "birth_date": {"type": "string", "pattern": "^201[0-8]"},
        "difficulty_categories": {"type": "array", "maxItems": 1},
        "school_stage": {"type": "string", "maxLength": 20},  # not above-senior-secondary
    },
}


@functools.cache
def _strict_mapping(folder: str) -> InboundMapping:
    schema = Path(folder) / "strict.schema.json"
    schema.write_text(json.dumps(_STRICT), "utf-8")
    data = json.loads((mappings_dir() / "inbound" / "civil-affairs-default.json").read_text())
    data.update(name="strict", schema=str(schema))
    path = Path(folder) / "strict.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return InboundMapping.load(str(path))


@pytest.fixture(scope="module")
def strict_folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("strict"))


def test_a_coded_value_the_schema_refuses_quarantines_the_row(strict_folder: str) -> None:
    mapping = _strict_mapping(strict_folder)
    received = dt.date(2025, 12, 22)
    for cells, column in (
        ({"风险等级": "低"}, "风险等级"),
        ({"性别": "9"}, "性别"),
        ({"困境类型": "自身残疾、遗弃"}, "困境类型"),
        ({"就学阶段": "高中以上"}, "就学阶段"),
    ):
        for _ in range(2):  # the second time from the cache
            entry, findings = mapping.map_row(good_row(3, **cells), _terms(), received)
            assert entry is None
            assert [(f.field, f.code) for f in findings] == [(column, "schema")]
    entry, findings = mapping.map_row(good_row(3), _terms(), received)
    assert entry is not None and findings == []


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(HEADER), _cells, max_size=8), st.integers(1, 400))
def test_a_strict_schema_agrees_with_the_reference(
    strict_folder: str, over: dict[str, str], i: int
) -> None:
    mapping = _strict_mapping(strict_folder)
    row = good_row(i, **over)
    received = dt.date(2025, 12, 22)
    for _ in range(2):  # the second time from the caches
        assert mapping.map_row(row, _terms(), received) == map_row_reference(
            mapping, row, _terms(), received
        )
