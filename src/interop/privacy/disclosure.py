"""Disclosures (信息提供, 9.3): the one outbound path of case data.

::

    archive case record → FHIR mapping → purpose filter + labels → validation
        → consent / supervisor-review gate → audit        (privacy decides)
    → outbox → partner transport → delivery recorded       (exchange drives)

:class:`Discloser` is the programmatic API of the decision (exchange's
driver, ``interop reject`` and the hospital referral use it); privacy
imports neither exchange nor plugins:

- :meth:`Discloser.request` builds the partner's Bundle under the purpose
  policy of (purpose, partner kind) and decides: ``approved`` (may leave now:
  pre-approved profile, G-12, or break-glass), ``pending`` (waits for a
  supervisor, 9.3), or ``refused`` (no policy, no consent, invalid output,
  missing break-glass reason …). The payload bytes are stored with their
  SHA-256; what a supervisor approves is exactly what leaves.
- :meth:`Discloser.approve` / :meth:`Discloser.reject`: a supervisor or
  org-lead of the case, never the requester (four-eyes, G-16). For a
  break-glass disclosure they record the post-hoc review (justified /
  not-justified, requirements §4.7).
- :meth:`Discloser.record_delivery`: what the partner's transport did with an
  approved disclosure (exchange calls it; it writes the delivery's AuditEvent).

Every step writes an AuditEvent to the hash-chained log
(:mod:`interop.privacy.audit`) in the same transaction as its state.
"""

from __future__ import annotations

from typing import Any

import orjson

from interop.privacy.disclosure_base import audit_row
from interop.privacy.disclosure_model import (
    APPROVER_ROLES,
    DeliveryError,
    Disclosure,
    DisclosureError,
    iso,
)
from interop.privacy.disclosure_request import DisclosureRequests
from interop.privacy.disclosure_review import DisclosureReviews
from interop.store import disclosures as stored

__all__ = [
    "APPROVER_ROLES",
    "DeliveryError",
    "Discloser",
    "Disclosure",
    "DisclosureError",
]


class Discloser(DisclosureRequests, DisclosureReviews):
    """The disclosure workflow over an archive, an engine and the partners configuration."""

    # -- delivery (driven by exchange) ---------------------------------------

    def record_delivery(
        self, d: Disclosure, receipt: dict[str, Any] | None, problem: str | None
    ) -> None:
        """Record that ``d`` reached its partner (``receipt``) or did not (``problem``)."""
        if problem is None and not d.may_leave:
            raise DisclosureError(f"disclosure {d.id} is {d.status}: it may not leave", code="E609")
        stamp = iso(self.now())
        action = "delivery" if problem is None else "delivery-failed"
        event = self._step_event(d, action, stamp, actor=None, role=None, text=problem)
        with self.archive.transaction() as conn:
            stored.record_delivery(
                conn,
                d.id,
                delivery=orjson.dumps(receipt if problem is None else {"error": problem}).decode(),
                delivered_at=stamp if problem is None else None,
            )
            audit_row(conn, d, stamp=stamp, action=action, event=event, actor=None)
