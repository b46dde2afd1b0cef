"""Write the programme's StructureDefinitions (differential) into profiles/.

The JSON files are the source of truth once written; this script documents
how they were made and regenerates them after a deliberate change:
``python tools/gen_profiles.py``. Each rule cites its requirement ID.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BASE = "https://fhir.jxdcmh.cn"
SD = f"{BASE}/StructureDefinition"
VS = f"{BASE}/ValueSet"
CS = f"{BASE}/CodeSystem"
OUT = Path(__file__).resolve().parent.parent / "profiles"


def ext(url: str) -> str:
    # extension(url) is several times faster in fhirpathpy than where(url = …).
    return f"extension('{SD}/{url}')"


def slice_(
    rtype: str,
    name: str,
    url: str,
    mn: int,
    mx: str,
    binding: str | None = None,
    value: str = "valueCoding",
    req: str | None = None,
) -> list[dict[str, Any]]:
    el: dict[str, Any] = {
        "id": f"{rtype}.extension:{name}",
        "path": f"{rtype}.extension",
        "sliceName": name,
        "min": mn,
        "max": mx,
        "type": [{"code": "Extension", "profile": [f"{SD}/{url}"]}],
    }
    if req:
        el["requirements"] = req
    out = [
        el,
        {
            "id": f"{rtype}.extension:{name}.url",
            "path": f"{rtype}.extension.url",
            "fixedUri": f"{SD}/{url}",
        },
    ]
    if binding:
        # value[x] restricted to one type (not the type-named valueCoding path, which
        # snapshot generators turn into a type slice that Medplum's validator cannot match)
        out.append(
            {
                "id": f"{rtype}.extension:{name}.value[x]",
                "path": f"{rtype}.extension.value[x]",
                "type": [{"code": value[len("value") :]}],
                "binding": {"strength": "required", "valueSet": f"{VS}/{binding}"},
            }
        )
    return out


def slicing(rtype: str) -> dict[str, Any]:
    return {
        "id": f"{rtype}.extension",
        "path": f"{rtype}.extension",
        "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"},
    }


def constraint(
    key: str, req: str, human: str, expr: str, severity: str = "error"
) -> dict[str, Any]:
    return {
        "key": key,
        "requirements": req,
        "severity": severity,
        "human": human,
        "expression": expr,
    }


def sd(
    name: str, title: str, rtype: str, description: str, elements: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "id": name,
        "url": f"{SD}/{name}",
        "version": "0.1.0",
        "name": "".join(p.capitalize() for p in name.split("-")),
        "title": title,
        "status": "active",
        "date": "2026-11-29",
        "publisher": "interop project (DB36/T 2143-2025 adapter)",
        "description": description,
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": rtype,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{rtype}",
        "derivation": "constraint",
        # The root element first: Medplum's sdf-8a check refuses a differential without it.
        "differential": {"element": _rooted(rtype, elements)},
    }


def _rooted(rtype: str, elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if elements[0]["path"] == rtype:
        return elements
    return [{"id": rtype, "path": rtype}, *elements]


def profiles() -> list[dict[str, Any]]:
    risk = f"{ext('current-risk')}.value.code"
    # iif() evaluates its branches lazily in fhirpathpy, so the cheap test goes first.
    safety = ext("home-visit-safety")
    absent = f"{safety}.extension('guardianPresent').value = false"
    at_home = f"{ext('session-location')}.value.code = 'home'"
    phase = ext("assessment-phase") + ".value"
    # Only scale results carry an assessment phase (dc-observation-scale).
    scale = "entry.resource.ofType(Observation)"
    return [
        sd(
            "dc-patient",
            "困境儿童 (child in difficulty)",
            "Patient",
            "The child receiving service (3.1, Annex A A-01…A-06).",
            [
                {
                    "id": "Patient",
                    "path": "Patient",
                    "constraint": [
                        constraint(
                            "dc-pat-1",
                            "G-29",
                            "A resident ID number has 17 digits and a check character",
                            "identifier.where(system='urn:oid:2.16.156.10011.1.3' or "
                            "system='urn:oid:2.16.840.1.113883.2.23.1.19.1').value"
                            ".all(matches('^[0-9]{17}[0-9X]$'))",
                        )
                    ],
                },
                slicing("Patient"),
                *slice_(
                    "Patient", "ethnicity", "ethnicity", 1, "1", "gb3304-ethnicity", req="A-03"
                ),
                *slice_(
                    "Patient", "sexGbt2261", "gender-gbt2261", 0, "1", "gbt2261-sex", req="A-02"
                ),
                *slice_(
                    "Patient",
                    "difficultyCategory",
                    "difficulty-category",
                    0,
                    "*",
                    "difficulty-category",
                    req="R-5.1-01",
                ),
                {"id": "Patient.name", "path": "Patient.name", "min": 1, "requirements": "A-01"},
                {
                    "id": "Patient.gender",
                    "path": "Patient.gender",
                    "min": 1,
                    "requirements": "A-02",
                },
                {
                    "id": "Patient.birthDate",
                    "path": "Patient.birthDate",
                    "min": 1,
                    "requirements": "R-3.1-01",
                },
            ],
        ),
        sd(
            "dc-episode-of-care",
            "个案 (case)",
            "EpisodeOfCare",
            "The case: case number (A-25), state (§3.1), current risk (G-01).",
            [
                {
                    "id": "EpisodeOfCare",
                    "path": "EpisodeOfCare",
                    "constraint": [
                        constraint(
                            "dc-eoc-1",
                            "R-3.1-01",
                            "The child must be under 18 at intake (未满18周岁)",
                            f"{ext('age-at-intake')}.value.all($this < 18)",
                        )
                    ],
                },
                slicing("EpisodeOfCare"),
                *slice_(
                    "EpisodeOfCare", "caseState", "case-state", 1, "1", "case-state", req="§3.1"
                ),
                *slice_(
                    "EpisodeOfCare", "currentRisk", "current-risk", 1, "1", "risk-level", req="G-01"
                ),
                *slice_(
                    "EpisodeOfCare",
                    "closureReason",
                    "closure-reason",
                    0,
                    "1",
                    "closure-reason",
                    req="R-7.5.1-01",
                ),
                {
                    "id": "EpisodeOfCare.identifier",
                    "path": "EpisodeOfCare.identifier",
                    "min": 1,
                    "requirements": "A-25",
                },
            ],
        ),
        sd(
            "dc-careplan",
            "心理健康服务方案 (service plan, Annex B)",
            "CarePlan",
            "One version of the service plan (7.2, Annex B).",
            [
                {
                    "id": "CarePlan",
                    "path": "CarePlan",
                    "constraint": [
                        constraint(
                            "dc-cp-1",
                            "R-7.2.1-03",
                            "A plan has at least 6 planned sessions (服务次数不少于6次)",
                            "activity.detail.scheduledTiming.repeat.count.exists() and "
                            "activity.detail.scheduledTiming.repeat.count.all($this >= 6)",
                        ),
                        constraint(
                            "dc-cp-2",
                            "R-6.1.1-05",
                            "A medium- or high-risk plan has both counselling (心理疏导) and "
                            "intervention (心理干预)",
                            f"iif({risk} in ('medium' | 'high'), "
                            f"activity.detail.code.coding.where(system='{CS}/service-type' and "
                            "code='counselling').exists() and activity.detail.code.coding"
                            f".where(system='{CS}/service-type' and code='intervention')"
                            ".exists(), true)",
                        ),
                        constraint(
                            "dc-cp-3",
                            "CL-03",
                            "A high-risk plan should have at least 12 sessions, or a justification",
                            f"iif({risk} = 'high', activity.detail.scheduledTiming"
                            f".repeat.count.all($this >= 12) or "
                            f"{ext('high-risk-justification')}.exists(), true)",
                            severity="warning",
                        ),
                    ],
                },
                slicing("CarePlan"),
                *slice_(
                    "CarePlan", "currentRisk", "current-risk", 1, "1", "risk-level", req="G-01"
                ),
                *slice_(
                    "CarePlan",
                    "episodeOfCare",
                    "episode-of-care",
                    1,
                    "1",
                    value="valueReference",
                    req="B-01",
                ),
                {
                    "id": "CarePlan.period",
                    "path": "CarePlan.period",
                    "min": 1,
                    "requirements": "7.2.1",
                },
                {
                    "id": "CarePlan.activity",
                    "path": "CarePlan.activity",
                    "min": 1,
                    "requirements": "B-16",
                },
                {
                    "id": "CarePlan.activity.detail.code",
                    "path": "CarePlan.activity.detail.code",
                    "min": 1,
                    "binding": {"strength": "required", "valueSet": f"{VS}/service-type"},
                },
            ],
        ),
        sd(
            "dc-encounter",
            "心理健康服务记录 (session, Annex C)",
            "Encounter",
            "One service session (7.3, Annex C).",
            [
                {
                    "id": "Encounter",
                    "path": "Encounter",
                    "constraint": [
                        constraint(
                            "dc-enc-1",
                            "R-7.3-17",
                            "A home visit with the guardian absent needs at least 2 staff "
                            "(至少两名服务人员同行)",
                            f"iif({absent}, iif({at_home}, "
                            "participant.individual.count() >= 2, true), true)",
                        ),
                        constraint(
                            "dc-enc-2",
                            "R-7.3-16",
                            "A home visit with the guardian absent needs a record that the "
                            "guardian was informed (应告知监护人)",
                            f"iif({absent}, iif({at_home}, "
                            f"{safety}.extension('guardianNotified').exists(), true), true)",
                        ),
                        constraint(
                            "dc-enc-3",
                            "R-7.3-16",
                            "A home visit records whether the guardian was present",
                            f"iif({at_home}, {safety}.extension('guardianPresent').exists(), true)",
                        ),
                    ],
                },
                slicing("Encounter"),
                *slice_(
                    "Encounter",
                    "sessionNumber",
                    "session-number",
                    1,
                    "1",
                    value="valueInteger",
                    req="C-09",
                ),
                *slice_(
                    "Encounter",
                    "sessionLocation",
                    "session-location",
                    1,
                    "1",
                    "location-type",
                    req="C-07",
                ),
                {
                    "id": "Encounter.participant",
                    "path": "Encounter.participant",
                    "min": 1,
                    "requirements": "C-05",
                },
                {
                    "id": "Encounter.period",
                    "path": "Encounter.period",
                    "min": 1,
                    "requirements": "C-06",
                },
                {
                    "id": "Encounter.episodeOfCare",
                    "path": "Encounter.episodeOfCare",
                    "min": 1,
                    "requirements": "C-01",
                },
            ],
        ),
        sd(
            "dc-risk-assessment",
            "风险评估 (risk assessment)",
            "RiskAssessment",
            "Risk level at intake, mid-term or closure (G-01).",
            [
                {
                    "id": "RiskAssessment",
                    "path": "RiskAssessment",
                    "constraint": [
                        constraint(
                            "dc-ra-1",
                            "G-01",
                            "The risk level is coded with the programme's risk-level codes",
                            f"prediction.qualitativeRisk.coding.where(system='{CS}/risk-level')"
                            ".exists()",
                        )
                    ],
                },
                {
                    "id": "RiskAssessment.prediction",
                    "path": "RiskAssessment.prediction",
                    "min": 1,
                    "requirements": "G-01",
                },
                {
                    "id": "RiskAssessment.occurrence[x]",
                    "path": "RiskAssessment.occurrence[x]",
                    "min": 1,
                    "requirements": "A-21",
                },
            ],
        ),
        sd(
            "dc-observation-scale",
            "心理测评结果 (scale result)",
            "Observation",
            "A scale result with dimension scores (9.2 group 2, §2.6).",
            [
                slicing("Observation"),
                *slice_(
                    "Observation",
                    "phase",
                    "assessment-phase",
                    1,
                    "1",
                    value="valueCode",
                    req="R-7.5.2-02",
                ),
                *slice_(
                    "Observation",
                    "instrumentVersion",
                    "instrument-version",
                    1,
                    "1",
                    value="valueString",
                    req="G-02",
                ),
                *slice_(
                    "Observation",
                    "channel",
                    "assessment-channel",
                    1,
                    "1",
                    "assessment-channel",
                    req="9.2",
                ),
                {
                    "id": "Observation.effective[x]",
                    "path": "Observation.effective[x]",
                    "min": 1,
                    "requirements": "9.2",
                },
                {
                    "id": "Observation.method",
                    "path": "Observation.method",
                    "min": 1,
                    "requirements": "9.2",
                    "binding": {"strength": "required", "valueSet": f"{VS}/assessment-mode"},
                },
            ],
        ),
        sd(
            "dc-observation-narrative",
            "叙述性观察 (narrative observation)",
            "Observation",
            "Intake findings, session effect and other worded observations (Annex A, C; 9.2).",
            [
                {
                    "id": "Observation.code",
                    "path": "Observation.code",
                    "requirements": "§2.6",
                    "binding": {"strength": "required", "valueSet": f"{VS}/observation-code"},
                },
                {"id": "Observation.subject", "path": "Observation.subject", "min": 1},
                {"id": "Observation.effective[x]", "path": "Observation.effective[x]", "min": 1},
            ],
        ),
        sd(
            "dc-consent",
            "知情同意 (consent)",
            "Consent",
            "Informed consent to service (7.2.3) or to sharing, per topic (G-25).",
            [
                {
                    "id": "Consent",
                    "path": "Consent",
                    "constraint": [
                        constraint(
                            "dc-con-1",
                            "R-7.2.3-01",
                            "A consent names its topic from the programme's consent topics",
                            f"category.coding.where(system='{CS}/consent-topic').exists()",
                        )
                    ],
                },
                {
                    "id": "Consent.performer",
                    "path": "Consent.performer",
                    "min": 1,
                    "requirements": "R-7.2.3-01",
                },
                {
                    "id": "Consent.dateTime",
                    "path": "Consent.dateTime",
                    "min": 1,
                    "requirements": "R-7.2.3-01",
                },
            ],
        ),
        sd(
            "dc-case-bundle",
            "一人一档 (case Bundle)",
            "Bundle",
            "All resources of one case; rules that span resources.",
            [
                {
                    "id": "Bundle",
                    "path": "Bundle",
                    "constraint": [
                        constraint(
                            "dc-bun-1",
                            "R-7.2.3-01",
                            "No session without an active service consent (知情同意)",
                            "iif(entry.resource.ofType(Encounter).where(status = 'finished')"
                            ".exists(), entry.resource.ofType(Consent)"
                            ".where(status = 'active' and category.coding"
                            f".where(system = '{CS}/consent-topic' and code = 'service')"
                            ".exists()).exists(), true)",
                        ),
                        constraint(
                            "dc-bun-2",
                            "R-7.5.2-02",
                            "A closure assessment uses an instrument of the intake "
                            "assessment, unless a justification is given",
                            f"{scale}.where({phase} = 'closure' and "
                            f"{ext('instrument-override')}.empty())"
                            f".all(code.coding.code in %resource.{scale}"
                            f".where({phase} = 'intake').code.coding.code)",
                        ),
                    ],
                },
                {"id": "Bundle.type", "path": "Bundle.type", "fixedCode": "collection"},
            ],
        ),
    ]


def main() -> None:
    for p in profiles():
        path = OUT / f"StructureDefinition-{p['id']}.json"
        path.write_text(json.dumps(p, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(path.relative_to(OUT.parent))


if __name__ == "__main__":
    main()
