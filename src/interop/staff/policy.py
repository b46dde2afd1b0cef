"""Who may do what: the one policy table (action → roles), deny by default.

Every console route, API call and command that acts for a person asks :func:`require`
with an action of :data:`POLICY`; an action missing from the table is refused for
everyone. Which cases a person sees is :func:`case_scope`: a worker or counsellor only
the cases on which they are staff; roles that oversee the programme all of them.
"""

from __future__ import annotations

from interop._errors import AccessDenied
from interop.i18n import N_
from interop.staff.register import ROLES, SignedIn

__all__ = ["OVERSEERS", "POLICY", "allowed", "case_scope", "require"]

_CARE = frozenset({"worker", "counsellor", "supervisor", "org-lead"})
_LEADS = frozenset({"supervisor", "org-lead"})

#: action → the roles that may take it. Nothing else is allowed (deny by default).
POLICY: dict[str, frozenset[str]] = {
    # 待办: deadlines due (workers see their own cases only)
    "due.view": _CARE,
    # 审批: review, approve or reject a disclosure or break-glass (9.3 督导人员审核; G-16)
    "disclosure.review": _LEADS,
    "disclosure.approve": _LEADS,
    "disclosure.reject": _LEADS,
    "disclosure.request": _CARE,
    # 用途预览: what each partner and purpose would receive
    "preview.view": _CARE,
    # 转介
    "referral.view": _CARE,
    "referral.create": _CARE,
    "referral.cancel": _LEADS,
    # 个案: a case's summary and the steps of DB36/T 2143 (a worker or counsellor on the
    # cases they are staff of; the case scope below). 接案 (T-02) is taken by the worker
    # who will carry the case, or assigned to one by a supervisor or the organisation's
    # lead (interop.casework.step_input); the contractor's review seal (T-06) by a supervisor or the
    # organisation's lead; the mid-term evaluation (7.4.1) and signing off a step's
    # warnings by a supervisor (督导人员).
    "case.view": _CARE,
    "case.record": _CARE,
    "case.assign": _CARE,
    "case.review": _LEADS,
    "case.midterm": frozenset({"supervisor"}),
    "case.signoff": frozenset({"supervisor"}),
    # 知情同意 (7.2.3)
    "consent.change": _CARE,
    # 发件箱: queues and dead letters; retry, pause and resume
    "outbox.view": frozenset({"supervisor", "org-lead", "admin"}),
    "outbox.operate": frozenset({"org-lead", "admin"}),
    # 审计 (4.8): the commissioning body reads it too
    "audit.view": frozenset({"supervisor", "org-lead", "commissioner-viewer", "admin"}),
    # 名单同步: runs and quarantined rows (masked)
    "sync.view": frozenset({"supervisor", "org-lead", "admin"}),
    # 人员: the register and others' tokens
    "staff.view": frozenset({"org-lead", "admin"}),
    "staff.manage": frozenset({"admin"}),
    # one's own password and tokens
    "self.manage": frozenset(ROLES),
    # background jobs' state
    "jobs.view": frozenset({"org-lead", "admin"}),
}

#: Roles that see every case (a worker or counsellor sees only their own cases).
OVERSEERS = frozenset({"supervisor", "org-lead", "commissioner-viewer", "admin"})

MSG_DENIED = N_("{who} may not {action} (roles: {roles})")


def allowed(person: SignedIn | None, action: str) -> bool:
    if person is None:
        return False
    return bool(person.roles & POLICY.get(action, frozenset()))


def require(person: SignedIn, action: str) -> None:
    """Raise :class:`AccessDenied` unless ``person`` may take ``action``."""
    if not allowed(person, action):
        raise AccessDenied(
            MSG_DENIED.format(
                who=person.staff_id, action=action, roles=", ".join(sorted(person.roles)) or "none"
            ),
            code="E821",
        )


def case_scope(person: SignedIn) -> bool:
    """True when ``person`` sees every case; False: only the cases they are staff on."""
    return bool(person.roles & OVERSEERS)
