"""The supervisor's review of a disclosure: approve, reject, and the post-hoc review of a
break-glass one (9.3 督导人员审核, G-16 four-eyes, 4.7)."""

from __future__ import annotations

import orjson

from interop._errors import InputError
from interop.core.record import CaseRecord
from interop.privacy.consent import check_consent
from interop.privacy.disclosure_base import audit_row
from interop.privacy.disclosure_model import APPROVER_ROLES, Disclosure, DisclosureError, iso
from interop.privacy.disclosure_records import DisclosureRecords
from interop.store import disclosures as stored


class DisclosureReviews(DisclosureRecords):
    """Decisions on stored disclosures."""

    def _decider(self, d: Disclosure, approver: str, action: str) -> CaseRecord:
        _, record = self.latest_record(d.case_number)
        role = self._approver_role(record, approver)
        problem = None
        if role not in APPROVER_ROLES:
            problem = (
                f"{approver} may not {action} disclosures of this case: only a supervisor "
                "or org-lead of the case reviews outbound content (9.3)"
            )
        elif approver == d.requester:
            problem = f"{approver} requested this disclosure and may not {action} it (G-16)"
        if problem is not None:
            self._audit_only(d, "approval-refused", approver, role, problem)
            raise DisclosureError(problem, code="E605")
        return record

    def _decide(
        self,
        d: Disclosure,
        *,
        status: str,
        action: str,
        approver: str,
        role: str | None,
        reason: str | None,
        review_outcome: str | None = None,
    ) -> None:
        stamp = iso(self.now())
        event = self._step_event(
            d,
            action,
            stamp,
            actor=approver,
            role=role,
            text=reason,
            elements=list(d.elements) if action == "approval" else None,
        )
        with self.archive.transaction() as conn:
            if review_outcome is not None:
                done = stored.complete_review(
                    conn, d.id, outcome=review_outcome, reviewer=approver, stamp=stamp
                )
            else:
                done = stored.decide(
                    conn,
                    d.id,
                    status=status,
                    approver=approver,
                    stamp=stamp,
                    reason=reason,
                    reasons=orjson.dumps(d.reasons).decode(),
                )
            if not done:
                raise DisclosureError(
                    f"disclosure {d.id} was decided by someone else meanwhile", code="E606"
                )
            audit_row(conn, d, stamp=stamp, action=action, event=event, actor=approver)

    def _review_break_glass(
        self, d: Disclosure, approver: str, outcome: str, reason: str
    ) -> Disclosure:
        """The supervisor's after-the-fact review of a break-glass disclosure (4.7)."""
        if d.review_outcome is not None:
            raise DisclosureError(
                f"break-glass disclosure {d.id} was already reviewed ({d.review_outcome})",
                code="E607",
            )
        record = self._decider(d, approver, "review")
        self._decide(
            d,
            status=d.status,
            action="break-glass-review",
            approver=approver,
            role=self._approver_role(record, approver),
            reason=reason,
            review_outcome=outcome,
        )
        return self.get(d.id)

    def approve(self, disclosure_id: str, *, approver: str) -> Disclosure:
        """Approve a pending disclosure (or review a break-glass one as justified)."""
        d = self.get(disclosure_id)
        if d.break_glass:
            return self._review_break_glass(d, approver, "justified", "justified")
        if d.status != "pending":
            raise DisclosureError(
                f"disclosure {d.id} is {d.status}, not pending: nothing to approve", code="E607"
            )
        record = self._decider(d, approver, "approve")
        role = self._approver_role(record, approver)
        policy = self.policies.find(d.purpose, d.partner_kind)
        topic = policy.consent_topic if policy is not None else None
        if policy is None or topic is not None:
            check = (
                check_consent(record, topic, self.now().date(), child_assent=policy.child_assent)
                if policy is not None and topic is not None
                else None
            )
            if check is None or not check.ok:
                why = check.reason if check is not None else "its purpose policy is gone"
                d = d.with_reason(f"refused at approval: {why}")
                self._decide(
                    d, status="refused", action="refusal", approver=approver, role=role, reason=why
                )
                return self.get(disclosure_id)
        d = d.with_reason(f"approved by {approver} (9.3)")
        self._decide(
            d, status="approved", action="approval", approver=approver, role=role, reason=None
        )
        return self.get(disclosure_id)

    def reject(self, disclosure_id: str, *, approver: str, reason: str) -> Disclosure:
        """Reject a pending disclosure (or review a break-glass one as not justified)."""
        if not reason or not reason.strip():
            raise InputError("a rejection needs a reason", code="E608")
        d = self.get(disclosure_id)
        if d.break_glass:
            return self._review_break_glass(
                d, approver, "not-justified", "not-justified: incident record needed"
            )
        if d.status != "pending":
            raise DisclosureError(
                f"disclosure {d.id} is {d.status}, not pending: nothing to reject", code="E607"
            )
        record = self._decider(d, approver, "reject")
        d = d.with_reason(f"rejected by {approver}")
        self._decide(
            d,
            status="rejected",
            action="rejection",
            approver=approver,
            role=self._approver_role(record, approver),
            reason=reason,
        )
        return self.get(disclosure_id)
