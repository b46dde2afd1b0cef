"""The validator: base structure, base bindings, profiles with FHIRPath invariants."""

from __future__ import annotations

import builtins
import copy
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from interop._errors import DataFileError
from interop.fhir.structure import Structure
from interop.fhir.terminology import Terminology
from interop.fhir.validate import Issue, Validator, operation_outcome

DATA = Path(__file__).resolve().parent.parent / "data" / "validator"
TEST = "https://test.example.org/StructureDefinition/"
METHOD = "https://test.example.org/CodeSystem/test-service-method"
CATEGORY = "https://test.example.org/CodeSystem/test-plan-category"
Resource = dict[str, Any]


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return Terminology.load(DATA / "terminology")


@pytest.fixture(scope="module")
def validator(terminology: Terminology) -> Validator:
    return Validator.load(DATA, terminology)


def careplan() -> Resource:
    """A CarePlan that conforms to the test profile."""
    detail = {
        "kind": "Appointment",
        "status": "scheduled",
        "code": {"coding": [{"system": METHOD, "code": "counselling"}]},
        "scheduledTiming": {"repeat": {"count": 6, "frequency": 1, "periodUnit": "wk"}},
    }
    return {
        "resourceType": "CarePlan",
        "meta": {"profile": [TEST + "test-careplan"]},
        "extension": [
            {"url": TEST + "case-background", "valueString": "家庭变故"},
            {"url": TEST + "orientation", "valueCode": "cbt"},
            {"url": "https://elsewhere.example.org/other", "valueBoolean": True},
        ],
        "status": "active",
        "intent": "plan",
        "category": [{"coding": [{"system": CATEGORY, "code": "service"}]}],
        "subject": {"reference": "Patient/child-1", "type": "Patient"},
        "period": {"start": "2025-03-01"},
        "activity": [{"detail": copy.deepcopy(detail)} for _ in range(6)],
    }


def patient() -> Resource:
    return {
        "resourceType": "Patient",
        "identifier": [
            {"system": "urn:oid:2.16.156.10011.1.3", "value": "360102201203040346"},
            {"system": "https://x/case", "value": "JX-2025-0001"},
        ],
        "extension": [
            {
                "url": TEST + "school-enrolment",
                "extension": [
                    {"url": "school", "valueString": "示例小学"},
                    {"url": "enrolled", "valueBoolean": True},
                ],
            }
        ],
        "gender": "female",
        "birthDate": "2012-03-04",
    }


def bundle(*resources: Resource) -> Resource:
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [TEST + "test-case-bundle"]},
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def kinds(issues: list[Issue]) -> set[tuple[str, str]]:
    return {(i.path, i.code) for i in issues}


# -- conforming resources ------------------------------------------------------


def test_loads_every_test_profile(validator: Validator) -> None:
    assert validator.profile_urls == sorted(
        TEST + name
        for name in (
            "school-enrolment",
            "test-careplan",
            "test-case-bundle",
            "test-observation-narrative",
            "test-observation-scale",
            "test-patient",
        )
    )


def test_conforming_resources_have_no_issues(validator: Validator) -> None:
    assert validator.validate(careplan()) == []
    assert validator.validate(patient()) == []
    consent = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"text": "服务"},
        "category": [{"text": "知情同意"}],
    }
    session = {"resourceType": "Encounter", "status": "finished", "class": {"code": "HH"}}
    assert validator.validate(bundle(patient(), careplan(), consent, session)) == []


# -- base R4 -----------------------------------------------------------------------


def test_base_structure_and_required_bindings(validator: Validator) -> None:
    plan = careplan()
    plan["activity"][0]["detail"]["status"] = "pending"  # not in care-plan-activity-status
    plan["activity"][1]["detail"]["sessions"] = 6  # no such element
    del plan["status"]
    issues = validator.validate(plan)
    assert [(i.path, i.code) for i in issues] == [
        ("CarePlan.activity[0].detail.status", "binding"),
        ("CarePlan.activity[1].detail.sessions", "structure"),
        ("CarePlan.status", "required"),
    ]
    assert "'pending'" in issues[0].message


def test_unknown_resource_type_in_a_bundle_is_an_issue(validator: Validator) -> None:
    issues = validator.validate(bundle(patient(), {"resourceType": "Foo", "id": "x"}))
    assert [(i.path, i.code, i.severity) for i in issues] == [
        ("Bundle.entry[1].resource", "unknown-resource", "error")
    ]
    assert [i.code for i in validator.validate({"resourceType": "Nope"})] == ["unknown-resource"]


