"""Referral requests (转介申请): create, queue once approved, cancel, retry.

::

    create ──purpose engine──▶ pending (supervisor review, 9.3, G-16) ──approve──┐
      │  (hosp-referral policy + consent; crisis: break-glass, at once)          │
      └────────────────────── approved ◀─────────────────────────────────────────┘
                                  │ transaction Bundle from the FILTERED Bundle
                                  ▼
                        outbox (durable; crisis rows first) ──▶ hospital

Approval reaches a waiting referral as an event: :class:`ApprovalListener`
is registered with the plugin manager of the discloser that approves (the
hospital plugin only carries bytes and never opens the archive);
``interop referral poll`` and ``interop outbox run`` also sweep decided
reviews, so nothing waits on the event alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from interop._errors import InputError
from interop.core.workdays import CHINA_TZ
from interop.exchange.hookspecs import hookimpl
from interop.exchange.outbox import CRISIS_PRIORITY, OutboxItem, crash_point
from interop.referral import states
from interop.referral.bundle import TRIGGER_SYSTEM, ReferralSpec, build_transaction
from interop.referral.delivery import Delivery
from interop.referral.records import MODES, TRIGGERS, Referral, ReferralError
from interop.store import referrals as store
from interop.store.archive import now_iso

if TYPE_CHECKING:
    from interop.privacy.disclosure import Disclosure

log = logging.getLogger(__name__)

MSG_UNCERTAIN = (
    "referral {ref} may already be at the hospital (its delivery is uncertain); run "
    "`interop outbox run` to reconcile it, then cancel it"
)
MSG_NOTHING_TO_RETRY = (
    "referral {ref} has no dead or refused delivery to send again (its deliveries: {found})"
)


def _fhir_time(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Requests(Delivery):
    """Create, queue, cancel and retry referrals."""

    def crisis_active(self, case_number: str) -> str | None:
        """The type of an active crisis of the case (7.6.1), or None."""
        versions = self.archive.case_versions(case_number)
        if not versions:
            raise InputError(f"no case {case_number} in the archive", code="E703")
        for crisis in versions[-1]["body"].get("crises") or []:
            if crisis.get("status") == "active":
                return str(crisis.get("type") or "other-severe")
        return None

    def create(
        self,
        case_number: str,
        *,
        partner: str,
        trigger: str,
        reason: str,
        requester: str,
        mode: str = "concurrent",
        crisis_type: str | None = None,
    ) -> Referral:
        """Request the disclosure and record the referral; queue it when approved.

        A crisis referral (RT-01, or an active crisis on the case) goes out under
        break-glass at once (4.3, 7.6.1) and is reviewed afterwards; any other
        needs the guardian's hospital-referral consent and, as the policy says,
        a supervisor's review (6.2.1, G-16).
        """
        if trigger not in TRIGGERS:
            raise InputError(
                f"--trigger must be one of RT-01 … RT-10 (requirements §1.9.7), not {trigger!r}",
                code="E704",
            )
        if mode not in MODES:
            raise InputError("--mode must be transfer or concurrent (G-13)", code="E704")
        if not reason.strip():
            raise InputError("--reason must say why the child is referred", code="E704")
        self.partner(partner)  # a misconfigured hospital fails before anything is recorded
        active = self.crisis_active(case_number)
        crisis = trigger == "RT-01" or active is not None
        purpose = "crisis" if crisis else "hosp-referral"
        disc = self.discloser.request(
            case_number,
            purpose=purpose,
            partner=partner,
            requester=requester,
            reason_code=(crisis_type or active or "life-self") if crisis else None,
            reason_text=reason if crisis else None,
        )
        if disc.status in ("refused", "rejected"):
            why = "; ".join(disc.reasons) or disc.status
            raise ReferralError(
                f"the referral of case {case_number} to {partner} was {disc.status} by the "
                f"purpose engine ({purpose}): {why}",
                code="E705",
            )
        referral_id = "REF-" + uuid.uuid4().hex[:12].upper()
        stamp = now_iso()
        row = {
            "id": referral_id,
            "case_number": case_number,
            "partner": partner,
            "trigger": trigger,
            "mode": mode,
            "reason": reason,
            "requester": requester,
            "break_glass": crisis,
            "state": "under-review",
            "disclosure_id": disc.id,
            "created_at": stamp,
            "updated_at": stamp,
            "accept_due_provisional": False,
        }
        with self.archive.transaction() as conn:
            store.insert(conn, row)
            self._event(
                conn,
                referral_id,
                "created",
                to_status="under-review",
                detail=f"{trigger} {mode} to {partner} by {requester}; purpose {purpose}"
                + (" (break-glass)" if crisis else ""),
            )
            if disc.status == "pending":
                self._event(
                    conn,
                    referral_id,
                    "under-review",
                    detail=f"disclosure {disc.id} waits for supervisor review (9.3, G-16)",
                )
        log.info("referral %s of case %s to %s: disclosure %s", referral_id, case_number,
                 partner, disc.status)  # fmt: skip
        if disc.status == "approved":
            self._queue(referral_id, disc)
        return self.get(referral_id)

    def _queue(self, referral_id: str, disc: Disclosure) -> OutboxItem | None:
        """Build the transaction from the disclosure's filtered Bundle and queue it."""
        ref = self.get(referral_id)
        if ref.state != "under-review":
            return None
        if disc.status != "approved" or disc.bundle is None:
            raise ReferralError(
                f"disclosure {disc.id} is {disc.status}: nothing may leave", code="E706"
            )
        hosp = self.partner(ref.partner)
        payload, keys = self._transaction(ref, disc.bundle)
        with self.archive.transaction() as conn:
            item = self.outbox.enqueue(
                partner=ref.partner,
                kind="referral",
                payload=payload,
                idempotency_key=f"referral:{ref.id}:create",
                ref=ref.id,
                max_attempts=hosp.retry.max_attempts,
                priority=CRISIS_PRIORITY if ref.crisis else 0,
                conn=conn,
            )
            self._update(conn, ref.id, state="info-prepared", outbox_id=item.id)
            self._event(conn, ref.id, "approved", from_status="under-review",
                        to_status="approved", detail=f"disclosure {disc.id} approved")  # fmt: skip
            self._event(
                conn,
                ref.id,
                "queued",
                from_status="approved",
                to_status="info-prepared",
                detail=f"transaction Bundle ({len(payload)} bytes, keys {sorted(keys)}) "
                f"queued as delivery {item.id}",
            )
        crash_point("after-enqueue")
        return item

    def _transaction(self, ref: Referral, filtered: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The transaction Bundle of ``ref`` under the partner's CURRENT configuration."""
        hosp = self.partner(ref.partner)
        spec = ReferralSpec(
            referral_id=ref.id,
            trigger=ref.trigger,
            trigger_display=self.engine.terminology.display(TRIGGER_SYSTEM, ref.trigger),
            mode=ref.mode,
            reason=ref.reason,
            owner=hosp.owner,
            authored_on=_fhir_time(dt.datetime.now(CHINA_TZ)),
        )
        return build_transaction(filtered, spec, base=self.engine.canonical_base)

    def on_approved(self, disc: Disclosure) -> Referral | None:
        """A pending disclosure was approved: queue the referral waiting on it."""
        found = [r for r in self.find(state="under-review") if r.disclosure_id == disc.id]
        if not found:
            return None
        self._queue(found[0].id, disc)
        return self.get(found[0].id)

    def listen(self, plugins: Any) -> ApprovalListener:
        """Queue waiting referrals as soon as ``plugins`` announces an approval."""
        listener = ApprovalListener(self)
        plugins.pm.register(listener, name=f"referral-approvals-{id(self)}")
        return listener

    def sweep_reviews(self) -> int:
        """Queue or close referrals whose disclosure was decided meanwhile (hook backstop)."""
        done = 0
        for ref in self.find(state="under-review"):
            if not ref.disclosure_id:
                continue
            disc = self.discloser.get(ref.disclosure_id)
            if disc.status == "approved":
                self._queue(ref.id, disc)
                done += 1
            elif disc.status in ("rejected", "refused"):
                with self.archive.transaction() as conn:
                    self._update(conn, ref.id, state=disc.status)
                    self._event(conn, ref.id, disc.status, from_status="under-review",
                                to_status=disc.status,
                                detail=f"disclosure {disc.id} {disc.status}")  # fmt: skip
                done += 1
        return done

    # -- cancel -----------------------------------------------------------------

    def cancel(self, referral_id: str, *, reason: str, requester: str) -> Referral:
        """Cancel from our side: unsent → never sent; at the hospital → Task cancelled."""
        if not reason.strip():
            raise InputError("--reason must say why the referral is cancelled", code="E704")
        self.absorb_deliveries()
        ref = self.get(referral_id)
        if ref.state in states.CLOSED_STEPS or ref.state == "cancel-requested":
            raise ReferralError(f"referral {ref.id} is {ref.state}: nothing to cancel", code="E708")
        if ref.state in ("under-review", "approved", "info-prepared"):
            for item in self.outbox.items(ref=ref.id, kind="referral"):
                if item.status == "sending":
                    raise ReferralError(
                        f"referral {ref.id} is being sent right now; try again in a moment",
                        code="E708",
                    )
                if item.status == "uncertain":
                    raise ReferralError(MSG_UNCERTAIN.format(ref=ref.id), code="E723")
                if item.status in ("pending", "dead"):
                    self.outbox.mark(item.id, "cancelled", f"referral cancelled by {requester}")
            with self.archive.transaction() as conn:
                self._update(conn, ref.id, state="cancelled")
                self._event(conn, ref.id, "cancelled", from_status=ref.state,
                            to_status="cancelled",
                            detail=f"cancelled by {requester} before it was sent")  # fmt: skip
            return self.get(ref.id)
        if ref.task_status not in states.CANCELLABLE or not ref.remote_task:
            raise ReferralError(
                f"referral {ref.id}: the hospital's Task is {ref.task_status}; it can no longer "
                "be cancelled",
                code="E708",
            )
        patch = [
            {"op": "test", "path": "/status", "value": ref.task_status},
            {"op": "replace", "path": "/status", "value": "cancelled"},
            {"op": "add", "path": "/statusReason", "value": {"text": reason}},
        ]
        hosp = self.partner(ref.partner)
        with self.archive.transaction() as conn:
            self.outbox.enqueue(
                partner=ref.partner,
                kind="referral-cancel",
                payload=orjson.dumps(patch),
                idempotency_key=f"referral:{ref.id}:cancel:{ref.remote_version}",
                method="PATCH",
                path=ref.remote_task,
                content_type="application/json-patch+json",
                ref=ref.id,
                max_attempts=hosp.retry.max_attempts,
                conn=conn,
            )
            self._update(conn, ref.id, state="cancel-requested")
            self._event(conn, ref.id, "cancel-requested", from_status=ref.state,
                        to_status="cancel-requested",
                        detail=f"cancel requested by {requester}")  # fmt: skip
        return self.get(ref.id)

    # -- replay -------------------------------------------------------------------

    def replay(self, item_id: str) -> OutboxItem:
        """Queue a dead referral delivery again, under the CURRENT purpose policy.

        The policy, consent and filter run again (a preview: nothing new is
        disclosed). When they still let out exactly what the supervisor
        approved, the approved bytes go again; when they now refuse, or would
        let out something else, the delivery is marked ``refused`` with the
        reason (a new referral then gets a fresh review).
        """
        item = self.outbox.get(item_id)
        if item.kind != "referral" or not item.ref:
            return self.outbox.retry(item_id)
        ref = self.get(item.ref)
        if ref.disclosure_id is None:
            return self.outbox.retry(item_id)
        approved = self.discloser.get(ref.disclosure_id)
        purpose = approved.purpose
        now = self.discloser.request(
            ref.case_number,
            purpose=purpose,
            partner=ref.partner,
            requester=ref.requester,
            reason_code=(self.crisis_active(ref.case_number) or "life-self")
            if ref.break_glass
            else None,
            reason_text=ref.reason if ref.break_glass else None,
            dry_run=True,
        )
        problem = None
        if now.status in ("refused", "rejected"):
            problem = "the current purpose policy refuses it: " + "; ".join(now.reasons)
        elif _content(now.bundle) != _content(approved.bundle):
            problem = (
                "the current purpose policy lets out different content than was approved; "
                "create a new referral for a fresh review"
            )
        if problem is not None:
            self.outbox.mark(item_id, "refused", problem)
            with self.archive.transaction() as conn:
                self._event(conn, ref.id, "replay-refused", detail=problem)
            return self.outbox.get(item_id)
        # The approved content, in a transaction built under the partner's current
        # configuration (a fixed owner or identifier system takes effect).
        payload = self._transaction(ref, approved.bundle or {})[0]
        with self.archive.transaction() as conn:
            self._event(conn, ref.id, "replayed", detail=f"delivery {item_id} queued again")
        return self.outbox.retry(item_id, payload=payload)

    def retry(self, referral_id: str) -> OutboxItem:
        """``interop referral retry REF``: send a dead or refused referral again (see replay)."""
        ref = self.get(referral_id)
        items = self.outbox.items(ref=ref.id)
        for item in reversed(items):
            if item.status in ("dead", "refused") and item.kind in ("referral", "referral-cancel"):
                return self.replay(item.id)
        found = ", ".join(f"{i.id} {i.status}" for i in items) or "none"
        raise ReferralError(MSG_NOTHING_TO_RETRY.format(ref=ref.id, found=found), code="E721")


def _content(bundle: dict[str, Any] | None) -> list[Any]:
    """The resources of a filtered Bundle without their meta (labels, times), Flags aside."""
    out = []
    for e in (bundle or {}).get("entry") or []:
        res = dict(e.get("resource") or {})
        if res.get("resourceType") == "Flag":
            continue  # the break-glass Flag is new on every request
        res.pop("meta", None)
        out.append(res)
    return sorted(out, key=lambda r: (str(r.get("resourceType")), str(r.get("id"))))


class ApprovalListener:
    """The approval event, for referrals: queue the referral that waited on the disclosure.

    Registered in-process with the discloser's plugin manager, on the same
    archive and configuration as the discloser (never ``$INTEROP_DB``).
    """

    def __init__(self, referrals: Requests) -> None:
        self.referrals = referrals

    @hookimpl
    def interop_after_approval(self, disclosure: Any) -> None:
        try:
            done = self.referrals.on_approved(disclosure)
        except ReferralError as exc:
            # The next `outbox run` or `referral poll` sweeps it again.
            log.warning("referral for disclosure %s not queued now: %s", disclosure.id,
                        exc.message)  # fmt: skip
            return
        if done is not None:
            log.info("referral %s queued after approval of %s", done.id, disclosure.id)
