"""Resident-ID identifiers on FHIR input: both OID systems are accepted."""

from __future__ import annotations

import datetime as dt

from interop.core import resident_id
from interop.engine import Engine
from interop.fhir.identifiers import normalise_resident_id, resident_id_of

ALT = "urn:oid:2.16.840.1.113883.2.23.1.19.1"


def _patient(system: str, value: str) -> dict[str, object]:
    return {
        "resourceType": "Patient",
        "meta": {"profile": ["https://fhir.jxdcmh.cn/StructureDefinition/dc-patient"]},
        "extension": [
            {
                "url": "https://fhir.jxdcmh.cn/StructureDefinition/ethnicity",
                "valueCoding": {"system": "urn:oid:2.16.156.10011.2.3.3.3", "code": "01"},
            }
        ],
        "identifier": [{"system": system, "value": value}],
        "name": [{"text": "x"}],
        "gender": "female",
        "birthDate": "2012-03-04",
    }


def test_both_systems_are_read_and_normalised() -> None:
    value = resident_id.make("360102", dt.date(2012, 3, 4), "2", 1)
    for system in (resident_id.SYSTEM, ALT):
        p = _patient(system, value.lower())
        assert resident_id_of(p) == value
        assert normalise_resident_id(p)["identifier"][0]["system"] == resident_id.SYSTEM
    assert resident_id_of({"identifier": [{"system": "urn:other", "value": value}]}) is None


def test_profile_checks_the_connectathon_system_too(engine: Engine) -> None:
    value = resident_id.make("360102", dt.date(2012, 3, 4), "2", 1)
    assert not [i for i in engine.validator.validate(_patient(ALT, value)) if i.severity == "error"]
    bad = [i for i in engine.validator.validate(_patient(ALT, "36010X")) if i.severity == "error"]
    assert any(i.requirement == "G-29" for i in bad)
