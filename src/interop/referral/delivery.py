"""Handing a referral over (交接): the outbox's answers taken into the referral records.

A referral is ``handed-over`` only when the hospital's transaction-response
proved it: an entry with a location for the Task, the ServiceRequest and the
Patient we sent (the hospital plugin checks that; an answer that proves
less leaves the delivery ``uncertain``, reconciled by a search on our
identifiers before any resend). The ids the hospital gave are recorded here;
a referral is never handed over without its Task id.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import orjson

from interop.core.workdays import CHINA_TZ
from interop.exchange.outbox import OutboxItem
from interop.referral.bundle import locations
from interop.referral.polling import Polling
from interop.referral.records import Referral

log = logging.getLogger(__name__)

MSG_UNPROVEN = (
    "the hospital's answer does not name the Task it created; the delivery is reconciled "
    "before anything is sent again"
)


def transaction_keys(payload: bytes) -> dict[str, str]:
    """The fullUrls of the Patient, ServiceRequest and Task (and the Task's requester)."""
    bundle = orjson.loads(payload)
    keys: dict[str, str] = {}
    task: dict[str, Any] | None = None
    for e in bundle.get("entry") or []:
        resource = e.get("resource") or {}
        rtype = resource.get("resourceType")
        url = e.get("fullUrl", "")
        if rtype == "Patient":
            keys["patient"] = url
        elif rtype == "ServiceRequest":
            keys["service_request"] = url
        elif rtype == "Task":
            keys["task"] = url
            task = resource
    req = ((task or {}).get("requester") or {}).get("reference")
    if req:
        keys["requester"] = req
    return keys


def _entry_resource(body: Any, sent: bytes, full_url: str | None) -> dict[str, Any] | None:
    if not isinstance(body, dict) or not full_url:
        return None
    request = orjson.loads(sent)
    for req_entry, resp_entry in zip(
        request.get("entry") or [], body.get("entry") or [], strict=False
    ):
        if req_entry.get("fullUrl") == full_url:
            res = (resp_entry or {}).get("resource")
            return res if isinstance(res, dict) else None
    return None


class Delivery(Polling):
    """Deliver referral deliveries through the outbox and take the answers in."""

    def deliver(self, referral_id: str | None = None, *, wait: float = 0.0) -> None:
        """Deliver due referral deliveries now (all, or those of one referral)."""
        ids = None
        if referral_id is not None:
            ids = [i.id for i in self.outbox.items(ref=referral_id)]
            if not ids:
                return
        self.outbox.run(self.partner, ids=ids, wait=wait)
        self.absorb_deliveries()

    def absorb_deliveries(self) -> int:
        """Take the hospital's answers to delivered referrals into the referral records."""
        changed = 0
        for ref in self.find(state="info-prepared") + self.find(state="cancel-requested"):
            for item in self.outbox.items(ref=ref.id):
                if ref.state == "info-prepared" and item.kind == "referral":
                    changed += self._absorb_create(ref, item)
                elif ref.state == "cancel-requested" and item.kind == "referral-cancel":
                    changed += self._absorb_cancel(ref, item)
        return changed

    def _absorb_create(self, ref: Referral, item: OutboxItem) -> int:
        if item.status == "dead":
            if any(e["kind"] == "delivery-dead" for e in self.events(ref.id)):
                return 0
            with self.archive.transaction() as conn:
                self._event(conn, ref.id, "delivery-dead", detail=item.last_error)
            return 1
        if item.status == "uncertain":
            with self.archive.transaction() as conn:
                if not self._seen_event(conn, ref.id, "uncertain", None, MSG_UNPROVEN):
                    self._event(conn, ref.id, "uncertain", detail=MSG_UNPROVEN)
            return 0
        if item.status != "delivered":
            return 0
        receipt = item.receipt_json() or {}
        found = locations(receipt.get("body"), item.payload)
        keys = transaction_keys(item.payload)
        task = found.get(keys.get("task", ""))
        if not task:
            # The plugin proves every delivery; a receipt without the Task is never taken as one.
            log.error("referral %s: delivery %s has no Task id; not handed over", ref.id, item.id)
            return 0
        sent = dt.datetime.fromtimestamp(item.delivered_at or item.created_at, CHINA_TZ)
        hosp = self.partner(ref.partner)
        due, provisional = self.calendar.add_workdays(sent.date(), hosp.accept_within_days)
        task_body = _entry_resource(receipt.get("body"), item.payload, keys.get("task"))
        meta = (task_body or {}).get("meta") or {}
        with self.archive.transaction() as conn:
            self._update(
                conn,
                ref.id,
                state="handed-over",
                task_status="requested",
                remote_task=task,
                remote_service_request=found.get(keys.get("service_request", "")),
                remote_patient=found.get(keys.get("patient", "")),
                remote_version=meta.get("versionId"),
                remote_updated=meta.get("lastUpdated"),
                sent_at=sent.isoformat(timespec="seconds"),
                accept_due=due.isoformat(),
                accept_due_provisional=provisional,
            )
            self._event(conn, ref.id, "delivered", from_status="info-prepared",
                        to_status="handed-over",
                        detail=f"{task} created at {ref.partner}"
                        + (" (found by our identifiers)" if receipt.get("reconciled")
                           else ""))  # fmt: skip
            requester = found.get(keys.get("requester", ""))
            if requester:
                self._partner_state(conn, ref.partner, requester=requester)
        return 1

    def _absorb_cancel(self, ref: Referral, item: OutboxItem) -> int:
        if item.status == "dead":
            with self.archive.transaction() as conn:
                self._update(conn, ref.id, state="handed-over")
                self._event(conn, ref.id, "cancel-failed", from_status="cancel-requested",
                            to_status="handed-over", detail=item.last_error)  # fmt: skip
            return 1
        if item.status != "delivered":
            return 0
        body = (item.receipt_json() or {}).get("body")
        if isinstance(body, dict) and body.get("resourceType") == "Task":
            with self.archive.transaction() as conn:
                self._apply(conn, self.get(ref.id), body)
        return 1