# -- profiles ----------------------------------------------------------------------


def test_missing_required_and_wrong_cardinality(validator: Validator) -> None:
    plan = careplan()
    del plan["category"]  # min 1
    plan["note"] = [{"text": "a"}, {"text": "b"}]  # max 1
    del plan["activity"][2]["detail"]["scheduledTiming"]["repeat"]["count"]  # nested min 1
    plan["activity"][3]["detail"]["scheduledTiming"]["repeat"]["period"] = 1  # max 0
    plan["activity"][4] = {"reference": {"reference": "Appointment/1"}}  # detail min 1
    issues = validator.validate(plan)
    assert kinds(issues) == {
        ("CarePlan.category", "required"),
        ("CarePlan.note", "cardinality"),
        ("CarePlan.activity[2].detail.scheduledTiming.repeat.count", "required"),
        ("CarePlan.activity[3].detail.scheduledTiming.repeat.period", "cardinality"),
        ("CarePlan.activity[4].detail", "required"),
    }
    assert all("(profile TestCarePlan)" in i.message for i in issues)


def test_extension_slices_by_url(validator: Validator) -> None:
    plan = careplan()
    plan["extension"] = plan["extension"][1:]  # caseBackground min 1
    plan["extension"].append({"url": TEST + "orientation", "valueCode": "sfbt"})  # max 1
    assert kinds(validator.validate(plan)) == {
        ("CarePlan.extension", "required"),
        ("CarePlan.extension", "cardinality"),
    }
    plan = careplan()
    del plan["extension"][0]["valueString"]
    plan["extension"][0]["valueBoolean"] = True  # only string is allowed
    assert kinds(validator.validate(plan)) == {("CarePlan.extension[0].valueBoolean", "structure")}
    del plan["extension"][0]["valueBoolean"]  # slice child value[x] min 1
    assert kinds(validator.validate(plan)) == {("CarePlan.extension[0].value[x]", "required")}


def test_fixed_and_pattern(validator: Validator) -> None:
    plan = careplan()
    plan["intent"] = "order"
    plan["subject"]["type"] = "Group"
    plan["activity"][0]["detail"]["kind"] = "Task"
    issues = validator.validate(plan)
    assert kinds(issues) == {
        ("CarePlan.intent", "fixed"),
        ("CarePlan.subject", "pattern"),
        ("CarePlan.activity[0].detail.kind", "fixed"),
    }
    assert "'plan'" in next(i.message for i in issues if i.path == "CarePlan.intent")


def test_bindings_required_and_extensible(validator: Validator) -> None:
    plan = careplan()
    plan["category"] = [{"coding": [{"system": CATEGORY, "code": "family"}]}, {"text": "其他"}]
    plan["activity"][0]["detail"]["code"] = {"coding": [{"system": "https://x", "code": "yoga"}]}
    issues = validator.validate(plan)
    assert [(i.path, i.code, i.severity) for i in issues] == [
        ("CarePlan.category[0]", "binding", "error"),
        ("CarePlan.category[1]", "binding", "error"),
        ("CarePlan.activity[0].detail.code", "binding", "warning"),
    ]
    assert "'family'" in issues[0].message and "test-plan-category" in issues[0].message
    person = patient()
    person["gender"] = "other"  # in R4's administrative-gender, not in the profile's value set
    assert [(i.path, i.code) for i in validator.validate(person)] == [("Patient.gender", "binding")]


def test_invariants_carry_requirement_ids(validator: Validator) -> None:
    plan = careplan()
    plan["activity"] = plan["activity"][:5]
    del plan["period"]
    issues = validator.validate(plan)
    assert [(i.path, i.code, i.severity, i.requirement) for i in issues] == [
        ("CarePlan", "invariant", "error", "CL-01"),
        ("CarePlan", "invariant", "warning", "R-7.3.1-02"),
    ]
    assert issues[0].message.startswith("A service plan has at least 6 planned sessions")
    assert "[test-plan-6]" in issues[0].message
    plan["category"][0]["coding"][0]["code"] = "crisis"  # crisis plans are exempt
    assert [i.requirement for i in validator.validate(plan)] == ["R-7.3.1-02"]


