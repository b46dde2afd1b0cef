"""The non-clinical status summary (服务状态摘要; 7.3 regular contact, matrix row 29).

Partners of the 7.3 contact (school, village, township, family) get a status,
never scores, diagnoses or narratives (P-3, P-9): ``stable``, ``improving`` or
``needs-attention``, plus the support requested from them, as codes of
``cs:service-type`` that are non-clinical (re-enrolment support, tutoring,
study guidance, material aid …).

The engine derives it from the case record (a plugin never sees the record),
as one extra Observation that passes the purpose filter like any other
resource: only policies that name it let it out.

Derivation (documented in docs/purposes.md):

- ``needs-attention``: a crisis that is not resolved (7.6), or the last two
  planned sessions were not attended;
- ``improving``: a goal of the current plan is improving, sustaining or achieved;
- ``stable``: otherwise.
"""

from __future__ import annotations

import uuid
from typing import Any

from interop.core.plan import Plan
from interop.core.record import CaseRecord
from interop.fhir import canonical
from interop.fhir.terminology import Terminology

__all__ = ["NON_CLINICAL_SUPPORT", "derive_status", "status_summary"]

#: Service types a partner may be asked to support, in non-clinical words (6.1.4.2, 6.2).
NON_CLINICAL_SUPPORT = (
    "reenrolment-support",
    "academic-tutoring",
    "study-guidance",
    "material-aid",
    "rights-protection",
    "linkage",
    "care-guidance",
    "family-education",
    "child-friendly-community",
)
_IMPROVING = frozenset({"improving", "sustaining", "achieved"})
_NS = uuid.UUID("5d0e8f0a-6b1e-4c59-8b8f-3f7c1e2d9a44")
_OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _current_plan(record: CaseRecord) -> Plan | None:
    active = [p for p in record.plans if p.status == "active"]
    pool = active or record.plans
    return max(pool, key=lambda p: p.version) if pool else None


def derive_status(record: CaseRecord) -> tuple[str, list[str]]:
    """(status code, support codes) of the case, from the record alone."""
    plan = _current_plan(record)
    support = [t for t in NON_CLINICAL_SUPPORT if plan is not None and t in plan.service_types]
    if any(c.status != "resolved" for c in record.crises):
        return "needs-attention", support
    planned = sorted(record.sessions, key=lambda s: s.start)[-2:]
    if len(planned) == 2 and all(s.attendance != "attended" for s in planned):
        return "needs-attention", support
    if plan is not None and any(g.achievement in _IMPROVING for g in plan.goals):
        return "improving", support
    return "stable", support


def status_summary(
    record: CaseRecord, full: dict[str, Any], terminology: Terminology, *, as_of: str
) -> dict[str, Any] | None:
    """The status-summary Observation, referencing the child and the care manager
    of the archive Bundle ``full`` (None when the Bundle has no Patient)."""
    patient = next(
        (e for e in full.get("entry", ()) if e["resource"].get("resourceType") == "Patient"), None
    )
    if patient is None:
        return None
    status, support = derive_status(record)
    manager = None
    if record.case.care_manager:
        for e in full["entry"]:
            r = e["resource"]
            if r.get("resourceType") == "Practitioner" and any(
                i.get("value") == record.case.care_manager for i in r.get("identifier", ())
            ):
                manager = e["fullUrl"]
                break
    obs_code = canonical.cs("observation-code")
    status_cs = canonical.cs("status-summary")
    service_cs = canonical.cs("service-type")

    def coding(system: str, code: str) -> dict[str, str]:
        out = {"system": system, "code": code}
        display = terminology.display(system, code)
        if display:
            out["display"] = display
        return out

    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(_NS, f"{record.case.case_number}|status-summary")),
        "status": "final",
        "category": [{"coding": [{"system": _OBS_CATEGORY, "code": "social-history"}]}],
        "code": {"coding": [coding(obs_code, "status-summary")]},
        "subject": {"reference": patient["fullUrl"]},
        "effectiveDateTime": as_of,
        "valueCodeableConcept": {"coding": [coding(status_cs, status)]},
    }
    if manager:
        obs["performer"] = [{"reference": manager}]
    if support:
        obs["component"] = [
            {
                "code": {"coding": [coding(obs_code, "support-requested")]},
                "valueCodeableConcept": {"coding": [coding(service_cs, s)]},
            }
            for s in support
        ]
    return obs
