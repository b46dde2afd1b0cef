"""Tests for interop.fhir.terminology and the files of profiles/terminology."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from interop._errors import DataFileError
from interop.fhir.canonical import BASE, cs, vs
from interop.fhir.terminology import SYNONYM_USE, Concept, Terminology
from interop.resources import profiles_dir

TERMINOLOGY_DIR = profiles_dir() / "terminology"
SEX = "urn:oid:2.16.156.10011.2.3.3.4"
ETHNICITY = "urn:oid:2.16.156.10011.2.3.3.3"
ADMIN_GENDER = "http://hl7.org/fhir/administrative-gender"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"

# Appendix A plus the systems the project needs (requirements catalogue).
LOCAL_SYSTEMS = [
    "difficulty-category",
    "risk-level",
    "inclusion-basis",
    "case-state",
    "service-type",
    "service-method",
    "theoretical-orientation",
    "problem-type",
    "provider-pref-gender",
    "provider-pref-age",
    "provider-pref-marital",
    "provider-pref-children",
    "provider-pref-language",
    "provider-pref-style",
    "school-stage",
    "referral-trigger",
    "referral-mode",
    "midterm-outcome",
    "adjustment-request-type",
    "closure-reason",
    "competence-match",
    "feasibility-conclusion",
    "assessment-mode",
    "assessment-channel",
    "observation-route",
    "evaluator-type",
    "location-type",
    "purpose",
    "document-type",
    "consent-topic",
    "qualification",
    "funding-source",
    "platform-type",
    "related-person-role",
    "home-visit-verification",
    "attendance-status",
    "crisis-type",
    "organization-type",
    "observation-code",
    "flag-code",
    "family-relationship",
]


def cm(name: str) -> str:
    return f"{BASE}/ConceptMap/{name}"


@pytest.fixture(scope="module")
def term() -> Terminology:
    return Terminology.load()


def _raw_files(prefix: str) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(TERMINOLOGY_DIR.glob(f"{prefix}-*.json")):
        out.append((path, json.loads(path.read_text(encoding="utf-8"))))
    return out


def _walk(concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in concepts:
        out.append(c)
        out.extend(_walk(c.get("concept", [])))
    return out


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ---------------------------------------------------------------- the real folder


def test_default_folder_loads_every_system(term: Terminology) -> None:
    for name in LOCAL_SYSTEMS:
        assert term.has_codesystem(cs(name)), name
        assert term.has_valueset(vs(name)), name
    assert term.has_codesystem(SEX)
    assert term.has_codesystem(ETHNICITY)
    assert term.has_valueset(vs("gbt2261-sex"))
    assert term.has_valueset(vs("gb3304-ethnicity"))
    assert term.codesystems() == sorted(term.codesystems())
    assert len(term.codesystems()) == len(_raw_files("CodeSystem"))
    assert len(term.valuesets()) == len(_raw_files("ValueSet"))


def test_every_codesystem_follows_the_conventions() -> None:
    files = _raw_files("CodeSystem")
    assert files
    for path, res in files:
        name = path.stem.removeprefix("CodeSystem-")
        assert res["id"] == name
        assert res["status"] == "active", path.name
        assert res["content"] == "complete", path.name
        assert res["caseSensitive"] is True, path.name
        assert res["language"] == "zh-CN", path.name
        assert res["version"] and res["title"] and res["description"], path.name
        assert res["name"][0].isupper() and res["name"].isalnum(), path.name
        if not res["url"].startswith("urn:oid:"):
            assert res["url"] == cs(name), path.name
        assert res["count"] == len(_walk(res["concept"])), path.name


def test_every_concept_has_chinese_display_and_english_designation() -> None:
    for path, res in _raw_files("CodeSystem"):
        for concept in _walk(res["concept"]):
            where = f"{path.name} {concept['code']}"
            assert _has_cjk(concept["display"]), where
            english = [
                d
                for d in concept.get("designation", [])
                if d.get("language") == "en" and "use" not in d
            ]
            assert len(english) == 1, where
            assert english[0]["value"].isascii() and english[0]["value"].strip(), where
            for des in concept["designation"]:
                if des.get("language") == "zh-CN":
                    use = des["use"]
                    assert (use["system"], use["code"]) == SYNONYM_USE, where


def test_every_codesystem_has_a_whole_system_valueset(term: Terminology) -> None:
    for _, res in _raw_files("CodeSystem"):
        url = res["url"]
        vs_url = res["valueSet"]
        assert vs_url == vs(res["id"])
        codes = {code for _, code in term.valueset_codes(vs_url)}
        assert codes == {c["code"] for c in _walk(res["concept"])}
        assert {system for system, _ in term.valueset_codes(vs_url)} == {url}


def test_displays_in_chinese_and_english(term: Terminology) -> None:
    assert term.display(cs("risk-level"), "high") == "高风险"
    assert term.display(cs("risk-level"), "high", "en") == "High risk"
    assert term.display(cs("case-state"), "listed") == "名单已接收"
    assert term.display(cs("case-state"), "in-service", lang="en") == "In service"
    assert term.display(SEX, "1") == "男"
    assert term.display(SEX, "9", "en") == "Not stated"
    assert term.display(ETHNICITY, "56") == "基诺族"
    assert term.display(cs("referral-trigger"), "RT-07") == "显著负向变化"
    assert term.display(cs("risk-level"), "extreme") is None
    assert term.display("urn:example:not-loaded", "x") is None
    with pytest.raises(ValueError):
        term.display(cs("risk-level"), "high", "fr")


def test_lookup_returns_a_concept(term: Terminology) -> None:
    concept = term.lookup(cs("risk-level"), "high")
    assert concept == Concept(
        system=cs("risk-level"),
        code="high",
        display="高风险",
        display_en="High risk",
        synonyms=concept.synonyms if concept else (),
        parent=None,
    )
    assert concept is not None and "高" in concept.synonyms
    assert term.lookup(cs("risk-level"), "HIGH") is None  # case-sensitive
    assert term.lookup("urn:example:not-loaded", "high") is None


@pytest.mark.parametrize(
    ("system", "text", "code"),
    [
        (cs("risk-level"), "高风险", "high"),
        (cs("risk-level"), " 高 ", "high"),
        (cs("risk-level"), "中风险", "medium"),
        (cs("risk-level"), "High risk", "high"),
        (cs("risk-level"), "high risk", "high"),
        (cs("risk-level"), "high", "high"),
        (ETHNICITY, "汉", "01"),
        (ETHNICITY, "汉族", "01"),
        (ETHNICITY, "01", "01"),
        (ETHNICITY, "Tibetan", "04"),
        (ETHNICITY, "外国血统中国籍人士", "98"),
        (SEX, "男", "1"),
        (SEX, "男性", "1"),
        (SEX, "女性", "2"),
        (SEX, "\u3000女\t", "2"),  # ideographic space and a tab
        (SEX, "１", "1"),  # full-width digit
        (cs("family-relationship"), "外婆", "64"),
        (cs("family-relationship"), "爷爷", "61"),
        (cs("difficulty-category"), "遭受虐待", "abuse"),
        (cs("referral-trigger"), "rt-01", "RT-01"),
        (cs("school-stage"), "职高", "vocational-secondary"),
    ],
)
def test_code_for_text(term: Terminology, system: str, text: str, code: str) -> None:
    assert term.code_for_text(system, text) == code


def test_code_for_text_unknown(term: Terminology) -> None:
    assert term.code_for_text(cs("risk-level"), "极高") is None
    assert term.code_for_text(cs("risk-level"), "") is None
    assert term.code_for_text("urn:example:not-loaded", "高") is None


def test_ethnicity_has_all_groups(term: Terminology) -> None:
    codes = {code for _, code in term.valueset_codes(vs("gb3304-ethnicity"))}
    assert codes == {f"{i:02d}" for i in range(1, 57)} | {"97", "98"}
    for code in sorted(codes - {"97", "98"}):
        concept = term.lookup(ETHNICITY, code)
        assert concept is not None and concept.display.endswith("族")
        assert concept.display[:-1] in concept.synonyms


def test_hierarchy_is_flattened_with_parents(term: Terminology) -> None:
    system = cs("difficulty-category")
    abuse = term.lookup(system, "abuse")
    assert abuse is not None and abuse.parent == "guardianship-lack"
    assert term.lookup(system, "guardianship-lack") is not None
    parent = term.lookup(system, "guardianship-lack")
    assert parent is not None and parent.parent is None
    rehab = term.lookup(system, "disability-rehab")
    assert rehab is not None and rehab.parent == "disability"
    assert term.in_valueset(vs("difficulty-category"), system, "poverty-schooling")
    # a filtered value set (is-a)
    guardianship = {code for _, code in term.valueset_codes(vs("difficulty-category-guardianship"))}
    assert guardianship == {
        "guardianship-lack",
        "abuse",
        "abandonment",
        "accidental-injury",
        "unlawful-infringement",
    }


def test_in_valueset(term: Terminology) -> None:
    assert term.in_valueset(vs("risk-level"), cs("risk-level"), "medium")
    assert term.in_valueset(vs("risk-level"), None, "medium")
    assert not term.in_valueset(vs("risk-level"), cs("risk-level"), "severe")
    assert not term.in_valueset(vs("risk-level"), cs("school-stage"), "medium")
    # explicitly listed codes
    assert term.in_valueset(vs("referral-trigger-intake"), None, "RT-02")
    assert not term.in_valueset(vs("referral-trigger-intake"), None, "RT-07")
    # external systems that are not loaded: only the listed codes count
    rel = vs("related-person-relationship")
    assert term.in_valueset(rel, "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "GUARD")
    assert not term.in_valueset(rel, "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "MTH")
    assert term.in_valueset(rel, cs("related-person-role"), "temporary-guardian")
    assert term.in_valueset(rel, None, "51")
    with pytest.raises(KeyError):
        term.in_valueset(vs("no-such-valueset"), None, "x")
    with pytest.raises(KeyError):
        term.valueset_codes(vs("no-such-valueset"))


def test_school_stage_has_g22_additions(term: Terminology) -> None:
    for code in ("preschool", "vocational-secondary", "not-applicable", "above-senior-secondary"):
        assert term.in_valueset(vs("school-stage"), cs("school-stage"), code)
    stage_map = cm("school-stage-to-reporting-stage")
    assert term.translate(stage_map, cs("school-stage"), "vocational-secondary") == (
        cs("school-stage"),
        "senior-secondary",
    )
    assert term.translate(stage_map, cs("school-stage"), "preschool") is None


def test_referral_triggers(term: Terminology) -> None:
    codes = {code for _, code in term.valueset_codes(vs("referral-trigger"))}
    assert codes == {f"RT-{i:02d}" for i in range(1, 11)}


def test_translate_sex_and_gender(term: Terminology) -> None:
    to_gender = cm("sex-to-administrative-gender")
    assert term.translate(to_gender, SEX, "1") == (ADMIN_GENDER, "male")
    assert term.translate(to_gender, SEX, "2") == (ADMIN_GENDER, "female")
    assert term.translate(to_gender, SEX, "0") == (ADMIN_GENDER, "unknown")
    assert term.translate(to_gender, SEX, "9") == (ADMIN_GENDER, "unknown")
    assert term.translate(to_gender, SEX, "5") is None
    to_sex = cm("administrative-gender-to-sex")
    assert term.translate(to_sex, ADMIN_GENDER, "female") == (SEX, "2")
    assert term.translate(to_sex, ADMIN_GENDER, "unknown") == (SEX, "0")
    assert term.translate(to_sex, ADMIN_GENDER, "other") == (SEX, "9")


def test_translate_risk_level(term: Terminology) -> None:
    rp = "http://terminology.hl7.org/CodeSystem/risk-probability"
    risk_map = cm("risk-level-to-risk-probability")
    expected = {"normal": "negligible", "low": "low", "medium": "moderate", "high": "high"}
    for level, prob in expected.items():
        assert term.translate(risk_map, cs("risk-level"), level) == (rp, prob)


def test_translate_purpose(term: Terminology) -> None:
    pm = cm("purpose-to-purposeofuse")
    assert term.translate(pm, cs("purpose"), "hosp-referral") == (ACT_REASON, "TREAT")
    assert term.translate(pm, cs("purpose"), "crisis") == (ACT_REASON, "ETREAT")
    assert term.translate(pm, cs("purpose"), "handover") == (ACT_REASON, "RECORDMGT")
    assert term.translate(pm, cs("purpose"), "school-support") is None  # unmatched
    # every purpose is listed, and every target carries a comment
    for _, res in _raw_files("ConceptMap"):
        for group in res["group"]:
            for element in group["element"]:
                for target in element["target"]:
                    assert target["comment"].strip(), (res["id"], element["code"])
    purposes = {code for _, code in term.valueset_codes(vs("purpose"))}
    (purpose_map,) = [
        r for _, r in _raw_files("ConceptMap") if r["id"] == "purpose-to-purposeofuse"
    ]
    assert {e["code"] for e in purpose_map["group"][0]["element"]} == purposes
    with pytest.raises(KeyError):
        term.translate(cm("no-such-map"), cs("purpose"), "crisis")


# ---------------------------------------------------------------- broken files


def _codesystem(name: str, codes: list[str]) -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": cs(name),
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": [
            {"code": c, "display": f"显示{c}", "designation": [{"language": "en", "value": c}]}
            for c in codes
        ],
    }


def _valueset(name: str, include: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "id": name,
        "url": vs(name),
        "status": "active",
        "compose": {"include": include},
    }


def _write(folder: Path, file_name: str, resource: dict[str, Any] | str) -> None:
    text = resource if isinstance(resource, str) else json.dumps(resource, ensure_ascii=False)
    (folder / file_name).write_text(text, encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "terminology"
    path.mkdir()
    _write(path, "CodeSystem-colour.json", _codesystem("colour", ["red", "green"]))
    _write(path, "ValueSet-colour.json", _valueset("colour", [{"system": cs("colour")}]))
    return path


def test_small_folder_loads(folder: Path) -> None:
    term = Terminology.load(folder)
    assert term.codesystems() == [cs("colour")]
    assert term.valueset_codes(vs("colour")) == {(cs("colour"), "red"), (cs("colour"), "green")}
    assert term.code_for_text(cs("colour"), "显示red") == "red"


def test_real_folder_copy_loads(tmp_path: Path) -> None:
    copy = tmp_path / "terminology"
    shutil.copytree(TERMINOLOGY_DIR, copy)
    assert Terminology.load(copy).codesystems() == Terminology.load().codesystems()


def test_bad_json(folder: Path) -> None:
    _write(folder, "CodeSystem-broken.json", '{\n  "resourceType": "CodeSystem",\n  "url": }\n')
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/CodeSystem-broken.json"
    assert info.value.entry == "line 3, column 10"
    assert "JSON" in info.value.problem


def test_duplicate_code(folder: Path) -> None:
    _write(folder, "CodeSystem-size.json", _codesystem("size", ["small", "large", "small"]))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/CodeSystem-size.json"
    assert info.value.entry == 'concept[2] "small"'
    assert "duplicate" in info.value.problem
    assert "CodeSystem-size.json" in str(info.value)


def test_duplicate_code_in_hierarchy(folder: Path) -> None:
    res = _codesystem("tree", ["a", "b"])
    res["concept"][1]["concept"] = [{"code": "a", "display": "重复"}]
    _write(folder, "CodeSystem-tree.json", res)
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.entry == 'concept[1].concept[0] "a"'


def test_missing_display(folder: Path) -> None:
    res = _codesystem("shape", ["round", "square"])
    del res["concept"][1]["display"]
    _write(folder, "CodeSystem-shape.json", res)
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/CodeSystem-shape.json"
    assert info.value.entry == 'concept[1] "square"'
    assert "display" in info.value.problem


def test_ambiguous_synonym(folder: Path) -> None:
    res = _codesystem("size", ["small", "large"])
    res["concept"][1]["designation"].append(
        {"language": "zh-CN", "value": "显示small"}  # the display of "small"
    )
    _write(folder, "CodeSystem-size.json", res)
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.entry == 'concept[1] "large"'
    assert "ambiguous" in info.value.problem


def test_missing_url(folder: Path) -> None:
    res = _codesystem("size", ["small"])
    del res["url"]
    _write(folder, "CodeSystem-size.json", res)
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert (info.value.file, info.value.entry) == ("terminology/CodeSystem-size.json", "url")


def test_valueset_with_unknown_code(folder: Path) -> None:
    include = [{"system": cs("colour"), "concept": [{"code": "red"}, {"code": "blue"}]}]
    _write(folder, "ValueSet-warm.json", _valueset("warm", include))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/ValueSet-warm.json"
    assert info.value.entry == 'compose.include[0].concept[1] "blue"'
    assert "not in the CodeSystem" in info.value.problem


def test_valueset_with_unknown_whole_system(folder: Path) -> None:
    _write(folder, "ValueSet-other.json", _valueset("other", [{"system": "urn:example:missing"}]))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/ValueSet-other.json"
    assert info.value.entry == "compose.include[0]"
    assert "not loaded" in info.value.problem


def test_valueset_listing_external_codes_is_fine(folder: Path) -> None:
    include = [{"system": "urn:example:external", "concept": [{"code": "X1"}]}]
    _write(folder, "ValueSet-external.json", _valueset("external", include))
    term = Terminology.load(folder)
    assert term.in_valueset(vs("external"), "urn:example:external", "X1")
    assert not term.in_valueset(vs("external"), "urn:example:external", "X2")


def test_valueset_including_other_valuesets(folder: Path) -> None:
    include = [{"valueSet": [vs("colour")]}]
    _write(folder, "ValueSet-again.json", _valueset("again", include))
    exclude = {"system": cs("colour"), "concept": [{"code": "green"}]}
    red = _valueset("red", [{"valueSet": [vs("again")]}])
    red["compose"]["exclude"] = [exclude]
    _write(folder, "ValueSet-red.json", red)
    term = Terminology.load(folder)
    assert term.valueset_codes(vs("again")) == term.valueset_codes(vs("colour"))
    assert term.valueset_codes(vs("red")) == {(cs("colour"), "red")}


def test_valueset_cycle(folder: Path) -> None:
    _write(folder, "ValueSet-a.json", _valueset("a", [{"valueSet": [vs("b")]}]))
    _write(folder, "ValueSet-b.json", _valueset("b", [{"valueSet": [vs("a")]}]))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert "itself" in info.value.problem


def test_wrong_resource_type(folder: Path) -> None:
    _write(folder, "ValueSet-colour2.json", _codesystem("colour2", ["x"]))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/ValueSet-colour2.json"
    assert info.value.entry == "resourceType"


def test_unknown_file_prefix(folder: Path) -> None:
    _write(folder, "NamingSystem-x.json", {"resourceType": "NamingSystem", "id": "x"})
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/NamingSystem-x.json"


def test_id_must_match_file_name(folder: Path) -> None:
    _write(folder, "CodeSystem-size.json", _codesystem("sizes", ["s"]))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert (info.value.file, info.value.entry) == ("terminology/CodeSystem-size.json", "id")


def _conceptmap(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "ConceptMap",
        "id": "colour-to-sex",
        "url": cm("colour-to-sex"),
        "status": "active",
        "group": [{"source": cs("colour"), "target": cs("colour"), "element": elements}],
    }


def test_conceptmap_with_unknown_source_code(folder: Path) -> None:
    elements = [
        {"code": "red", "target": [{"code": "green", "equivalence": "inexact", "comment": "?"}]},
        {"code": "blue", "target": [{"code": "green", "equivalence": "inexact", "comment": "?"}]},
    ]
    _write(folder, "ConceptMap-colour-to-sex.json", _conceptmap(elements))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.file == "terminology/ConceptMap-colour-to-sex.json"
    assert info.value.entry == 'group[0].element[1] "blue"'


def test_conceptmap_with_unknown_target_code(folder: Path) -> None:
    elements = [{"code": "red", "target": [{"code": "purple", "equivalence": "wider"}]}]
    _write(folder, "ConceptMap-colour-to-sex.json", _conceptmap(elements))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert info.value.entry == 'group[0].element[0].target[0] "purple"'


def test_conceptmap_with_bad_equivalence(folder: Path) -> None:
    elements = [{"code": "red", "target": [{"code": "green", "equivalence": "same"}]}]
    _write(folder, "ConceptMap-colour-to-sex.json", _conceptmap(elements))
    with pytest.raises(DataFileError) as info:
        Terminology.load(folder)
    assert "equivalence" in info.value.problem


def test_conceptmap_to_external_system(folder: Path) -> None:
    res = _conceptmap(
        [
            {"code": "red", "target": [{"code": "R", "equivalence": "equivalent"}]},
            {"code": "green", "target": [{"equivalence": "unmatched", "comment": "none"}]},
        ]
    )
    res["group"][0]["target"] = "urn:example:external"
    _write(folder, "ConceptMap-colour-to-sex.json", res)
    term = Terminology.load(folder)
    assert term.translate(cm("colour-to-sex"), cs("colour"), "red") == ("urn:example:external", "R")
    assert term.translate(cm("colour-to-sex"), cs("colour"), "green") is None


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataFileError):
        Terminology.load(tmp_path / "nowhere")
