"""Disclosures (信息提供, 9.3): the one outbound path of case data.

::

    archive case record → FHIR mapping → purpose filter + labels → validation
        → consent / supervisor-review gate → audit → delivery (partner plugin)

:class:`Discloser` is the programmatic API (the CLI ``interop share``,
``approve`` and ``reject`` and the hospital referral use it):

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
- :meth:`Discloser.deliver` hands the approved Disclosure — filtered, labelled,
  nothing else — to the partner kind's plugin.

Every step writes an AuditEvent to the hash-chained log
(:mod:`interop.privacy.audit`) in the same transaction as its state.
"""

from __future__ import annotations

from typing import Any

import orjson

from interop._errors import InteropError
from interop.config import Partner
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
from interop.store import schema as t

__all__ = [
    "APPROVER_ROLES",
    "DeliveryError",
    "Discloser",
    "Disclosure",
    "DisclosureError",
]


class Discloser(DisclosureRequests, DisclosureReviews):
    """The disclosure workflow over an archive, an engine and the partners configuration."""

    # -- delivery -----------------------------------------------------------

    def deliverer(self, partner: Partner) -> Any:
        """The plugin object that delivers to ``partner`` (its kind's factory)."""
        factory = self.plugins.partner_kinds().get(partner.kind)
        if factory is None:
            raise DeliveryError(
                f"partner {partner.name}: no plugin handles kind '{partner.kind}'", code="E621"
            )
        return factory(partner.name, dict(partner.settings))

    def takes_delivery(self, partner_name: str) -> bool:
        """Whether the partner's plugin delivers disclosures itself (``deliver``);
        otherwise it takes them through :func:`interop_after_approval` or its own queue."""
        target = self.deliverer(self.config.partner(partner_name))
        try:
            return callable(getattr(target, "deliver", None))
        finally:
            closer = getattr(target, "close", None)
            if callable(closer):
                closer()

    def deliver(self, d: Disclosure) -> dict[str, Any]:
        """Hand an approved disclosure to its partner's plugin; record the receipt."""
        if not d.may_leave:
            raise DisclosureError(f"disclosure {d.id} is {d.status}: it may not leave", code="E609")
        if d.delivered_at:
            raise DisclosureError(
                f"disclosure {d.id} was delivered at {d.delivered_at}", code="E610"
            )
        partner = self.config.partner(d.partner)
        target = self.deliverer(partner)
        deliver = getattr(target, "deliver", None)
        if not callable(deliver):
            raise DeliveryError(
                f"partner {partner.name}: the '{partner.kind}' plugin does not deliver disclosures",
                code="E621",
            )
        view = Disclosure(**{**d.__dict__, "bundle": orjson.loads(d.payload or b"{}")})
        try:
            receipt = deliver(view)
        except InteropError as exc:
            self._delivered(d, None, str(exc))
            raise DeliveryError(
                f"disclosure {d.id} to {d.partner} failed: {exc.message}", code="E622"
            ) from None
        finally:
            closer = getattr(target, "close", None)
            if callable(closer):
                closer()
        receipt = dict(receipt or {})
        self._delivered(d, receipt, None)
        return receipt

    def _delivered(
        self, d: Disclosure, receipt: dict[str, Any] | None, problem: str | None
    ) -> None:
        stamp = iso(self.now())
        action = "delivery" if problem is None else "delivery-failed"
        event = self._step_event(d, action, stamp, actor=None, role=None, text=problem)
        with self.archive.transaction() as conn:
            values: dict[str, Any] = {
                "delivery": orjson.dumps(
                    receipt if problem is None else {"error": problem}
                ).decode()
            }
            if problem is None:
                values["delivered_at"] = stamp
            conn.execute(t.disclosures.update().where(t.disclosures.c.id == d.id).values(**values))
            audit_row(conn, d, stamp=stamp, action=action, event=event, actor=None)
        if problem is None:
            d.delivered_at = stamp