def test_bundle_profile_cross_resource_invariant(validator: Validator) -> None:
    session = {"resourceType": "Encounter", "status": "finished", "class": {"code": "HH"}}
    consent = {"resourceType": "Consent", "status": "draft", "scope": {"text": "x"}}
    consent["category"] = [{"text": "x"}]
    case = bundle(patient(), session, consent)
    case["type"] = "searchset"
    issues = validator.validate(case)
    assert [(i.path, i.code, i.requirement) for i in issues] == [
        ("Bundle", "invariant", "R-7.2.3-01"),
        ("Bundle.type", "fixed", None),
    ]
    consent["status"] = "active"
    case["type"] = "collection"
    assert validator.validate(case) == []


def test_entries_are_checked_with_their_profiles_and_paths(validator: Validator) -> None:
    plan = careplan()
    plan["intent"] = "order"
    person = patient()
    del person["birthDate"]
    issues = validator.validate(bundle(person, plan))
    assert kinds(issues) == {
        ("Bundle.entry[0].resource.ofType(Patient).birthDate", "required"),
        ("Bundle.entry[1].resource.ofType(CarePlan).intent", "fixed"),
    }


def test_extension_profiles_apply_by_url(validator: Validator) -> None:
    person = patient()
    school = person["extension"][0]
    school["extension"] = [
        {"url": "enrolled", "valueBoolean": True},  # school missing: invariant
        {"url": "class", "valueString": "3"},  # closed slicing: no such slice
    ]
    issues = validator.validate(person)
    assert kinds(issues) == {
        ("Patient.extension[0]", "invariant"),
        ("Patient.extension[0].extension[1]", "cardinality"),
    }
    school["extension"] = [{"url": "school", "valueString": "示例小学"}]  # enrolled min 1
    assert kinds(validator.validate(person)) == {("Patient.extension[0].extension", "required")}


def test_identifier_slice_by_value_discriminator(validator: Validator) -> None:
    person = patient()
    resident = {"system": "urn:oid:2.16.156.10011.1.3"}
    person["identifier"].append(dict(resident))  # a second one, and without value
    assert kinds(validator.validate(person)) == {
        ("Patient.identifier", "cardinality"),
        ("Patient.identifier[2].value", "required"),
    }


def test_primitive_children(validator: Validator) -> None:
    person = patient()
    ext = {"url": "https://x/time", "valueDateTime": "2012-03-04T08:00:00+08:00"}
    person["_birthDate"] = {"extension": [ext, ext]}
    assert kinds(validator.validate(person)) == {("Patient._birthDate.extension", "cardinality")}
    del person["birthDate"]
    person["_birthDate"] = {"extension": [ext]}  # an extension stands for the value: min 1 is met
    assert validator.validate(person) == []


def test_profile_selection(validator: Validator) -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "SDQ"},
        "valueString": "高",
    }
    # two profiles constrain Observation: none applies by type alone
    assert validator.validate(observation) == []
    observation["meta"] = {"profile": [TEST + "test-observation-scale", "https://nowhere/x"]}
    issues = validator.validate(observation)
    assert [(i.path, i.code, i.severity) for i in issues] == [
        ("Observation.meta.profile[1]", "profile", "warning"),
        ("Observation.valueString", "structure", "error"),
    ]
    observation["meta"] = {"profile": [TEST + "test-careplan"]}
    assert [(i.code, i.severity) for i in validator.validate(observation)] == [("profile", "error")]
    # the one CarePlan profile applies without meta.profile
    plan = careplan()
    del plan["meta"]
    plan["intent"] = "order"
    assert kinds(validator.validate(plan)) == {("CarePlan.intent", "fixed")}


def test_messages_carry_no_personal_data(validator: Validator) -> None:
    person = patient()
    secret = "测试儿童张某某"
    person["birthDate"] = secret
    person["identifier"][0]["value"] = secret
    person["gender"] = secret
    for issue in validator.validate(person):
        assert secret not in issue.message and secret not in issue.path


def test_validate_does_no_file_io(validator: Validator, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("file I/O during validate")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse)
    monkeypatch.setattr(Path, "read_text", refuse)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    plan = careplan()
    plan["activity"] = plan["activity"][:5]
    assert validator.validate(bundle(patient(), plan, {"resourceType": "Flag"}))


