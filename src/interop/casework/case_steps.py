"""个案步骤 — a step of a case recorded by a signed-in person, and warnings signed off.

The one entry of the CLI (``interop case``), the console's case pages and the JSON API:
who may (the policy table and the case scope), what the step takes
(:mod:`~interop.casework.step_input`), the state machine and the rules
(:class:`~interop.casework.stepper.Stepper`), the new version, the warnings left open
and an AuditEvent naming the person — all in one transaction.

A warning-level rule issue does not stop a step; it stays open on the case until a
supervisor (督导人员) who did not record the step signs it off with a reason (four
eyes, as for disclosures, G-16).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from interop._errors import InputError, SignOffRefused
from interop.casework.acting import Acting, may_work_on
from interop.casework.step_input import prepare, spec
from interop.casework.steps import Outcome, record_step
from interop.core.people import Staff
from interop.core.workdays import CHINA_TZ
from interop.fhir import canonical
from interop.privacy import audit
from interop.staff.register import Register, SignedIn
from interop.store.archive import Archive
from interop.store.case_warnings import CaseWarnings
from interop.store.casework import CaseWork

if TYPE_CHECKING:
    from interop.store.connect import Connection

__all__ = ["record", "signoff", "warnings_of"]

#: The stepper's action (and the step log's) of a step name.
_ACTION = {"intake": "assign", "crisis-update": "crisis"}
STAFF_SYSTEM = canonical.BASE + "/NamingSystem/staff-id"
MSG_NEED_REASON = "a sign-off needs a reason"
MSG_NOT_OPEN = "case {case}: no open warning {ids}"
MSG_NONE_OPEN = "case {case} has no open warning to sign off"
MSG_OWN = "{who} recorded the step of warning {ids}: another supervisor signs it off (four eyes)"


def record(
    archive: Archive,
    case_number: str,
    step: str,
    data: dict[str, Any],
    person: SignedIn,
    *,
    now: dt.datetime,
    source: str = "input",
    staff: list[Staff] | None = None,
) -> tuple[Outcome, list[dict[str, Any]]]:
    """Record ``step`` on a case for ``person``: the outcome and the warnings left open."""
    s = spec(step)
    today = now.astimezone(CHINA_TZ).date()
    found = CaseWork(archive).latest(case_number)
    unassigned = (
        step == "intake"
        and found is not None
        and found[1].get("case", {}).get("state") == "listed"
        and not found[1].get("case", {}).get("care_manager")
    )
    may_work_on(archive, person, s.action, case_number, unassigned=unassigned)
    apply = prepare(
        step, data, Acting(person, Register(archive, today=today)), source=source, staff=staff
    )
    action = _ACTION.get(step, step)

    def audited(conn: Connection, version: int, stamp: str) -> None:
        event = _event(f"case-{step}", person, stamp, case_number, version)
        audit.append(
            conn,
            recorded=stamp,
            action=f"case-{step}"[:32],
            event=event,
            case_number=case_number,
            actor=person.staff_id,
        )

    outcome = record_step(
        archive, case_number, action, apply, today=today, author=person.staff_id, also=audited
    )
    left = [w for w in warnings_of(archive, case_number) if w["version"] == outcome.version]
    return outcome, left


def warnings_of(archive: Archive, case_number: str) -> list[dict[str, Any]]:
    """Every warning of a case, open and signed off, oldest first."""
    return CaseWarnings(archive).of_case(case_number)


def signoff(
    archive: Archive,
    case_number: str,
    ids: Sequence[int],
    person: SignedIn,
    reason: str,
) -> list[dict[str, Any]]:
    """A supervisor signs off open warnings of a case (all open ones when ``ids`` is empty)."""
    may_work_on(archive, person, "case.signoff", case_number, unassigned=False)
    if not reason.strip():
        raise InputError(MSG_NEED_REASON, code="E263")
    wanted = sorted(set(ids))

    def check(rows: list[dict[str, Any]]) -> None:
        missing = sorted(set(wanted) - {r["id"] for r in rows})
        if missing:
            raise InputError(
                MSG_NOT_OPEN.format(case=case_number, ids=", ".join(map(str, missing))),
                code="E262",
            )
        if not rows:
            raise InputError(MSG_NONE_OPEN.format(case=case_number), code="E262")
        own = [str(r["id"]) for r in rows if r["author"] == person.staff_id]
        if own:
            raise SignOffRefused(MSG_OWN.format(who=person.staff_id, ids=", ".join(own)))

    def audited(conn: Connection, rows: list[dict[str, Any]], stamp: str) -> None:
        event = _event("case-signoff", person, stamp, case_number, rows[0]["version"])
        event["entity"] += [
            {"what": {"display": f"warning {r['id']} {r['rule']}"}, "description": r["reason"]}
            for r in rows
        ]
        audit.append(
            conn,
            recorded=stamp,
            action="case-signoff",
            event=event,
            case_number=case_number,
            actor=person.staff_id,
        )

    return CaseWarnings(archive).sign(
        case_number, wanted, person.staff_id, reason.strip(), check, audited
    )


def _event(
    action: str, person: SignedIn, recorded: str, case_number: str, version: int
) -> dict[str, Any]:
    """The AuditEvent of a case step: who (staff id and roles), which case version."""
    return {
        "resourceType": "AuditEvent",
        "type": {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110110",
            "display": "Patient Record",
        },
        "subtype": [{"system": canonical.cs("case-step"), "code": action}],
        "action": "U",
        "recorded": recorded,
        "outcome": "0",
        "agent": [
            {
                "who": {"identifier": {"system": STAFF_SYSTEM, "value": person.staff_id}},
                "role": [
                    {"coding": [{"system": canonical.cs("staff-role"), "code": r}]}
                    for r in sorted(person.roles)
                ],
                "requestor": True,
            }
        ],
        "source": {"observer": {"display": "interop"}},
        "entity": [{"what": {"display": f"case {case_number} version {version}"}}],
    }
