"""Resident ID numbers (GB 11643) and masking."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interop._errors import ResidentIdError
from interop.core import resident_id
from interop.core.masking import mask_id, mask_name, mask_phone


def test_known_check_character() -> None:
    # 11010519491231002X is the example of GB 11643 itself.
    assert resident_id.check_character("11010519491231002") == "X"
    rid = resident_id.parse("11010519491231002x")
    assert rid.birth_date == dt.date(1949, 12, 31)
    assert rid.sex == "2"


@given(
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2026, 12, 31)),
    st.sampled_from(["1", "2"]),
    st.integers(min_value=0, max_value=499),
)
def test_made_ids_parse_and_encode_what_they_claim(d: dt.date, sex: str, seq: int) -> None:
    value = resident_id.make("360702", d, sex, seq)
    rid = resident_id.parse(value)
    assert (rid.birth_date, rid.sex, rid.division) == (d, sex, "360702")
    assert resident_id.mismatches(rid, birth_date=d.isoformat(), sex=sex) == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("36010220120304014", "E121"),
        ("3601022012030401A3", "E122"),
        ("360102201213040143", "E123"),
        ("360102201203040144", "E124"),
    ],
)
def test_bad_ids_are_rejected_with_masked_message(value: str, code: str) -> None:
    with pytest.raises(ResidentIdError) as err:
        resident_id.parse(value)
    assert err.value.code == code
    assert value not in str(err.value)


def test_mismatch_names_both_fields() -> None:
    rid = resident_id.parse(resident_id.make("360102", dt.date(2012, 3, 4), "2", 7))
    found = dict(resident_id.mismatches(rid, birth_date="2012-03-05", sex="1"))
    assert "birth date" in found["birth_date"] and "resident ID" in found["birth_date"]
    assert "sex" in found["sex"] and "resident ID" in found["sex"]
    assert rid.value not in found["birth_date"]


def test_masking() -> None:
    assert mask_id("36010220120304014X") == "3601**********014X"
    assert mask_name("张小明") == "张**"
    assert mask_phone("13800001234") == "*******1234"
    assert mask_id(None) == "(empty)"
