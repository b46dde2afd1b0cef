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


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_character_is_iso_7064_mod_11_2(digits: str) -> None:
    # as GB 11643 states it: the digit at position i (18 at the left) weighs 2^(i-1) mod 11,
    # and the check character is (12 - sum mod 11) mod 11, with 10 written X
    total = sum(int(d) * (2 ** (17 - k) % 11) for k, d in enumerate(digits))
    value = (12 - total % 11) % 11
    assert resident_id.check_character(digits) == ("X" if value == 10 else str(value))


@pytest.mark.parametrize("first17", ["3601022012030401", "3601022012030401a", "٣٦٠١٠٢٢٠١٢٠٣٠٤٠١٤"])
def test_check_character_takes_17_ascii_digits_only(first17: str) -> None:
    with pytest.raises(ValueError):
        resident_id.check_character(first17[:17])


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
        # digits of another script are not the ASCII digits an ID is written in
        ("٣٦٠١٠٢٢٠١٢٠٣٠٤٠١٤٣", "E122"),
        ("３６０１０２２０１２０３０４０１４３", "E122"),
    ],
)
def test_bad_ids_are_rejected_with_masked_message(value: str, code: str) -> None:
    with pytest.raises(ResidentIdError) as err:
        resident_id.parse(value)
    assert err.value.code == code
    assert value not in str(err.value)


def test_a_day_that_does_not_exist_is_refused_each_time() -> None:
    # 29 February: a day in 2012, none in 2013 — asked twice, in either order
    leap = resident_id.make("360102", dt.date(2012, 2, 29), "1", 7)
    for _ in range(2):
        assert resident_id.parse(leap).birth_date == dt.date(2012, 2, 29)
        body = leap[:6] + "20130229" + leap[14:17]
        with pytest.raises(ResidentIdError) as err:
            resident_id.parse(body + resident_id.check_character(body))
        assert err.value.code == "E123"


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
