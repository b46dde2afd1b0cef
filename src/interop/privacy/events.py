"""AuditEvent (FHIR R4) of a disclosure step: who, to whom, why, what, and the payload hash.

One event per step (requirements §4.8): ``request`` (approved at once),
``pending``, ``refusal``, ``approval``, ``rejection``, ``break-glass``,
``break-glass-review``, ``preview``, ``delivery``, ``delivery-failed``,
``approval-refused``. Agents are staff ids, never names; the partner is its
configured name; entities are the outbound resource ids plus the payload
(SHA-256) with one detail per element path disclosed.
"""

from __future__ import annotations

from typing import Any

from interop.fhir import canonical

__all__ = ["ACTIONS", "audit_event"]

EVENT_SYSTEM = canonical.cs("disclosure-event")
STAFF_SYSTEM = canonical.BASE + "/NamingSystem/staff-id"
DISCLOSURE_SYSTEM = canonical.BASE + "/NamingSystem/disclosure"
ACTIONS = frozenset(
    {
        "request",
        "pending",
        "refusal",
        "approval",
        "approval-refused",
        "rejection",
        "break-glass",
        "break-glass-review",
        "preview",
        "delivery",
        "delivery-failed",
    }
)
_OUTCOME = {"refusal": "4", "approval-refused": "4", "delivery-failed": "8"}
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"


def audit_event(
    action: str,
    *,
    recorded: str,
    purpose: str,
    purpose_of_use: tuple[str, str] | None,
    partner: str,
    actor: str | None,
    actor_role: str | None = None,
    disclosure_id: str | None = None,
    sha256: str | None = None,
    elements: list[str] | None = None,
    entities: list[tuple[str, str]] | None = None,
    outcome_text: str | None = None,
    reason_code: str | None = None,
    redactions: dict[str, int] | None = None,
) -> dict[str, Any]:
    """An AuditEvent resource (plain JSON) for one disclosure step.

    ``redactions``: spans the PII guard replaced in free text, per kind
    (``resident-id``, ``phone`` …); each is a ``redacted-<kind>`` detail.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    purpose_codings = [{"system": canonical.cs("purpose"), "code": purpose}]
    if purpose_of_use is not None:
        purpose_codings.append({"system": purpose_of_use[0], "code": purpose_of_use[1]})
    agents: list[dict[str, Any]] = []
    if actor:
        agent: dict[str, Any] = {
            "who": {"identifier": {"system": STAFF_SYSTEM, "value": actor}},
            "requestor": True,
        }
        if actor_role:
            agent["role"] = [
                {"coding": [{"system": canonical.cs("staff-role"), "code": actor_role}]}
            ]
        agents.append(agent)
    agents.append(
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                        "code": "IRCP",
                        "display": "information recipient",
                    }
                ]
            },
            "who": {"display": partner},
            "requestor": False,
        }
    )
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110106",
            "display": "Export",
        },
        "subtype": [{"system": EVENT_SYSTEM, "code": action}],
        "action": "E",
        "recorded": recorded,
        "outcome": _OUTCOME.get(action, "0"),
        "purposeOfEvent": [{"coding": purpose_codings}],
        "agent": agents,
        "source": {"observer": {"display": "interop"}},
    }
    if outcome_text:
        event["outcomeDesc"] = outcome_text
    entity: list[dict[str, Any]] = []
    if disclosure_id:
        details: list[dict[str, Any]] = []
        if sha256:
            details.append({"type": "sha256", "valueString": sha256})
        if reason_code:
            details.append({"type": "break-glass-reason", "valueString": reason_code})
        details.extend({"type": "element", "valueString": p} for p in elements or ())
        details.extend(
            {"type": f"redacted-{kind}", "valueString": str(n)}
            for kind, n in sorted((redactions or {}).items())
        )
        payload: dict[str, Any] = {
            "what": {"identifier": {"system": DISCLOSURE_SYSTEM, "value": disclosure_id}},
            "type": {"system": _ENTITY_TYPE, "code": "2", "display": "System Object"},
        }
        if details:
            payload["detail"] = details
        entity.append(payload)
    for rtype, rid in entities or ():
        entity.append(
            {
                "what": {"reference": f"{rtype}/{rid}"},
                "type": {"system": _ENTITY_TYPE, "code": "2", "display": "System Object"},
            }
        )
    if entity:
        event["entity"] = entity
    return event
