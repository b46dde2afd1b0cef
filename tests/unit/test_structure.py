"""The fast structural validator agrees with fhir.resources; release module; base bindings."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from interop._errors import InputError
from interop.fhir import release
from interop.fhir.structure import Structure, element_names, load_required_bindings, type_info
from interop.resources import profiles_dir

DATA = Path(__file__).resolve().parent.parent / "data" / "validator"
ROOT = Path(__file__).resolve().parents[2]
Resource = dict[str, Any]


def corpus() -> list[Resource]:
    """Valid synthetic resources of every type the programme uses (Appendix B)."""
    data: list[Resource] = json.loads((DATA / "corpus-valid.json").read_text(encoding="utf-8"))
    return data


def by_type(rtype: str) -> Resource:
    return copy.deepcopy(next(r for r in corpus() if r["resourceType"] == rtype))


@pytest.fixture(scope="module")
def structure() -> Structure:
    return Structure.compile()


@pytest.fixture(scope="module")
def bound() -> Structure:
    return Structure.compile(
        load_required_bindings(profiles_dir() / "base" / "r4-required-bindings.json")
    )


def fhir_resources_valid(resource: Resource) -> bool:
    try:
        release.to_model(resource)
    except InputError:
        return False
    return True


# -- the agreement corpus ------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[Resource], None]:
    """Mutation: set a dotted path (numbers index lists)."""

    def mutate(resource: Resource) -> None:
        *parents, last = path.split(".")
        node: Any = resource
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Callable[[Resource], None]:
    def mutate(resource: Resource) -> None:
        *parents, last = path.split(".")
        node: Any = resource
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        del node[last]

    return mutate


def _wrap_list(key: str) -> Callable[[Resource], None]:
    def mutate(resource: Resource) -> None:
        resource[key] = [resource[key]]

    return mutate


def _unwrap_list(key: str) -> Callable[[Resource], None]:
    def mutate(resource: Resource) -> None:
        resource[key] = resource[key][0]

    return mutate


# (name, resource type, mutation): every one breaks the resource for both validators
BROKEN: list[tuple[str, str, Callable[[Resource], None]]] = [
    # wrong JSON type
    ("code as int", "Patient", _set("gender", 5)),
    ("string as int", "Observation", _set("code.text", 7)),
    ("list of strings as string", "Patient", _set("name.0.given", "试")),
    ("complex as string", "Observation", _set("code", "SDQ")),
    ("complex as number", "CarePlan", _set("subject", 1)),
    ("boolean as object", "Patient", _set("active", {"value": True})),
    # unknown elements
    ("unknown top-level", "Patient", _set("nickname", "x")),
    ("unknown nested", "Observation", _set("code.label", "x")),
    ("unknown in backbone", "CarePlan", _set("activity.0.detail.sessions", 6)),
    ("unknown _element", "Patient", _set("_nickname", {"extension": []})),
    ("unknown in datatype", "Encounter", _set("period.middle", "2025-03-08")),
    # missing required
    ("Observation.status missing", "Observation", _delete("status")),
    ("Observation.code missing", "Observation", _delete("code")),
    ("CarePlan.subject missing", "CarePlan", _delete("subject")),
    ("CarePlan.intent missing", "CarePlan", _delete("intent")),
    ("Encounter.class missing", "Encounter", _delete("class")),
    ("Consent.scope missing", "Consent", _delete("scope")),
    ("EpisodeOfCare.patient missing", "EpisodeOfCare", _delete("patient")),
    ("Task.intent missing", "Task", _delete("intent")),
    ("detail.status missing", "CarePlan", _delete("activity.0.detail.status")),
    ("Extension.url missing", "Patient", _delete("extension.0.url")),
    (
        "QuestionnaireResponse.item.linkId missing",
        "QuestionnaireResponse",
        _delete("item.0.linkId"),
    ),
    ("AuditEvent.agent.requestor missing", "AuditEvent", _delete("agent.0.requestor")),
    # bad dates and times
    ("no such day", "Patient", _set("birthDate", "2012-02-30")),
    ("month 13", "Patient", _set("birthDate", "2012-13-01")),
    ("dateTime without zone", "Observation", _set("effectiveDateTime", "2025-03-01T10:00:00")),
    ("dateTime hh:mm only", "Observation", _set("effectiveDateTime", "2025-03-01T10:00+08:00")),
    ("compact date", "Encounter", _set("period.start", "20250308")),
    ("instant as date", "AuditEvent", _set("recorded", "2025-03-03")),
    ("hour 24", "CarePlan", _set("created", "2025-03-01T24:00:00+08:00")),
    ("time 25h", "PractitionerRole", _set("availableTime.0.availableStartTime", "25:00:00")),
    # cardinality in JSON
    ("list where single", "Observation", _wrap_list("code")),
    ("list where single (Reference)", "CarePlan", _wrap_list("subject")),
    ("single where list", "Patient", _unwrap_list("identifier")),
    ("single where list (CodeableConcept)", "CarePlan", _unwrap_list("category")),
    ("null in complex list", "Patient", _set("identifier.1", None)),
    # choice types
    ("two value[x]", "Observation", _set("valueString", "高")),
    ("two effective[x]", "Observation", _set("effectivePeriod", {"start": "2025-03-01"})),
    ("two value[x] in component", "Observation", _set("component.0.valueString", "x")),
    ("two value[x] in extension", "Patient", _set("extension.0.valueString", "x")),
    # primitive formats
    ("code with leading space", "Patient", _set("gender", " female")),
    ("empty string", "Patient", _set("name.0.text", "")),
    ("id with space", "Patient", _set("id", "child 1")),
    ("id of 300 characters", "Patient", _set("id", "a" * 300)),
    ("positiveInt 0", "CarePlan", _set("activity.0.detail.scheduledTiming.repeat.count", 0)),
    ("positiveInt negative", "Encounter", _set("extension.0.valuePositiveInt", -1)),
    ("integer out of range", "Observation", _set("component.0.valueInteger", 2**40)),
    ("decimal as boolean", "Observation", _set("valueQuantity.value", True)),
    # resources inside resources
    (
        "contained unknown element",
        "Observation",
        _set("contained", [{"resourceType": "Patient", "x": 1}]),
    ),
    ("contained unknown type", "Observation", _set("contained", [{"resourceType": "Foo"}])),
    ("Bundle entry unknown type", "Bundle", _set("entry.0.resource", {"resourceType": "Foo"})),
    ("Bundle entry broken", "Bundle", _delete("entry.3.resource.status")),
    ("Bundle entry bad date", "Bundle", _set("entry.0.resource.birthDate", "2012-02-30")),
]

# Where FHIR's JSON rules are stricter than fhir.resources' lax pydantic parsing:
# structure rejects these, fhir.resources accepts them (documented in structure.py).
STRICTER: list[tuple[str, str, Callable[[Resource], None]]] = [
    ("boolean as string", "Patient", _set("active", "true")),
    ("integer as string", "Observation", _set("component.0.valueInteger", "3")),
    ("integer as float", "Observation", _set("component.0.valueInteger", 3.0)),
    ("decimal as string", "Observation", _set("valueQuantity.value", "18")),
    ("null element", "CarePlan", _set("period", None)),
    ("empty object", "Observation", _set("code", {})),
    ("empty array", "Patient", _set("identifier", [])),
    ("id of 65 characters", "Patient", _set("id", "a" * 65)),
    ("uri with space", "Patient", _set("identifier.0.system", "urn:oid:2.16 156")),
    ("narrative not a div", "Patient", _set("text.div", "示例")),
    ("fhir_comments", "Patient", _set("fhir_comments", ["x"])),
    ("contained without resourceType", "Observation", _set("contained", [{"id": "x"}])),
    ("R4B-only choice type", "Patient", _set("extension.0", {"url": "u", "valueRatioRange": {}})),
    (
        "R4B-only Task.input.valueMeta",
        "Task",
        _set("input.0", {"type": {"text": "x"}, "valueMeta": {}}),
    ),
]


@pytest.mark.parametrize("resource", corpus(), ids=lambda r: r["resourceType"])
def test_valid_corpus_is_valid_for_both(structure: Structure, resource: Resource) -> None:
    assert structure.check(resource) == []
    assert fhir_resources_valid(resource)


@pytest.mark.parametrize(("name", "rtype", "mutate"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_resources_agree_with_fhir_resources(
    structure: Structure, name: str, rtype: str, mutate: Callable[[Resource], None]
) -> None:
    resource = by_type(rtype)
    mutate(resource)
    issues = structure.check(resource)
    assert issues, f"{name}: structure found nothing"
    assert not fhir_resources_valid(resource), f"{name}: fhir.resources accepts it"
    assert all(i.severity == "error" for i in issues)


@pytest.mark.parametrize(("name", "rtype", "mutate"), STRICTER, ids=[s[0] for s in STRICTER])
def test_stricter_than_fhir_resources(
    structure: Structure, name: str, rtype: str, mutate: Callable[[Resource], None]
) -> None:
    resource = by_type(rtype)
    mutate(resource)
    assert structure.check(resource), f"{name}: structure found nothing"
    assert fhir_resources_valid(resource), f"{name}: fhir.resources now rejects it too"


# -- issue details ---------------------------------------------------------------


def test_issue_paths_and_codes(structure: Structure) -> None:
    bundle = by_type("Bundle")
    del bundle["entry"][1]["resource"]["activity"][0]["detail"]["status"]
    bundle["entry"][1]["resource"]["activity"][2]["detail"]["kind"] = 5
    bundle["entry"][0]["resource"]["birthDate"] = "2012-02-30"
    bundle["entry"][3]["resource"]["valueString"] = "x"
    found = {(i.path, i.code) for i in structure.check(bundle)}
    assert found == {
        ("Bundle.entry[1].resource.ofType(CarePlan).activity[0].detail.status", "required"),
        ("Bundle.entry[1].resource.ofType(CarePlan).activity[2].detail.kind", "structure"),
        ("Bundle.entry[0].resource.ofType(Patient).birthDate", "value"),
        ("Bundle.entry[3].resource.ofType(Observation).valueString", "structure"),
    }


def test_unknown_resource_type_is_an_issue_not_an_exception(structure: Structure) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "MedicinalProduct"}}, {"resource": {"id": "x"}}],
    }
    issues = structure.check(bundle)
    assert [(i.path, i.code) for i in issues] == [
        ("Bundle.entry[0].resource", "unknown-resource"),
        ("Bundle.entry[1].resource", "unknown-resource"),
    ]
    assert [i.code for i in structure.check({"resourceType": "Nope"})] == ["unknown-resource"]
    assert [i.code for i in structure.check({"id": "x"})] == ["unknown-resource"]
    assert [i.code for i in structure.check(["not", "a", "resource"])] == ["structure"]


def test_messages_never_echo_values(structure: Structure) -> None:
    patient = by_type("Patient")
    secret = "测试儿童的秘密"
    patient["birthDate"] = secret
    patient["name"][0]["given"] = secret
    patient["active"] = secret
    patient["id"] = secret
    for issue in structure.check(patient):
        assert secret not in issue.message
        assert secret not in issue.path


def test_primitive_extensions(structure: Structure) -> None:
    patient = by_type("Patient")
    ext = {"extension": [{"url": "https://x/e", "valueString": "y"}]}
    patient["name"][0]["given"] = ["试", None]
    patient["name"][0]["_given"] = [None, ext]
    patient["_birthDate"] = ext
    assert structure.check(patient) == []
    patient["name"][0]["_given"] = [None]  # misaligned: given[1] is null without extension
    assert [i.path for i in structure.check(patient)] == [
        "Patient.name[0].given[1]",
        "Patient.name[0]._given",
    ]
    del patient["name"][0]["_given"]  # null without a sibling extension
    assert [i.path for i in structure.check(patient)] == ["Patient.name[0].given[1]"]
    observation = by_type("Observation")
    del observation["status"]
    observation["_status"] = ext  # a required primitive given only by its extension
    assert structure.check(observation) == []


def test_required_choice(structure: Structure) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
    }
    issues = structure.check(request)
    assert [(i.path, i.code) for i in issues] == [("MedicationRequest.medication[x]", "required")]


# -- required bindings of base R4 -------------------------------------------------


def test_required_bindings(bound: Structure, structure: Structure) -> None:
    plan = by_type("CarePlan")
    plan["activity"][0]["detail"]["status"] = "pending"
    plan["status"] = "open"
    issues = bound.check(plan)
    assert {(i.path, i.code) for i in issues} == {
        ("CarePlan.status", "binding"),
        ("CarePlan.activity[0].detail.status", "binding"),
    }
    assert "'open'" in issues[0].message
    assert structure.check(plan) == []  # fhir.resources does not check codes either
    role = by_type("PractitionerRole")
    role["availableTime"][0]["daysOfWeek"] = ["mon", "monday"]  # days-of-week
    assert [i.path for i in bound.check(role)] == [
        "PractitionerRole.availableTime[0].daysOfWeek[1]"
    ]
    for resource in corpus():
        assert bound.check(resource) == [], resource["resourceType"]


def test_required_bindings_on_codeable_concepts(bound: Structure) -> None:
    condition = by_type("Condition")
    assert bound.check(condition) == []
    condition["clinicalStatus"] = {"coding": [{"system": "https://x/other", "code": "active"}]}
    condition["verificationStatus"] = {"text": "confirmed"}
    issues = bound.check(condition)
    assert [(i.path, i.code) for i in issues] == [
        ("Condition.clinicalStatus", "binding"),
        ("Condition.verificationStatus", "binding"),
    ]


def test_bindings_file_covers_the_programme_and_matches_the_models(bound: Structure) -> None:
    tables = load_required_bindings(profiles_dir() / "base" / "r4-required-bindings.json")
    types = {key.split(".", 1)[0] for key in [*tables.codes, *tables.codings]}
    # every type of Appendix B with a required binding in R4, and the datatypes
    programme = {
        "Patient", "RelatedPerson", "Practitioner", "EpisodeOfCare", "CarePlan", "Encounter",
        "RiskAssessment", "Observation", "QuestionnaireResponse", "Questionnaire", "Goal",
        "Condition", "ServiceRequest", "Task", "Consent", "Flag", "Composition",
        "DocumentReference", "Contract", "Communication", "AuditEvent", "Provenance", "Bundle",
        "OperationOutcome", "Timing", "Quantity", "Narrative", "HumanName", "ContactPoint",
    }  # fmt: skip
    assert programme <= types
    # the ones the R4 JSON Schema leaves out (value sets shared between resources)
    assert "revoked" in tables.codes["CarePlan.status"]
    assert "final" in tables.codes["RiskAssessment.status"]
    assert tables.codes["ServiceRequest.priority"] == {"routine", "urgent", "asap", "stat"}
    assert tables.codes["Timing.repeat.dayOfWeek"] >= {"mon", "sun"}
    assert "question" not in tables.codes["Questionnaire.item.type"]  # abstract concept
    assert tables.codes["Timing.repeat.periodUnit"] == {"s", "min", "h", "d", "wk", "mo", "a"}
    # every bound element exists in the R4B models, except in resources R4B changed
    r4_only = {"EffectEvidenceSynthesis", "RiskEvidenceSynthesis", "EvidenceVariable"}
    assert {p.split(".", 1)[0] for p in bound.unbound_paths()} <= r4_only


def _bundle(*resources: Resource) -> Resource:
    return {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}


def _valueset(url: str, include: Resource) -> Resource:
    return {"resourceType": "ValueSet", "url": url, "compose": {"include": [include]}}


def test_generator_script(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "gen", ROOT / "tools" / "gen_required_bindings.py"
    )
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)

    def sd(rtype: str, *elements: Resource) -> Resource:
        return {
            "resourceType": "StructureDefinition",
            "type": rtype,
            "kind": "resource",
            "derivation": "specialization",
            "fhirVersion": "4.0.1",
            "snapshot": {"element": [{"path": rtype}, *elements]},
        }

    def bound(path: str, vs: str, kind: str = "code", strength: str = "required") -> Resource:
        binding = {"strength": strength, "valueSet": vs + "|4.0.1"}
        return {"path": path, "type": [{"code": kind}], "binding": binding}

    (tmp_path / "profiles-types.json").write_text(json.dumps(_bundle()), encoding="utf-8")
    resources = _bundle(
        sd(
            "Thing",
            bound("Thing.status", "http://x/vs/status"),
            bound("Thing.part.kind", "http://x/vs/kind"),
            bound("Thing.flavour", "http://x/vs/status", strength="extensible"),
            bound("Thing.state", "http://x/vs/kind", "CodeableConcept"),
            bound("Thing.mime", "http://x/vs/mime"),
        )
    )
    (tmp_path / "profiles-resources.json").write_text(json.dumps(resources), encoding="utf-8")
    terminology = _bundle(
        {
            "resourceType": "CodeSystem",
            "url": "http://x/cs",
            "content": "complete",
            "concept": [
                {"code": "a"},
                {
                    "code": "b",
                    "property": [{"code": "notSelectable", "valueBoolean": True}],
                    "concept": [{"code": "b1"}],
                },
            ],
        },
        _valueset("http://x/vs/status", {"system": "http://x/cs"}),
        _valueset("http://x/vs/kind", {"system": "http://x/cs", "concept": [{"code": "a"}]}),
        _valueset("http://x/vs/mime", {"system": "urn:ietf:bcp:13"}),
    )
    (tmp_path / "valuesets.json").write_text(json.dumps(terminology), encoding="utf-8")
    schema = {
        "id": "http://hl7.org/fhir/json-schema/4.0",
        "definitions": {
            "Thing": {
                "properties": {
                    "status": {"enum": ["a", "b1"]},
                    "part": {"items": {"$ref": "#/definitions/Thing_Part"}},
                }
            },
            "Thing_Part": {"properties": {"kind": {"enum": ["a"]}}},
        },
    }
    (tmp_path / "fhir.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    out = tmp_path / "out.json"
    args = [str(tmp_path), "--schema", str(tmp_path / "fhir.schema.json"), "--out", str(out)]
    assert gen.main(args) == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["bindings"] == {"Thing.part.kind": ["a"], "Thing.status": ["a", "b1"]}
    assert written["codings"] == {"Thing.state": ["http://x/cs|a"]}
    assert list(written["unchecked"]) == ["Thing.mime"]
    schema["definitions"]["Thing"]["properties"]["status"]["enum"].append("c")
    (tmp_path / "fhir.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    assert gen.main(args) == 1  # the schema allows a code the expansion lacks


# -- shapes ------------------------------------------------------------------------


def test_type_info_paths() -> None:
    assert type_info("CarePlanActivityDetail").name == "CarePlan.activity.detail"
    assert type_info("TimingRepeat").name == "Timing.repeat"
    assert type_info("QuestionnaireItem").name == "Questionnaire.item"
    assert type_info("ValueSetComposeInclude").name == "ValueSet.compose.include"
    encounter = type_info("Encounter")
    assert encounter.is_resource and "class" in encounter.fields
    assert encounter.fields["class"].type_name == "Coding"
    with pytest.raises(KeyError):
        type_info("NoSuchType")


# -- release ---------------------------------------------------------------------


def test_release_model_class() -> None:
    assert release.model_class("Patient") is not None
    assert release.model_class("Nope") is None
    assert release.model_class("MedicinalProduct") is None  # R4 only
    assert release.model_class("Citation") is None  # R4B only
    assert release.model_class("../../etc") is None
    assert {"CarePlan", "Bundle", "AuditEvent"} <= release.RESOURCE_TYPES
    assert len(release.RESOURCE_TYPES) == 128


def test_release_element_names() -> None:
    names = element_names("Encounter")
    assert {"class", "status", "_status", "participant", "extension", "id"} <= names
    assert "resourceType" not in names and "fhir_comments" not in names
    with pytest.raises(InputError):
        element_names("Nope")


def test_to_model_errors_carry_no_personal_data() -> None:
    patient = by_type("Patient")
    patient["birthDate"] = "张三-2012-02-30"
    with pytest.raises(InputError) as info:
        release.to_model(patient)
    assert "张三" not in str(info.value) and "birthDate" in str(info.value)
    with pytest.raises(InputError):
        release.to_model({"resourceType": "Observation", "contained": [{"resourceType": "Foo"}]})
    with pytest.raises(InputError):
        release.to_model({"resourceType": "Nope"})


def test_xml_round_trip_of_a_bundle() -> None:
    bundle = by_type("Bundle")
    xml = release.dumps_xml(bundle)
    assert xml.startswith(b"<?xml") and b'<Bundle xmlns="http://hl7.org/fhir">' in xml
    back = release.loads_xml(xml)
    assert back == release.to_json(release.to_model(bundle))
    assert (
        back["entry"][0]["resource"]["text"]["div"] == bundle["entry"][0]["resource"]["text"]["div"]
    )
    for resource in corpus():
        assert release.loads_xml(release.dumps_xml(resource)) == release.to_json(
            release.to_model(resource)
        ), resource["resourceType"]


def test_loads_xml_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="well-formed"):
        release.loads_xml(b"<Patient xmlns='http://hl7.org/fhir'>")
    with pytest.raises(InputError, match="namespace"):
        release.loads_xml(b"<Patient/>")
    with pytest.raises(InputError, match="unknown resource type"):
        release.loads_xml(b"<Nope xmlns='http://hl7.org/fhir'/>")
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>'
    )
    with pytest.raises(InputError):
        release.loads_xml(entity)
