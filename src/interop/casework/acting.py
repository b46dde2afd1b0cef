"""经办人 — the person a case step is recorded by, and the other people it names.

The person acting is the one signed in (console session, API token, ``INTEROP_TOKEN``),
never a typed staff id. Another person a step names — the new care manager of a
transfer, the second worker of a home visit, the supervisor of a mid-term evaluation
given by someone else — is a register id, checked against the staff register: the
person exists, is active today and holds a role fit for what the step says of them
(E260). Which cases a person may work on is :func:`may_work_on`.
"""

from __future__ import annotations

from dataclasses import dataclass

from interop._errors import AccessDenied, StaffNotEligible
from interop.core.people import Staff
from interop.staff.policy import case_scope, require
from interop.staff.register import Register, SignedIn
from interop.store.archive import Archive

__all__ = ["CARE_ROLES", "SERVICE_ROLES", "Acting", "may_work_on"]

#: Who delivers the service (服务人员, 5.2.2): may carry a case or go on a session.
SERVICE_ROLES = frozenset({"worker", "counsellor"})
#: Who may be named on a session (服务人员 and 督导人员).
CARE_ROLES = frozenset({"worker", "counsellor", "supervisor"})

#: Register qualification codes (5.2) → the case record's (cs:qualification); experience
#: records (child-experience, supervision-experience) are not certificates and stay out.
RECORD_QUALIFICATION = {
    "sw-assistant": "sw-assistant",
    "sw-mid": "sw",
    "sw-senior": "sw-senior",
    "counselling-cert": "psych-counsellor",
    "other-cert": "other-cert",
    "degree-sw": "degree-social-work",
    "degree-psych": "degree-psychology",
    "degree-related": "degree-related",
}

MSG_NOT_ELIGIBLE = "{what}: staff id {staff_id} {why} (needs an active {roles} of the register)"
MSG_NOT_ON_CASE = "{who} is not staff of case {case} and may not work on it"


@dataclass(frozen=True, slots=True)
class Acting:
    """The signed-in person recording a step, and the register to check others against."""

    person: SignedIn
    register: Register

    @property
    def staff_id(self) -> str:
        return self.person.staff_id

    def holds(self, roles: frozenset[str]) -> bool:
        return bool(self.person.roles & roles)

    def other(self, staff_id: str, roles: frozenset[str], what: str) -> str:
        """``staff_id`` when an active person of the register holds one of ``roles``."""
        why = None
        entry = self.register.store.get(staff_id)
        if entry is None:
            why = "is not in the register"
        elif not self.register.is_active(entry):
            why = "is not active"
        elif not set(entry["roles"]) & roles:
            why = "does not hold the role"
        if why is not None:
            raise StaffNotEligible(
                MSG_NOT_ELIGIBLE.format(
                    what=what,
                    staff_id=staff_id,
                    why=why,
                    roles=" or ".join(sorted(roles)),
                )
            )
        return staff_id

    def staff_entry(self, staff_id: str, role: str) -> Staff:
        """The case record's staff entry of a register person (id, name, qualifications)."""
        entry = self.register.get(staff_id)
        held = [q for q in entry["qualifications"] if q["kind"] in RECORD_QUALIFICATION]
        kinds = sorted({RECORD_QUALIFICATION[q["kind"]] for q in held})
        reviewed = max((q["date"] for q in held), default=None)
        return Staff(
            id=staff_id,
            name=entry["name"],
            role=role,
            qualifications=kinds,
            qualification_reviewed=reviewed,
        )


def may_work_on(
    archive: Archive, person: SignedIn, action: str, case_number: str, *, unassigned: bool
) -> None:
    """Refuse unless ``person`` may take policy ``action`` on the case: overseers on every
    case, a worker or counsellor on the cases they are staff of, and on an ``unassigned``
    listed child (接案: nobody's case yet, the worker who takes it carries it)."""
    require(person, action)
    if case_scope(person) or unassigned:
        return
    if case_number not in Register(archive).cases_of(person.staff_id):
        raise AccessDenied(
            MSG_NOT_ON_CASE.format(who=person.staff_id, case=case_number), code="E822"
        )