# -- OperationOutcome ----------------------------------------------------------------


def test_operation_outcome(validator: Validator) -> None:
    plan = careplan()
    plan["activity"] = plan["activity"][:5]
    plan["intent"] = "order"
    outcome = operation_outcome(validator.validate(bundle(plan, {"resourceType": "Foo"})))
    assert outcome["resourceType"] == "OperationOutcome"
    rows = {(r["code"], r["expression"][0]) for r in outcome["issue"]}
    assert rows >= {
        ("not-supported", "Bundle.entry[1].resource"),
        ("value", "Bundle.entry[0].resource.ofType(CarePlan).intent"),
        ("invariant", "Bundle.entry[0].resource.ofType(CarePlan)"),
    }
    invariant = next(r for r in outcome["issue"] if r["code"] == "invariant")
    assert invariant["details"] == {"text": "CL-01"}
    assert Structure.compile().check(outcome) == []
    empty = operation_outcome([])
    assert empty["issue"] == [
        {"severity": "information", "code": "informational", "diagnostics": "No issues found"}
    ]
    assert validator.validate(empty) == []


# -- malformed profiles are rejected at load, naming file and entry --------------------


def write_profile(
    folder: Path, elements: list[Resource], rtype: str = "CarePlan", **extra: Any
) -> Path:
    sd = {
        "resourceType": "StructureDefinition",
        "url": TEST + "broken",
        "name": "Broken",
        "status": "draft",
        "kind": "resource",
        "type": rtype,
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/" + rtype,
        "derivation": "constraint",
        "differential": {"element": elements},
        **extra,
    }
    path = folder / "StructureDefinition-broken.json"
    path.write_text(json.dumps(sd), encoding="utf-8")
    return path


def constraint(expression: str, **extra: Any) -> Resource:
    return {"key": "x-1", "severity": "error", "human": "x", "expression": expression, **extra}


def el(eid: str, **rules: Any) -> Resource:
    """A differential element; its path is its id without slice names."""
    path = ".".join(part.partition(":")[0] for part in eid.split("."))
    return {"id": eid, "path": path, **rules}


ROOT_ENTRY = "differential.element[0] CarePlan constraint[0] x-1"
URL_SLICING = {"discriminator": [{"type": "value", "path": "url"}]}
BROKEN: list[tuple[str, list[Resource], str, str]] = [
    (
        "unknown element path",
        [el("CarePlan.activity.detail.sessions", min=1)],
        "differential.element[0] CarePlan.activity.detail.sessions",
        "unknown element sessions",
    ),
    (
        "path of another type",
        [el("Patient.name", min=1)],
        "differential.element[0] Patient.name",
        "must start with CarePlan",
    ),
    (
        "unknown ValueSet",
        [el("CarePlan.category", binding={"strength": "required", "valueSet": "https://no/vs"})],
        "differential.element[0] CarePlan.category",
        "unknown ValueSet https://no/vs",
    ),
    (
        "FHIRPath syntax error",
        [el("CarePlan", constraint=[constraint("activity.count() >= ")])],
        ROOT_ENTRY,
        "FHIRPath does not compile",
    ),
    (
        "FHIRPath trailing garbage",
        [el("CarePlan", constraint=[constraint("status = 'active' )")])],
        ROOT_ENTRY,
        "syntax error",
    ),
    (
        "FHIRPath unknown function",
        [el("CarePlan", constraint=[constraint("activity.tally() > 1")])],
        ROOT_ENTRY,
        "unknown FHIRPath function tally()",
    ),
    (
        "FHIRPath unknown variable",
        [el("CarePlan", constraint=[constraint("%bundle.exists()")])],
        ROOT_ENTRY,
        "unknown FHIRPath variable %bundle",
    ),
    (
        "constraint with a bad severity",
        [el("CarePlan", constraint=[constraint("true", severity="fatal")])],
        ROOT_ENTRY,
        "severity",
    ),
    (
        "max above a single element",
        [el("CarePlan.subject", max="*")],
        "differential.element[0] CarePlan.subject",
        "single element",
    ),
    (
        "min above max",
        [el("CarePlan.note", min=2, max="1")],
        "differential.element[0] CarePlan.note",
        "greater than max",
    ),
    (
        "unsupported discriminator",
        [el("CarePlan.identifier", slicing={"discriminator": [{"type": "type", "path": "$this"}]})],
        "differential.element[0] CarePlan.identifier",
        "not supported",
    ),
    (
        "slice without its url",
        [el("CarePlan.extension", slicing=URL_SLICING), el("CarePlan.extension:x", min=1)],
        "differential element CarePlan.extension:x",
        "no fixed or pattern value",
    ),
    (
        "type not allowed for value[x]",
        [el("CarePlan.activity.detail.scheduled[x]", type=[{"code": "Quantity"}])],
        "differential.element[0] CarePlan.activity.detail.scheduled[x]",
        "type Quantity is not allowed",
    ),
    (
        "element listed twice",
        [el("CarePlan.note", max="1"), el("CarePlan.note", min=1)],
        "differential.element[1] CarePlan.note",
        "listed twice",
    ),
]


