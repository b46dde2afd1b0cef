"""Write the package artefacts that are not profiles or terminology into profiles/.

- ``profiles/extensions/``: one Extension StructureDefinition for every extension
  the mappings use (context, cardinality, value type, binding, requirement IDs);
- ``profiles/search/``: SearchParameters a partner needs (case number …);
- ``profiles/ImplementationGuide-…json``: the ImplementationGuide resource.

The JSON files are the source of truth once written; this script documents how
they were made and regenerates them after a deliberate change:
``python tools/gen_package.py`` (then ``interop package index``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BASE = "https://fhir.jxdcmh.cn"
SD = f"{BASE}/StructureDefinition"
VS = f"{BASE}/ValueSet"
OUT = Path(__file__).resolve().parent.parent / "profiles"
VERSION = "0.1.0"
DATE = "2026-12-06"
PUBLISHER = "interop project (DB36/T 2143-2025 adapter)"
HL7 = "http://hl7.org/fhir/StructureDefinition"

#: A value: (FHIR type, binding value set name or None, reference target or None).
Value = tuple[str, str | None, str | None]


def v(tp: str, binding: str | None = None, target: str | None = None) -> Value:
    return (tp, binding, target)


#: name → (Chinese title, English description, contexts, max, value or sub-extensions, reqs).
#: A complex extension lists (sub-url, Chinese title, value or nested list) triples.
EXTENSIONS: dict[str, tuple[str, str, list[str], str, Any, str]] = {
    "admin-division-code": (
        "行政区划代码",
        "GB/T 2260 administrative division code of an address.",
        ["Address"],
        "1",
        v("code"),
        "A-05, A-06",
    ),
    "age-at-intake": (
        "接案时年龄",
        "The child's age in whole years on the intake date.",
        ["EpisodeOfCare"],
        "1",
        v("integer"),
        "A-04, A-24",
    ),
    "assessment-channel": (
        "测评方式",
        "Paper, online or interview administration of a scale.",
        ["Observation"],
        "1",
        v("Coding", "assessment-channel"),
        "§9.2, R-6.1.1-01",
    ),
    "assessment-phase": (
        "测评阶段",
        "When the scale was given: intake, mid-term or closure.",
        ["Observation"],
        "1",
        v("code"),
        "R-7.5.2-02",
    ),
    "attendance": (
        "出席情况",
        "Whether the child attended the planned session.",
        ["Encounter"],
        "1",
        v("Coding", "attendance-status"),
        "C-06",
    ),
    "case-background": (
        "个案背景",
        "The case background of the service plan (Annex B).",
        ["CarePlan"],
        "1",
        v("string"),
        "B-11",
    ),
    "case-state": (
        "个案状态",
        "The programme's case state (listed, intake, in-service, closed …).",
        ["EpisodeOfCare"],
        "1",
        v("Coding", "case-state"),
        "§3.1, A-25",
    ),
    "child-assent": (
        "儿童本人同意",
        "Whether the child agreed as well as the guardian.",
        ["Consent"],
        "1",
        v("boolean"),
        "R-4.2-01",
    ),
    "closure-reason": (
        "结案原因",
        "Why the case was closed.",
        ["EpisodeOfCare", "Composition"],
        "1",
        v("Coding", "closure-reason"),
        "R-7.5.1-01, T-03",
    ),
    "crisis-type": (
        "危机类型",
        "The kind of crisis a Flag reports.",
        ["Flag"],
        "1",
        v("Coding", "crisis-type"),
        "A-22, R-7.6.1-01",
    ),
    "current-risk": (
        "当前风险等级",
        "The case's current risk level.",
        ["EpisodeOfCare", "CarePlan"],
        "1",
        v("Coding", "risk-level"),
        "G-01",
    ),
    "difficulty-category": (
        "困境类别",
        "Why the child is a child in difficulty.",
        ["Patient"],
        "*",
        v("Coding", "difficulty-category"),
        "R-3.1-02, R-5.1-01",
    ),
    "disability": (
        "残疾情况",
        "Disability category and grade as certified.",
        ["Patient"],
        "1",
        [("category", "残疾类别", v("string")), ("grade", "残疾等级", v("string"))],
        "R-3.1-02",
    ),
    "episode-of-care": (
        "所属个案",
        "The case (EpisodeOfCare) a plan or closure report belongs to (R4 has no element for it).",
        ["CarePlan", "Composition"],
        "1",
        v("Reference", target="EpisodeOfCare"),
        "B-01, D-01",
    ),
    "ethnicity": (
        "民族",
        "Ethnic group, GB/T 3304.",
        ["Patient"],
        "1",
        v("Coding", "gb3304-ethnicity"),
        "A-03",
    ),
    "gender-gbt2261": (
        "性别 (GB/T 2261.1)",
        "Sex as coded by GB/T 2261.1 (Patient.gender carries the FHIR code).",
        ["Patient"],
        "1",
        v("Coding", "gbt2261-sex"),
        "A-02",
    ),
    "health-status": (
        "健康状况",
        "Free-text health status of the child.",
        ["Patient"],
        "1",
        v("string"),
        "A-16",
    ),
    "high-risk-justification": (
        "高风险少于12次的理由",
        "Why a high-risk plan has fewer than 12 sessions.",
        ["CarePlan"],
        "1",
        v("string"),
        "B-06",
    ),
    "home-visit-safety": (
        "入户安全",
        "Safeguards of a home visit: private space, guardian present, guardian notified.",
        ["Encounter"],
        "1",
        [
            ("privateSpace", "有独立空间", v("boolean")),
            ("guardianPresent", "监护人在场", v("boolean")),
            (
                "guardianNotified",
                "已通知监护人",
                [
                    ("time", "通知时间", v("dateTime")),
                    ("channel", "通知方式", v("string")),
                    ("by", "通知人", v("Reference", target="Practitioner")),
                ],
            ),
        ],
        "R-7.3-13, R-7.3-17",
    ),
    "homework": (
        "家庭作业/练习",
        "Homework agreed in the session.",
        ["Encounter"],
        "1",
        v("string"),
        "C-15",
    ),
    "household-registration": (
        "户籍地",
        "Place of household registration (text and division code).",
        ["Patient"],
        "1",
        v("Address"),
        "A-06, R-5.1-01",
    ),
    "inclusion-basis": (
        "纳入依据",
        "On what basis the child was taken into the programme.",
        ["EpisodeOfCare"],
        "1",
        v("Coding", "inclusion-basis"),
        "R-5.1-02",
    ),
    "instrument-override": (
        "测评工具变更理由",
        "Why a closure scale differs from the intake scale.",
        ["Observation"],
        "1",
        v("string"),
        "R-7.5.2-02",
    ),
    "instrument-version": (
        "测评工具版本",
        "Version of the scale used.",
        ["Observation"],
        "1",
        v("string"),
        "G-02",
    ),
    "list-received-date": (
        "名单接收日期",
        "The date the civil-affairs list naming the child was received.",
        ["EpisodeOfCare"],
        "1",
        v("date"),
        "R-7.1.1-01, DL-01",
    ),
    "occupation": (
        "职业",
        "Occupation of a related person.",
        ["RelatedPerson"],
        "1",
        v("string"),
        "A-08",
    ),
    "override": (
        "时长例外理由",
        "Why a session's duration is outside the usual range.",
        ["Encounter"],
        "1",
        v("string"),
        "CL-05",
    ),
    "problem-formulation": (
        "问题成因分析",
        "Cause analysis of the plan: manifestation, theoretical explanation, summary.",
        ["CarePlan"],
        "1",
        [
            ("manifestation", "表现分析", v("string")),
            ("theory", "理论阐释", v("string")),
            ("summary", "问题总结", v("string")),
        ],
        "B-12, B-13, B-14",
    ),
    "problem-type": (
        "问题类型",
        "Problem types the plan addresses.",
        ["CarePlan"],
        "*",
        v("Coding", "problem-type"),
        "B-05",
    ),
    "record-date": (
        "记录日期",
        "The date the session record was filled in.",
        ["Encounter"],
        "1",
        v("date"),
        "C-17",
    ),
    "reenrolment-support": (
        "复学支持",
        "Re-enrolment support in the plan.",
        ["CarePlan"],
        "1",
        v("string"),
        "R-6.1.4-03",
    ),
    "school-enrolment": (
        "就学情况",
        "Whether and where the child is at school: stage, school, class.",
        ["Patient"],
        "1",
        [
            ("enrolled", "在读", v("boolean")),
            ("stage", "学段", v("Coding", "school-stage")),
            ("school", "所在学校", v("Reference", target="Organization")),
            ("class", "班级", v("string")),
        ],
        "A-10, A-11, R-6.1.4-03",
    ),
    "service-location": (
        "服务地点",
        "Where the plan's sessions take place.",
        ["CarePlan"],
        "1",
        v("Coding", "location-type"),
        "B-10",
    ),
    "service-method": (
        "实施方法",
        "Methods the plan uses.",
        ["CarePlan"],
        "*",
        v("Coding", "service-method"),
        "B-16",
    ),
    "service-preferences": (
        "服务期望",
        "What the child and family ask for: frequency, time, place and the kind of worker.",
        ["EpisodeOfCare"],
        "1",
        [
            ("frequencyPerWeek", "希望服务频次 (次/周)", v("decimal")),
            ("time", "希望服务时间", v("string")),
            ("location", "希望服务地点", v("string")),
            ("providerGender", "期望服务人员性别", v("Coding", "provider-pref-gender")),
            ("providerAge", "期望服务人员年龄", v("Coding", "provider-pref-age")),
            ("providerMarital", "期望服务人员婚姻状态", v("Coding", "provider-pref-marital")),
            (
                "providerHasChildren",
                "期望服务人员是否有子女",
                v("Coding", "provider-pref-children"),
            ),
            ("providerLanguage", "期望服务人员语言", v("Coding", "provider-pref-language")),
            ("providerStyle", "期望服务风格", v("Coding", "provider-pref-style")),
            ("other", "其他期望", v("string")),
        ],
        "A-33, A-34, A-35, A-37, A-38, A-39, A-40, A-41, A-42, A-43",
    ),
    "session-goal": (
        "本次服务目标",
        "The goal of this session.",
        ["Encounter"],
        "1",
        v("string"),
        "C-10",
    ),
    "session-location": (
        "服务地点",
        "Where the session took place.",
        ["Encounter"],
        "1",
        v("Coding", "location-type"),
        "C-07",
    ),
    "session-number": (
        "服务次序",
        "The session's number in the plan (第 _ 次).",
        ["Encounter"],
        "1",
        v("integer"),
        "C-09",
    ),
    "session-process": (
        "主要过程",
        "What happened in the session.",
        ["Encounter"],
        "1",
        v("string"),
        "C-12",
    ),
    "session-reflection": (
        "服务反思",
        "The worker's reflection (internal; never disclosed).",
        ["Encounter"],
        "1",
        v("string"),
        "C-16",
    ),
    "theoretical-orientation": (
        "理论依据",
        "Theoretical orientation of the plan or session.",
        ["CarePlan", "Encounter"],
        "*",
        v("Coding", "theoretical-orientation"),
        "B-15, C-11, R-8.2-01",
    ),
    "total-sessions": (
        "总次数",
        "Number of sessions held, on the closure report.",
        ["Composition"],
        "1",
        v("integer"),
        "D-06",
    ),
}


def _pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.replace("_", "-").split("-"))


def _value_elements(prefix_id: str, prefix_path: str, value: Value) -> list[dict[str, Any]]:
    tp, binding, target = value
    type_: dict[str, Any] = {"code": tp}
    if target:
        type_["targetProfile"] = [f"{HL7}/{target}"]
    el: dict[str, Any] = {
        "id": f"{prefix_id}.value[x]",
        "path": f"{prefix_path}.value[x]",
        "min": 1,
        "type": [type_],
    }
    if binding:
        el["binding"] = {"strength": "required", "valueSet": f"{VS}/{binding}"}
    return [el]


def _complex(prefix_id: str, prefix_path: str, subs: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "id": f"{prefix_id}.extension",
            "path": f"{prefix_path}.extension",
            "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"},
        }
    ]
    for url, title, spec in subs:
        sid = f"{prefix_id}.extension:{url}"
        spath = f"{prefix_path}.extension"
        out.append(
            {
                "id": sid,
                "path": spath,
                "sliceName": url,
                "short": title,
                "min": 0,
                "max": "1",
            }
        )
        if isinstance(spec, list):
            out += _complex(sid, spath, spec)
            out.append({"id": f"{sid}.url", "path": f"{spath}.url", "fixedUri": url})
            out.append({"id": f"{sid}.value[x]", "path": f"{spath}.value[x]", "max": "0"})
        else:
            out.append({"id": f"{sid}.extension", "path": f"{spath}.extension", "max": "0"})
            out.append({"id": f"{sid}.url", "path": f"{spath}.url", "fixedUri": url})
            out += _value_elements(sid, spath, spec)
    return out


def extension(name: str) -> dict[str, Any]:
    title, description, contexts, mx, spec, reqs = EXTENSIONS[name]
    url = f"{SD}/{name}"
    elements: list[dict[str, Any]] = [
        {
            "id": "Extension",
            "path": "Extension",
            "short": title,
            "definition": description,
            "requirements": reqs,
            "min": 0,
            "max": mx,
        }
    ]
    if isinstance(spec, list):
        elements += _complex("Extension", "Extension", spec)
        elements.append({"id": "Extension.url", "path": "Extension.url", "fixedUri": url})
        elements.append({"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"})
    else:
        elements.append({"id": "Extension.extension", "path": "Extension.extension", "max": "0"})
        elements.append({"id": "Extension.url", "path": "Extension.url", "fixedUri": url})
        elements += _value_elements("Extension", "Extension", spec)
    return {
        "resourceType": "StructureDefinition",
        "id": name,
        "language": "zh-CN",
        "url": url,
        "version": VERSION,
        "name": _pascal(name),
        "title": f"{title} ({name})",
        "status": "active",
        "experimental": False,
        "date": DATE,
        "publisher": PUBLISHER,
        "description": f"{description} Requirements: {reqs}.",
        "purpose": f"DB36/T 2143-2025, requirements {reqs}.",
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": c} for c in contexts],
        "type": "Extension",
        "baseDefinition": f"{HL7}/Extension",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


#: SearchParameters a partner needs: (id, Chinese title, description, base, expression, type).
SEARCH: list[tuple[str, str, str, list[str], str, str]] = [
    (
        "episodeofcare-case-number",
        "个案编号",
        "Find a case by its case number (个案编号, A-25): EpisodeOfCare.identifier.",
        ["EpisodeOfCare"],
        "EpisodeOfCare.identifier",
        "token",
    ),
    (
        "careplan-episode-of-care",
        "所属个案",
        "Plans of a case: the episode-of-care extension of CarePlan (B-01).",
        ["CarePlan"],
        f"CarePlan.extension('{SD}/episode-of-care').value",
        "reference",
    ),
    (
        "episodeofcare-case-state",
        "个案状态",
        "Cases by programme state (§3.1): the case-state extension.",
        ["EpisodeOfCare"],
        f"EpisodeOfCare.extension('{SD}/case-state').value",
        "token",
    ),
    (
        "episodeofcare-current-risk",
        "当前风险等级",
        "Cases by current risk level (G-01): the current-risk extension.",
        ["EpisodeOfCare"],
        f"EpisodeOfCare.extension('{SD}/current-risk').value",
        "token",
    ),
]


def search_parameter(sp: tuple[str, str, str, list[str], str, str]) -> dict[str, Any]:
    sid, title, description, base, expression, type_ = sp
    code = sid.split("-", 1)[1]
    out: dict[str, Any] = {
        "resourceType": "SearchParameter",
        "id": sid,
        "language": "zh-CN",
        "url": f"{BASE}/SearchParameter/{sid}",
        "version": VERSION,
        "name": _pascal(sid),
        "status": "active",
        "experimental": False,
        "date": DATE,
        "publisher": PUBLISHER,
        "description": f"{title}: {description}",
        "code": code,
        "base": base,
        "type": type_,
        "expression": expression,
        "xpathUsage": "normal",
    }
    if type_ == "reference":
        out["target"] = ["EpisodeOfCare"]
    return out


def main() -> None:
    ext_dir = OUT / "extensions"
    ext_dir.mkdir(exist_ok=True)
    for name in EXTENSIONS:
        path = ext_dir / f"StructureDefinition-{name}.json"
        path.write_text(json.dumps(extension(name), ensure_ascii=False, indent=2) + "\n", "utf-8")
    search_dir = OUT / "search"
    search_dir.mkdir(exist_ok=True)
    for sp in SEARCH:
        path = search_dir / f"SearchParameter-{sp[0]}.json"
        body = search_parameter(sp)
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
