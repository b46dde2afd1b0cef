"""A scale result's interpretation is coded (R-9.2-02): the band, HL7 v3 where it fits, the text."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from interop.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
BAND = "https://fhir.jxdcmh.cn/CodeSystem/scale-result-band"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _record(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "fixtures" / "cases" / name).read_text("utf-8"))
    return data


def _scales(engine: Engine, data: dict[str, Any]) -> list[dict[str, Any]]:
    checked = engine.check_case(data)
    assert checked.ok and checked.record is not None, checked.issues
    mapped = engine.case_bundle(checked.record)
    assert mapped.ok, mapped.issues
    assert mapped.bundle is not None
    return [
        e["resource"]
        for e in mapped.bundle["entry"]
        if "dc-observation-scale" in str(e["resource"].get("meta", {}).get("profile"))
    ]


def test_the_band_is_coded_with_hl7_where_the_meaning_matches(engine: Engine) -> None:
    (obs,) = _scales(engine, _record("02-high-risk-crisis.json"))
    (concept,) = obs["interpretation"]
    assert concept["coding"] == [
        {"system": BAND, "code": "high", "display": "显著偏高"},
        {"system": V3, "code": "HU"},
    ]
    assert concept["text"].startswith("量表结果提示抑郁维度显著偏高")  # the worker's words kept


def test_a_band_without_an_hl7_equivalent_travels_alone(engine: Engine) -> None:
    (obs,) = _scales(engine, _record("01-medium-in-service.json"))
    assert obs["interpretation"][0]["coding"] == [
        {"system": BAND, "code": "borderline", "display": "关注范围"}
    ]


def test_a_result_without_a_band_keeps_its_text_as_a_note(engine: Engine) -> None:
    # a required binding wants a coding: text alone would break the profile
    data = _record("01-medium-in-service.json")
    del data["assessments"][0]["result_band"]
    (obs,) = _scales(engine, data)
    assert "interpretation" not in obs
    assert obs["note"] == [{"text": data["assessments"][0]["interpretation"]}]


def test_a_band_outside_the_code_system_is_refused(engine: Engine) -> None:
    data = _record("01-medium-in-service.json")
    data["assessments"][0]["result_band"] = "extreme"
    checked = engine.check_case(data)
    assert not checked.ok
    assert any("result_band" in i.path for i in checked.issues)


def test_the_profile_binds_the_interpretation(engine: Engine) -> None:
    (obs,) = _scales(engine, _record("02-high-risk-crisis.json"))
    bad = copy.deepcopy(obs)
    bad["interpretation"][0]["coding"] = [{"system": V3, "code": "H"}]
    issues = engine.validator.validate(bad)
    assert [i.requirement for i in issues if i.severity == "error"] == ["R-9.2-02"]
    assert not engine.validator.validate(obs)
