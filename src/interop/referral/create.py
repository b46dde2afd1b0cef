"""Creating a referral (发起转介) as a signed-in person: the one implementation behind
``interop referral create`` and the console's 转介 form.

The person's roles (``referral.create``, deny by default) and their case scope are checked
first; then the purpose engine decides (:meth:`Requests.create`): a routine referral waits
for the guardian's consent and a supervisor's review, a crisis one (RT-01 or an active
crisis) is break-glass and, with ``send``, leaves at once — its supervisor's review follows
after the fact (4.3, 7.6.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interop._errors import AccessDenied
from interop.referral.records import Referral
from interop.staff.identity import MSG_NOT_ON_CASE, may_see_case
from interop.staff.policy import require
from interop.staff.register import SignedIn

if TYPE_CHECKING:
    from interop.referral.lifecycle import Referrals

__all__ = ["CRISIS_TYPES", "create_as"]

#: Crisis types (cs:crisis-type) a break-glass referral may give as its reason code.
CRISIS_TYPES = ("life-self", "life-others", "environment-threat", "other-severe")


def create_as(
    refs: Referrals,
    person: SignedIn,
    case_number: str,
    *,
    partner: str,
    trigger: str,
    reason: str,
    mode: str = "concurrent",
    crisis_type: str | None = None,
    send: bool = True,
) -> Referral:
    """Refer ``case_number`` to the hospital ``partner`` as ``person``; with ``send`` an
    approved (break-glass) referral is delivered now through the outbox."""
    require(person, "referral.create")
    if not may_see_case(refs.discloser.archive, person, case_number):
        raise AccessDenied(
            MSG_NOT_ON_CASE.format(who=person.staff_id, case=case_number), code="E822"
        )
    ref = refs.create(
        case_number,
        partner=partner,
        trigger=trigger,
        reason=reason,
        requester=person.staff_id,
        mode=mode,
        crisis_type=crisis_type,
    )
    if send and ref.state == "info-prepared":
        refs.deliver(ref.id)
        ref = refs.get(ref.id)
    return ref
