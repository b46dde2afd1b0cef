"""The delivery driver: exchange drives, privacy decides, plugins only carry (one road).

::

    share / approve ──▶ privacy: Discloser decides (filter, label, validate, gate, audit)
                              │ an approved, immutable filtered disclosure
                              ▼
                         outbox: written before any network call (kind "disclosure")
                              │ one attempt at a time, on the partner's RetryPolicy
                              ▼
                         the partner kind's Transport (plugin) ──▶ partner
                              │ delivered / dead-lettered
                              ▼
                         privacy: record_delivery (AuditEvent "delivery" / "delivery-failed")

Every partner kind registered with ``disclosures=True`` (school, civil
affairs, community) is carried this way. A kind that wraps a disclosure in
its own messages (the hospital referral's transaction Bundle) is told of an
approval through ``interop_after_approval`` and queues its own items; its
outbox items are delivered by the same :meth:`Driver.run`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from interop.exchange.outbox import Outbox, OutboxItem, RunSummary
from interop.exchange.plugins import Plugins
from interop.exchange.transport import Transport
from interop.i18n import N_, _
from interop.privacy.disclosure_model import DeliveryError, Disclosure, DisclosureError
from interop.store.deliveries import DISCLOSURE_KIND, unrecorded_disclosure_deliveries

if TYPE_CHECKING:
    from interop.privacy.disclosure import Discloser

__all__ = ["DISCLOSURE_KIND", "Driver", "Handover"]

log = logging.getLogger(__name__)

MSG_NO_PLUGIN = N_("partner {name}: no plugin handles kind '{kind}'")
MSG_FAILED = N_("disclosure {id} to {partner} failed: {problem}")
MSG_MAY_NOT_LEAVE = N_("disclosure {id} is {status}: it may not leave")
MSG_NO_BREAK_GLASS_REPLAY = N_(
    "a break-glass disclosure is not sent again later; share it again with its reason"
)
MSG_REPLAY_REFUSED = N_("the current purpose policy refuses it: {why}")
MSG_REPLAY_NARROWER = N_(
    "the current purpose policy no longer lets out everything that was approved; "
    "share it again for a fresh decision"
)
MSG_BY_PLUGIN = N_("delivery is left to the plugin of partner kind '{kind}'")
MSG_DELIVERED = N_("delivered to {partner}: {said}")
MSG_QUEUED = N_("queued for {partner} as outbox delivery {item}; interop outbox run sends it")
MSG_LAST_ATTEMPT = N_("last attempt: {problem}")

#: What became of an approved disclosure on its way out.
HandoverState = Literal["delivered", "queued", "dead", "by-plugin"]


@dataclass(frozen=True, slots=True)
class Handover:
    """An approved disclosure handed to exchange: its outbox item and what became of it.

    ``by-plugin``: the partner kind carries disclosures in its own messages
    (hospital referral); ``queued``: written to the outbox, not yet delivered
    (``interop outbox run`` retries it); ``delivered`` with the ``receipt``;
    ``dead``: dead-lettered with ``problem``.
    """

    state: HandoverState
    item: OutboxItem | None = None
    receipt: dict[str, Any] | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` keys: ``delivery`` (the state), ``outbox``, ``receipt``, ``problem``."""
        out: dict[str, Any] = {"delivery": self.state}
        if self.item is not None:
            out["outbox"] = self.item.id
        if self.receipt is not None:
            out["receipt"] = self.receipt
        if self.problem:
            out["problem"] = self.problem
        return out

    def lines(self, partner: str, kind: str) -> list[str]:
        """What became of the disclosure, in words for the operator."""
        if self.state == "by-plugin":
            return [_(MSG_BY_PLUGIN).format(kind=kind)]
        if self.state == "delivered" and self.receipt is not None:
            said = ", ".join(f"{k} {v}" for k, v in self.receipt.items() if k != "outbox")
            return [_(MSG_DELIVERED).format(partner=partner, said=said)]
        item = self.item.id if self.item is not None else "?"
        lines = [_(MSG_QUEUED).format(partner=partner, item=item)]
        return lines + ([_(MSG_LAST_ATTEMPT).format(problem=self.problem)] if self.problem else [])


