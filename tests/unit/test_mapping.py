"""The declarative mapping engine: loading checks and mapping behaviour."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from interop._errors import DataFileError, RuleViolation
from interop.caserecord import check_case_record
from interop.fhir.mapping import MappingSet
from interop.fhir.terminology import Terminology
from interop.resources import mappings_dir

ROOT = Path(__file__).resolve().parents[2]


def _case(terminology: Terminology) -> Any:
    path = sorted((ROOT / "fixtures" / "cases").glob("*.json"))[0]
    checked = check_case_record(json.loads(path.read_text("utf-8")), terminology)
    assert checked.ok, checked.issues
    return checked.record


def _write(tmp_path: Path, entry: dict[str, Any]) -> Path:
    (tmp_path / "m.json").write_text(json.dumps({"entries": [entry]}), "utf-8")
    return tmp_path


PATIENT: dict[str, Any] = {
    "name": "p",
    "resource": "Patient",
    "id": "child",
    "template": {"name": [{"text": "{{child.name}}"}]},
}


def test_bundled_mappings_load(terminology: Terminology) -> None:
    ms = MappingSet.load(terminology)
    assert {e.resource for e in ms.entries} >= {
        "Patient",
        "RelatedPerson",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "EpisodeOfCare",
        "RiskAssessment",
        "Observation",
        "CarePlan",
        "Goal",
        "Encounter",
        "Consent",
        "Flag",
        "Composition",
    }


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"template": {"name": [{"text": "{{child.nmae}}"}]}}, "unknown source path 'child.nmae'"),
        ({"resource": "Patiënt"}, "unknown FHIR R4 resource type"),
        ({"template": {"nmae": "x"}}, "Patient has no element 'nmae'"),
        ({"template": {"gender": {"$wat": "child.sex"}}}, "unknown directive '$wat'"),
        ({"colour": "red"}, "unknown key(s): colour"),
        (
            {
                "template": {
                    "gender": {
                        "$translate": "child.sex",
                        "map": "nope",
                        "source": "urn:oid:2.16.156.10011.2.3.3.4",
                    }
                }
            },
            "unknown ConceptMap 'nope'",
        ),
        ({"for_each": [{"path": "sessions"}]}, "needs exactly 'path' and 'as'"),
        ({"template": {"gender": {"$coding": "child.sex", "system": "cs:nope"}}}, "unknown code"),
        (
            {"template": {"link": [{"other": {"$ref": "Nothing/{{child.name}}"}}]}},
            "unknown resource type 'Nothing'",
        ),
    ],
)
def test_bad_mapping_file_names_file_entry_and_problem(
    tmp_path: Path, terminology: Terminology, change: dict[str, Any], needle: str
) -> None:
    folder = _write(tmp_path, {**PATIENT, **change})
    with pytest.raises(DataFileError) as err:
        MappingSet.load(terminology, folder)
    msg = str(err.value)
    assert "m.json" in msg
    assert "entries[0]" in msg
    assert needle in msg


def test_unreadable_mapping_file(tmp_path: Path, terminology: Terminology) -> None:
    (tmp_path / "broken.json").write_text('{"entries": [', "utf-8")
    with pytest.raises(DataFileError, match=r"broken\.json"):
        MappingSet.load(terminology, tmp_path)


def test_reference_that_does_not_resolve_fails(tmp_path: Path, terminology: Terminology) -> None:
    entry = {**PATIENT, "template": {"managingOrganization": {"$ref": "Organization/nowhere"}}}
    ms = MappingSet.load(terminology, _write(tmp_path, entry))
    with pytest.raises(RuleViolation, match="Organization/nowhere"):
        ms.resources(_case(terminology))


def test_ids_are_deterministic_and_references_resolve(terminology: Terminology) -> None:
    ms = MappingSet.load(terminology)
    record = _case(terminology)
    b1, b2 = ms.bundle(record), ms.bundle(record)
    assert b1 == b2
    full = {e["fullUrl"] for e in b1["entry"]}
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                refs.append(node["reference"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(b1)
    assert refs, "a case Bundle has references"
    assert set(refs) <= full


def test_required_key_drops_the_object(tmp_path: Path, terminology: Terminology) -> None:
    entry = {
        **PATIENT,
        "template": {"telecom": [{"system": "phone", "!value": "{{child.phone}}"}]},
    }
    ms = MappingSet.load(terminology, _write(tmp_path, entry))
    record = _case(terminology)
    record.child.phone = None
    (patient,) = ms.resources(record)
    assert "telecom" not in patient
    record.child.phone = "13800000000"
    (patient,) = ms.resources(record)
    assert patient["telecom"] == [{"system": "phone", "value": "13800000000"}]


def test_xhtml_filter_escapes_free_text(tmp_path: Path, terminology: Terminology) -> None:
    entry = {
        **PATIENT,
        "template": {
            "text": {
                "status": "generated",
                "div": '<div xmlns="http://www.w3.org/1999/xhtml">{{child.name|xhtml}}</div>',
            }
        },
    }
    ms = MappingSet.load(terminology, _write(tmp_path, entry))
    record = _case(terminology)
    record.child.name = "<b>&"
    (patient,) = ms.resources(record)
    assert "&lt;b&gt;&amp;" in patient["text"]["div"]


def test_a_copy_of_the_bundled_folder_loads(tmp_path: Path, terminology: Terminology) -> None:
    shutil.copytree(mappings_dir() / "fhir", tmp_path / "fhir")
    assert MappingSet.load(terminology, tmp_path / "fhir").entries
