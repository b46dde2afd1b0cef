"""转介反馈入档 — a hospital's outcome of a referral becomes a version of the case record.

The referral loop fetches what a completed Task carries (``Task.output``: a
discharge summary, a DocumentReference …) and keeps it with the referral
(:mod:`interop.referral.outcomes`). Here each kept outcome not yet in its case
record is added to it as a new version (9.2; nothing overwritten, 9.4.3) through
the case steps' one path (:func:`~interop.casework.steps.record_step`, action
``referral-outcome``), and in the same transaction the outcome notes the version
that holds it and an AuditEvent names the hospital it came from. An outcome is
filed once: a second poll, or a second process filing at the same time, adds no
version. ``referral poll`` and the console's poll job file what they fetched, and
what an earlier run left (a case changed meanwhile, an archive from before).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from interop._errors import InteropError
from interop.casework.stepper import Step, Stepper
from interop.casework.steps import record_step
from interop.core.referraloutcome import ReferralOutcome
from interop.core.workdays import WorkCalendar
from interop.fhir import canonical
from interop.fhir.terminology import Terminology
from interop.privacy import audit
from interop.store import referrals as store
from interop.store.archive import Archive
from interop.store.referrals import ReferralRows

if TYPE_CHECKING:
    from interop.store.casework import Also
    from interop.store.connect import Connection

__all__ = ["ACTION", "Filed", "file_outcomes", "outcome_audit_event"]

log = logging.getLogger(__name__)

#: The step (case_steps.action) and the audit action of an outcome taken into the record.
ACTION = "referral-outcome"
_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_REFERRAL_SYSTEM = canonical.BASE + "/NamingSystem/referral"


@dataclass(frozen=True, slots=True)
class Filed:
    """One outcome and what became of it (``version``: the case version holding it)."""

    case: str
    referral: str
    reference: str
    version: int | None
    reason: str | None = None  # why it was not filed this time (it is tried again)

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "referral": self.referral, "reference": self.reference,
                "version": self.version, "reason": self.reason}  # fmt: skip


class _AlreadyFiled(Exception):
    """Another process filed the outcome first: this version must not be written."""


def _title(resource: Any) -> str | None:
    """A DocumentReference's description or type, an Encounter's type … (no free text
    beyond what names the document)."""
    if not isinstance(resource, dict):
        return None
    if isinstance(resource.get("description"), str) and resource["description"]:
        return str(resource["description"])[:200]
    for key in ("type", "category"):
        value = resource.get(key)
        concept = value[0] if isinstance(value, list) and value else value
        if isinstance(concept, dict):
            if concept.get("text"):
                return str(concept["text"])[:200]
            for c in concept.get("coding") or []:
                if c.get("display") or c.get("code"):
                    return str(c.get("display") or c.get("code"))[:200]
    return None


def _outcome(row: dict[str, Any]) -> ReferralOutcome:
    try:
        body = orjson.loads(row["body"])
    except orjson.JSONDecodeError:
        body = None
    return ReferralOutcome(
        referral=row["referral_id"],
        source=row["partner"],
        resource_type=row["resource_type"],
        reference=row["reference"],
        resource_version=row["version"],
        received_at=row["fetched_at"],
        sha256=row["sha256"],
        title=_title(body),
        discharged=row["finished_at"],
    )


def outcome_audit_event(o: ReferralOutcome, case_number: str, recorded: str) -> dict[str, Any]:
    """An AuditEvent (FHIR R4 JSON): the hospital's outcome imported into a case record.

    The source is the hospital (by its configured name); the entities are the case,
    the referral and the resource at the hospital with its SHA-256 — ids only.
    """
    resource: dict[str, Any] = {
        "what": {"display": o.reference},
        "type": {"system": "http://hl7.org/fhir/resource-types", "code": o.resource_type},
        "detail": [{"type": "sha256", "valueString": o.sha256}],
    }
    if o.resource_version:
        resource["detail"].append({"type": "version", "valueString": o.resource_version})
    return {
        "resourceType": "AuditEvent",
        "type": {"system": _DCM, "code": "110107", "display": "Import"},
        "action": "C",
        "recorded": recorded,
        "outcome": "0",
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "INF",
                            "display": "informant",
                        }
                    ]
                },
                "who": {"display": o.source},
                "requestor": False,
            }
        ],
        "source": {"observer": {"display": "interop"}},
        "entity": [
            {
                "what": {
                    "identifier": {"system": canonical.case_number_system(), "value": case_number}
                }
            },
            {"what": {"identifier": {"system": _REFERRAL_SYSTEM, "value": o.referral}}},
            resource,
        ],
    }


def _also(outcome_id: int, o: ReferralOutcome, case: str) -> Also:
    def write(conn: Connection, version: int, stamp: str) -> None:
        if not store.filed(conn, outcome_id, version):
            raise _AlreadyFiled
        audit.append(conn, recorded=stamp, action=ACTION, case_number=case, partner=o.source,
                     event=outcome_audit_event(o, case, stamp))  # fmt: skip

    return write


def _add(o: ReferralOutcome) -> Callable[[Stepper], Step]:
    return lambda s: s.referral_outcome(o)


def file_outcomes(
    archive: Archive,
    *,
    calendar: WorkCalendar | None = None,
    terminology: Terminology | None = None,
) -> list[Filed]:
    """Add every kept outcome not yet in its case record, each as a new version."""
    rows = ReferralRows(archive).unfiled_outcomes()
    if not rows:
        return []
    cal = calendar or WorkCalendar.load()
    terms = terminology or Terminology.load()
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_case[row["case_number"]].append(row)
    done: list[Filed] = []
    for case, found in by_case.items():
        for row in found:
            o = _outcome(row)
            try:
                also = _also(row["id"], o, case)
                step = record_step(archive, case, ACTION, _add(o), calendar=cal,
                                   terminology=terms, also=also)  # fmt: skip
            except _AlreadyFiled:
                continue
            except InteropError as exc:
                # Left unfiled: the next poll tries again (a step recorded meanwhile, E256).
                log.warning("outcome of referral %s not added to case %s: %s",
                            o.referral, case, exc.message)  # fmt: skip
                done.append(Filed(case, o.referral, o.reference, None, exc.message))
                continue
            log.info("outcome of referral %s added to case %s as version %d",
                     o.referral, case, step.version)  # fmt: skip
            done.append(Filed(case, o.referral, o.reference, step.version))
    return done