class Driver:
    """Drives approved disclosures and queued deliveries to partners' transports."""

    def __init__(
        self,
        discloser: Discloser,
        *,
        outbox: Outbox | None = None,
        plugins: Plugins | None = None,
    ) -> None:
        self.discloser = discloser
        self.config = discloser.config
        self.outbox = outbox if outbox is not None else Outbox(discloser.archive)
        self._plugins = plugins
        self._transports: dict[str, Transport] = {}

    @property
    def plugins(self) -> Plugins:
        """The plugin manager's facade, built on first use (a preview needs none)."""
        if self._plugins is None:
            self._plugins = Plugins()
        return self._plugins

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the partners' transports ---------------------------------------------

    def transport(self, name: str) -> Transport:
        """The transport of partner ``name`` (built once per driver; DeliveryError E621)."""
        found = self._transports.get(name)
        if found is None:
            partner = self.config.partner(name)
            factory = self.plugins.partner_kinds().get(partner.kind)
            if factory is None:
                raise DeliveryError(MSG_NO_PLUGIN.format(name=name, kind=partner.kind), code="E621")
            found = factory(name, dict(partner.settings))
            self._transports[name] = found
        return found

    def carries(self, d: Disclosure) -> bool:
        """Whether ``d``'s partner kind takes disclosures as they are (through the outbox)."""
        return d.partner_kind in self.plugins.disclosure_kinds()

    # -- the road --------------------------------------------------------------

    def share(
        self,
        case_number: str,
        *,
        purpose: str,
        partner: str,
        requester: str,
        reason_code: str | None = None,
        reason_text: str | None = None,
        dry_run: bool = False,
        send: bool = True,
    ) -> tuple[Disclosure, Handover | None]:
        """Ask privacy for a disclosure; hand it over when it may leave now."""
        d = self.discloser.request(
            case_number,
            purpose=purpose,
            partner=partner,
            requester=requester,
            reason_code=reason_code,
            reason_text=reason_text,
            dry_run=dry_run,
        )
        if dry_run or not d.may_leave:
            return d, None
        return d, self.hand_over(d, send=send)

    def approve(
        self, disclosure_id: str, *, approver: str, send: bool = True
    ) -> tuple[Disclosure, Handover | None]:
        """A supervisor's approval (privacy decides); then the approved disclosure leaves."""
        d = self.discloser.approve(disclosure_id, approver=approver)
        if d.break_glass or not d.may_leave or d.delivered_at:
            return d, None  # a break-glass review, or a refusal at approval
        # The approval event: listeners (the referral engine queues the referral
        # waiting on it) see it before the disclosure is handed over.
        self.plugins.after_approval(d)
        return d, self.hand_over(d, send=send)

    def hand_over(self, d: Disclosure, *, send: bool = True) -> Handover:
        """Queue an approved disclosure in the outbox and, with ``send``, attempt it now.

        Raises DisclosureError (E609) when it may not leave, DeliveryError (E622) when the
        partner dead-letters it.
        """
        if not d.may_leave or d.payload is None:
            raise DisclosureError(MSG_MAY_NOT_LEAVE.format(id=d.id, status=d.status), code="E609")
        if not self.carries(d):
            return Handover("by-plugin")
        item = self.queue(d)
        if not send:
            return Handover("queued", item)
        self.run(ids=[item.id])
        item = self.outbox.get(item.id)
        if item.status == "delivered":
            return Handover("delivered", item, _receipt(item))
        if item.status == "dead":
            problem = MSG_FAILED.format(id=d.id, partner=d.partner, problem=item.last_error)
            raise DeliveryError(problem, code="E622")
        return Handover("queued", item, problem=item.last_error)

    def queue(self, d: Disclosure) -> OutboxItem:
        """Write ``d``'s exact bytes to the outbox (once: its key is the disclosure id)."""
        assert d.payload is not None
        transport = self.transport(d.partner)  # a misconfigured partner fails before queueing
        return self.outbox.enqueue(
            partner=d.partner,
            kind=DISCLOSURE_KIND,
            payload=d.payload,
            idempotency_key=f"{DISCLOSURE_KIND}:{d.id}",
            ref=d.id,
            max_attempts=transport.retry.max_attempts,
        )

    def replay(self, item_id: str) -> OutboxItem:
        """Queue a dead (or refused) delivery again, a disclosure under the CURRENT policy.

        Privacy previews the disclosure again (audited as a preview; nothing
        new is disclosed). When the purpose policy and consent still let out
        every element that was approved, the approved bytes go again; else the
        delivery is marked ``refused`` with the reason, and a new share gets a
        fresh decision. Items of other kinds are queued again as they are.
        """
        item = self.outbox.get(item_id)
        if item.kind != DISCLOSURE_KIND or not item.ref:
            return self.outbox.retry(item_id)
        approved = self.discloser.get(item.ref)
        problem = None
        if approved.break_glass:
            problem = MSG_NO_BREAK_GLASS_REPLAY
        else:
            now = self.discloser.request(
                approved.case_number,
                purpose=approved.purpose,
                partner=approved.partner,
                requester=approved.requester,
                dry_run=True,
            )
            if now.status in ("refused", "rejected"):
                problem = MSG_REPLAY_REFUSED.format(why="; ".join(now.reasons))
            elif not set(approved.elements) <= set(now.elements):
                problem = MSG_REPLAY_NARROWER
        if problem is not None:
            self.outbox.mark(item_id, "refused", problem)
            return self.outbox.get(item_id)
        return self.outbox.retry(item_id)

    def run(
        self,
        *,
        partner: str | None = None,
        ids: list[str] | None = None,
        wait: float = 0.0,
        batch: int = 1,
        worker: str | None = None,
    ) -> RunSummary:
        """Deliver what is due (every kind), then record disclosures' outcomes."""
        try:
            summary = self.outbox.run(
                self.transport, partner=partner, ids=ids, wait=wait, batch=batch, worker=worker
            )
        finally:
            self._transports.clear()  # the outbox closed them
        self.record(ids)
        return summary

    def record(self, item_ids: list[str] | None = None) -> int:
        """Write delivered / dead-lettered disclosure items back to their disclosures."""
        done = 0
        for u in unrecorded_disclosure_deliveries(self.discloser.archive, item_ids):
            if u.status == "dead":
                before = orjson.loads(u.recorded) if u.recorded else {}
                if isinstance(before, dict) and before.get("error") == u.last_error:
                    continue  # this failure is recorded already
            d = self.discloser.get(u.disclosure_id)
            if u.status == "delivered":
                self.discloser.record_delivery(d, _receipt(self.outbox.get(u.item_id)), None)
            else:
                self.discloser.record_delivery(d, None, u.last_error or "dead-lettered")
            done += 1
        return done


def _receipt(item: OutboxItem) -> dict[str, Any]:
    """What the partner answered, for the operator: HTTP status and where it lies now."""
    kept = item.receipt_json() or {}
    out: dict[str, Any] = {"outbox": item.id}
    for key in ("status", "location"):
        if kept.get(key) is not None:
            out[key] = kept[key]
    return out
