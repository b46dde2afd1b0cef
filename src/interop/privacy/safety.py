"""Safety flags (安全提示) honoured by every disclosure (requirements §4.4, R-4.5-01).

A case may carry safety flags (``case.safety_flags``, codes of ``cs:flag-code``):

- ``guardian-restricted`` (监护人受限, §4.4) — the guardian may be implicated:
  nothing goes to or through the guardian, no guardian contact details leave
  (telecom and address of the guardian's RelatedPerson and Patient.contact are
  removed from every outbound Bundle), and a consent counts only when the
  temporary guardian or the designated body (the commissioner) granted it
  (G-25; :func:`interop.privacy.consent.check_consent`);
- ``avoid-reinterview`` (避免重复询问, R-4.5-01) — the receiver must not ask the
  child about the event again;
- ``contacting-subject-prohibited`` — the child must not be contacted
  directly; carried as HL7 SDOH Clinical Care does (the code
  ``SDOHCC-CodeSystemTemporaryCodes#contacting-subject-prohibited``, there in
  ``ServiceRequest.orderDetail``; here on the Flag and on any ServiceRequest
  that leaves).

Each flag travels to a partner as its policy says (``safety_flags``): as a
``flag`` (a Flag resource sent with the Bundle), as a ``label`` (a
``meta.security`` coding of the Bundle and of every resource), or not at all —
``block``, the default: a partner that cannot honour a flag gets nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from interop.fhir import canonical
from interop.fhir.terminology import Terminology

__all__ = [
    "CONTACTING_SUBJECT_PROHIBITED",
    "GUARDIAN_RESTRICTED",
    "SAFETY_FLAGS",
    "SDOHCC_CODES",
    "SafetyPlan",
    "plan_safety",
    "subject_contact_prohibited",
]

GUARDIAN_RESTRICTED = "guardian-restricted"
AVOID_REINTERVIEW = "avoid-reinterview"
CONTACTING_SUBJECT_PROHIBITED = "contacting-subject-prohibited"
#: The flags a disclosure honours (``crisis`` has its own path: break-glass).
SAFETY_FLAGS = (GUARDIAN_RESTRICTED, AVOID_REINTERVIEW, CONTACTING_SUBJECT_PROHIBITED)
SDOHCC_CODES = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_UUID = "urn:uuid:"
_OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"


@dataclass(slots=True)
class SafetyPlan:
    """What the flags of one case mean for one disclosure."""

    flags: list[str] = field(default_factory=list)  # the case's safety flags
    blocked: list[str] = field(default_factory=list)  # flags the partner cannot honour
    as_flag: list[str] = field(default_factory=list)
    as_label: list[str] = field(default_factory=list)

    @property
    def guardian_restricted(self) -> bool:
        return GUARDIAN_RESTRICTED in self.flags


def plan_safety(flags: list[str], handling: dict[str, str]) -> SafetyPlan:
    """How the partner of a policy (``handling``: its ``safety_flags``) takes ``flags``."""
    plan = SafetyPlan(flags=[f for f in flags if f in SAFETY_FLAGS])
    for f in plan.flags:
        how = handling.get(f, "block")
        {"flag": plan.as_flag, "label": plan.as_label}.get(how, plan.blocked).append(f)
    return plan


def _is_guardian(resource: dict[str, Any]) -> bool:
    for rel in resource.get("relationship", ()):
        for c in rel.get("coding", ()) if isinstance(rel, dict) else ():
            if (c.get("system"), c.get("code")) in (
                (_ROLE_CODE, "GUARD"),
                (canonical.cs("related-person-role"), "guardian"),
            ):
                return True
    return False


def _name_texts(holder: dict[str, Any]) -> set[str]:
    names = holder.get("name")
    return {
        n["text"]
        for n in (names if isinstance(names, list) else [names])
        if isinstance(n, dict) and isinstance(n.get("text"), str)
    }


def _strip_phones(value: Any, phones: frozenset[str]) -> int:
    """Remove ContactPoints holding one of ``phones``, anywhere under ``value``."""
    removed = 0
    if isinstance(value, dict):
        for key in list(value):
            v = value[key]
            if key == "telecom" and isinstance(v, list):
                kept = [c for c in v if not (isinstance(c, dict) and c.get("value") in phones)]
                removed += len(v) - len(kept)
                if kept:
                    value[key] = kept
                else:
                    del value[key]
            else:
                removed += _strip_phones(v, phones)
    elif isinstance(value, list):
        removed += sum(_strip_phones(v, phones) for v in value)
    return removed


def strip_guardian_contacts(
    bundle: dict[str, Any], names: set[str] | None = None, phones: set[str] | None = None
) -> int:
    """Remove the guardian's telecom and address from an outbound Bundle (in place).

    The guardian is a RelatedPerson (or Patient.contact) with the guardian role,
    or one named in ``names``; a ContactPoint holding one of ``phones`` is
    removed wherever it is. Returns how many elements were removed; each
    resource that lost one is labelled ``REDACTED``.
    """
    names = names or set()
    known = frozenset(phones or ())
    removed = 0
    for entry in bundle.get("entry", ()):
        res = entry["resource"]
        holders: list[dict[str, Any]] = []
        if res.get("resourceType") == "RelatedPerson" and (
            _is_guardian(res) or _name_texts(res) & names
        ):
            holders.append(res)
        if res.get("resourceType") == "Patient":
            contacts = res.get("contact", ())
            holders += [
                c
                for c in contacts
                if isinstance(c, dict) and (_is_guardian(c) or _name_texts(c) & names)
            ]
        before = removed
        for h in holders:
            for key in ("telecom", "address"):
                if key in h:
                    del h[key]
                    removed += 1
        if known:
            removed += _strip_phones(res, known)
        if removed > before:
            _mark_redacted(res)
    return removed


def _mark_redacted(holder: dict[str, Any]) -> None:
    security = holder.setdefault("meta", {}).setdefault("security", [])
    if not any(s.get("code") == "REDACTED" for s in security):
        security.append({"system": _OBSERVATION_VALUE, "code": "REDACTED", "display": "redacted"})


def safety_flag(
    code: str, patient_ref: str | None, terminology: Terminology, stamp: str
) -> dict[str, Any]:
    """A Flag resource of one safety flag (sent to partners that honour it as a flag)."""
    coding = [
        {
            "system": canonical.cs("flag-code"),
            "code": code,
            "display": terminology.display(canonical.cs("flag-code"), code) or code,
        }
    ]
    if code == CONTACTING_SUBJECT_PROHIBITED:
        coding.append(
            {"system": SDOHCC_CODES, "code": code, "display": "Contacting Subject Prohibited"}
        )
    flag: dict[str, Any] = {
        "resourceType": "Flag",
        "id": str(uuid.uuid4()),
        "status": "active",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                        "code": "safety",
                        "display": "Safety",
                    }
                ]
            }
        ],
        "code": {"coding": coding},
        "period": {"start": stamp},
    }
    if patient_ref is not None:
        flag["subject"] = {"reference": patient_ref}
    return flag


def subject_contact_prohibited(bundle: dict[str, Any]) -> bool:
    """Whether an outbound Bundle carries ``contacting-subject-prohibited`` (Flag or label)."""
    wanted = {(canonical.cs("flag-code"), CONTACTING_SUBJECT_PROHIBITED)}
    for label in (bundle.get("meta") or {}).get("security") or ():
        if (label.get("system"), label.get("code")) in wanted:
            return True
    for entry in bundle.get("entry") or ():
        res = entry.get("resource") or {}
        if res.get("resourceType") == "Flag" and res.get("status") == "active":
            for c in (res.get("code") or {}).get("coding") or ():
                if (c.get("system"), c.get("code")) in wanted:
                    return True
    return False


def security_label(code: str) -> dict[str, str]:
    """The ``meta.security`` coding of a safety flag carried as a label."""
    return {"system": canonical.cs("flag-code"), "code": code}


def apply_safety(
    bundle: dict[str, Any],
    plan: SafetyPlan,
    terminology: Terminology,
    stamp: str,
    labels: list[dict[str, str]],
    *,
    guardian_names: set[str] | None = None,
    guardian_phones: set[str] | None = None,
) -> None:
    """Carry the flags on an outbound Bundle (in place): Flags, labels, guardian contacts.

    ``labels`` is the ``meta.security`` list given to a Flag added here;
    ``guardian_names``/``guardian_phones`` are the restricted guardian's, from the
    case record (the guardian may also be the emergency contact, with another role).
    """
    if plan.guardian_restricted and strip_guardian_contacts(
        bundle, guardian_names, guardian_phones
    ):
        _mark_redacted(bundle)
    entries = bundle.setdefault("entry", [])
    patient = next(
        (e["fullUrl"] for e in entries if e["resource"].get("resourceType") == "Patient"), None
    )
    for code in plan.as_flag:
        flag = safety_flag(code, patient, terminology, stamp)
        flag["meta"] = {"security": [dict(s) for s in labels]}
        entries.append({"fullUrl": _UUID + flag["id"], "resource": flag})
    if CONTACTING_SUBJECT_PROHIBITED in (*plan.as_flag, *plan.as_label):
        # SDOH-CC marks the request itself: the ServiceRequest's orderDetail
        for e in entries:
            res = e["resource"]
            if res.get("resourceType") == "ServiceRequest":
                res.setdefault("orderDetail", []).append(
                    {"coding": [{"system": SDOHCC_CODES, "code": CONTACTING_SUBJECT_PROHIBITED}]}
                )
    if plan.as_label:
        carriers = [bundle, *(e["resource"] for e in entries)]
        for holder in carriers:
            security = holder.setdefault("meta", {}).setdefault("security", [])
            for code in plan.as_label:
                security.append(security_label(code))