@pytest.mark.parametrize(
    ("name", "elements", "entry", "problem"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_malformed_profiles_are_rejected(
    tmp_path: Path,
    terminology: Terminology,
    name: str,
    elements: list[Resource],
    entry: str,
    problem: str,
) -> None:
    write_profile(tmp_path, elements)
    with pytest.raises(DataFileError) as info:
        Validator.load(tmp_path, terminology)
    assert info.value.file == "StructureDefinition-broken.json"
    assert info.value.entry == entry
    assert problem in info.value.problem


def test_malformed_profile_files(tmp_path: Path, terminology: Terminology) -> None:
    path = tmp_path / "StructureDefinition-bad.json"
    path.write_text('{"resourceType": "StructureDefinition",\n  "url": }', encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        Validator.load(tmp_path, terminology)
    assert (info.value.file, info.value.entry) == (
        "StructureDefinition-bad.json",
        "line 2, column 10",
    )
    path.unlink()
    write_profile(tmp_path, [{"id": "Foo.x", "path": "Foo.x"}], rtype="Foo")
    with pytest.raises(DataFileError, match="not an R4 resource type"):
        Validator.load(tmp_path, terminology)
    write_profile(
        tmp_path, [{"id": "CarePlan.note", "path": "CarePlan.note"}], baseDefinition=TEST + "nope"
    )
    with pytest.raises(DataFileError, match="neither core R4 nor a loaded profile"):
        Validator.load(tmp_path, terminology)
    shutil.copy(
        DATA / "StructureDefinition-test-careplan.json", tmp_path / "StructureDefinition-a.json"
    )
    shutil.copy(
        DATA / "StructureDefinition-test-careplan.json", tmp_path / "StructureDefinition-b.json"
    )
    (tmp_path / "StructureDefinition-broken.json").unlink()
    with pytest.raises(DataFileError, match=r"also defined in StructureDefinition-a\.json"):
        Validator.load(tmp_path, terminology)


def test_profile_on_a_profile_and_non_root_invariants(
    tmp_path: Path, terminology: Terminology
) -> None:
    shutil.copy(DATA / "StructureDefinition-test-careplan.json", tmp_path)
    derived = write_profile(
        tmp_path,
        [
            {
                "id": "CarePlan.activity",
                "path": "CarePlan.activity",
                "constraint": [
                    constraint(
                        "detail.code.exists() and %resource.status = 'active'",
                        human="Every session names its method",
                        requirements="see R-7.3-16",
                    )
                ],
            },
            el("CarePlan", constraint=[constraint("(status + 1).exists()", key="x-2")]),
        ],
        baseDefinition=TEST + "test-careplan",
    )
    assert derived.is_file()
    validator = Validator.load(tmp_path, terminology)
    plan = careplan()
    plan["meta"] = {"profile": [TEST + "broken"]}
    del plan["activity"][1]["detail"]["code"]
    plan["intent"] = "order"  # from the base profile
    issues = validator.validate(plan)
    assert [(i.path, i.code, i.requirement) for i in issues] == [
        ("CarePlan.intent", "fixed", None),
        ("CarePlan", "invariant", None),
        ("CarePlan.activity[1]", "invariant", "R-7.3-16"),
    ]
    assert "could not be evaluated" in issues[1].message  # a string plus a number


def test_default_profiles_load() -> None:
    """The programme's own profiles (written elsewhere) load and check a Bundle."""
    validator = Validator.load()
    assert validator.validate({"resourceType": "Basic", "code": {"text": "x"}}) == []
