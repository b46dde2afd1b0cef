"""A signed-in reviewer's decision on a disclosure (审批, 9.3; G-16 four-eyes).

The one place the CLI (``interop approve``/``reject``) and the console take a decision:
the policy table is asked first (supervisor or org-lead in the staff register), then the
Discloser checks the rest (not the requester, still pending, consent still given) and writes
the AuditEvent naming the signed-in person.
"""

from __future__ import annotations

from typing import Any

from interop.privacy.disclosure import Discloser, Disclosure
from interop.staff.policy import require
from interop.staff.register import SignedIn

__all__ = ["approve", "reject"]


def approve(
    discloser: Discloser, person: SignedIn, disclosure_id: str, *, send: bool = True
) -> tuple[Disclosure, dict[str, Any] | None]:
    """Approve (or, for break-glass, review as justified); then send it unless ``send`` is
    False or its partner's plugin takes it another way. Returns the disclosure and receipt."""
    require(person, "disclosure.approve")
    d = discloser.approve(disclosure_id, approver=person.staff_id)
    receipt = None
    if (
        send
        and d.may_leave
        and not d.break_glass
        and not d.delivered_at
        and discloser.takes_delivery(d.partner)
    ):
        receipt = discloser.deliver(d)
    return d, receipt


def reject(discloser: Discloser, person: SignedIn, disclosure_id: str, reason: str) -> Disclosure:
    """Reject (or, for break-glass, review as not justified) with a reason."""
    require(person, "disclosure.reject")
    return discloser.reject(disclosure_id, approver=person.staff_id, reason=reason)
