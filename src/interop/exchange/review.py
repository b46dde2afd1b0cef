"""A signed-in reviewer's decision on a disclosure (审批, 9.3; G-16 four-eyes).

The one place the CLI (``interop approve``/``reject``) and the console take a decision:
the policy table is asked first (supervisor or org-lead in the staff register), then
privacy checks the rest (not the requester, still pending, consent still given) and
writes the AuditEvent naming the signed-in person; an approved disclosure is then
handed over by the driver (the outbox first, then the partner's transport).
"""

from __future__ import annotations

from interop.exchange.driver import Driver, Handover
from interop.privacy.disclosure import Discloser, Disclosure
from interop.staff.policy import require
from interop.staff.register import SignedIn

__all__ = ["approve", "reject"]


def approve(
    driver: Driver, person: SignedIn, disclosure_id: str, *, send: bool = True
) -> tuple[Disclosure, Handover | None]:
    """Approve (or, for break-glass, review as justified) as ``person``; then the driver
    queues it and, with ``send``, attempts it at once."""
    require(person, "disclosure.approve")
    return driver.approve(disclosure_id, approver=person.staff_id, send=send)


def reject(discloser: Discloser, person: SignedIn, disclosure_id: str, reason: str) -> Disclosure:
    """Reject (or, for break-glass, review as not justified) with a reason."""
    require(person, "disclosure.reject")
    return discloser.reject(disclosure_id, approver=person.staff_id, reason=reason)
