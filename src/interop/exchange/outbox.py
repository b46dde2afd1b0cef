"""The durable outbox: every outbound delivery, kept in the archive until it is done.

ARCHITECTURE "Nothing lost": a delivery is written to the archive — payload
bytes, idempotency key, partner, kind — **before** any network call, so a
crash or a failed send never loses it, and the same idempotency key never
makes a second delivery. Then workers (``interop outbox run``) deliver what
is due:

::

    pending ──claim──▶ sending ──2xx, proven──────▶ delivered
       ▲                  │ no connection, 408/429/5xx
       └──── backoff ◀────┤   (attempts left: exponential backoff with jitter)
                          ├─ other 4xx, or attempts used up ─▶ dead (dead letter)
                          ├─ partner paused ─▶ pending (no attempt counted)
                          └─ the request may have been processed (an answer that
                             proves nothing, a timeout, a reset, a lease run out)
                                 ─▶ uncertain ──reconcile (search our identifiers)──┐
                                       ▲  found ─▶ delivered; not found ─▶ resend   │
                                       └──── search failed (backoff, never dead) ◀──┘
    pending / dead ──cancel──▶ cancelled        dead ──retry──▶ pending
    replay refused by the current purpose policy ─▶ refused

Claiming is safe with several workers: one statement claims (on PostgreSQL
with ``FOR UPDATE SKIP LOCKED``, on SQLite under the write lock; the SQL is in
:mod:`interop.store.outbox`). A worker claims one row at a time (or a
small batch: ``batch``), crisis rows first (``priority``), under a short
lease (:data:`DEFAULT_LEASE`, configurable) that it renews while the request
is in flight (:mod:`interop.exchange.outbox_worker`); so N workers share a
slow partner, and a crashed worker's row comes back within the lease — as
``uncertain``, because the partner may have processed it: a deliverer that
can (:class:`Reconciler`) searches for it before any resend, and the
partner's conditional create (``ifNoneExist`` on our identifiers) makes a
resend harmless anyway. An uncertain delivery is
never dead-lettered.

Pausing a partner (``interop outbox pause``) is a kill switch: no attempt is
made to it, not even by a worker that had already claimed its rows.

Times are epoch seconds (floats) in the table; the CLI shows them as ISO 8601.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from interop._errors import OutboxError as OutboxError
from interop._errors import OutboxItemNotFound as OutboxItemNotFound
from interop.exchange.http import HttpResult, HttpTransport
from interop.exchange.outbox_states import DEFAULT_LEASE as DEFAULT_LEASE
from interop.exchange.outbox_states import STATUSES as STATUSES
from interop.exchange.outbox_verdict import verdict
from interop.exchange.outbox_worker import Deliverer as Deliverer
from interop.exchange.outbox_worker import Reconciler as Reconciler
from interop.exchange.outbox_worker import RunSummary as RunSummary
from interop.exchange.outbox_worker import crash_point as crash_point
from interop.exchange.outbox_worker import run as _run
from interop.exchange.retry import DEFAULT_MAX_ATTEMPTS
from interop.exchange.retry import RetryPolicy as RetryPolicy  # re-exported
from interop.store.archive import Archive
from interop.store.outbox import Attempt, OutboxRows
from interop.store.outbox import OutboxItem as OutboxItem
from interop.store.outbox import iso as iso

if TYPE_CHECKING:
    from interop.store.connect import Connection

log = logging.getLogger(__name__)

#: ``priority`` of a crisis delivery (RT-01, break-glass): claimed before any other.
CRISIS_PRIORITY = 10


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Outbox:
    """The outbox of one archive."""

    def __init__(
        self,
        archive: Archive,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        lease_seconds: float = DEFAULT_LEASE,
    ) -> None:
        self.archive = archive
        self.rows = OutboxRows(archive)
        self.clock = clock
        self.rng = rng or random.Random()
        self.lease_seconds = lease_seconds

    # -- writing --------------------------------------------------------------

    def enqueue(
        self,
        *,
        partner: str,
        kind: str,
        payload: bytes,
        idempotency_key: str,
        method: str = "POST",
        path: str = "",
        content_type: str = "application/fhir+json",
        ref: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        priority: int = 0,
        conn: Connection | None = None,
    ) -> OutboxItem:
        """Write a delivery (committed before this returns, unless ``conn`` is given).

        The same ``idempotency_key`` twice gives back the first delivery: it is
        never queued again.
        """
        values = {
            "idempotency_key": idempotency_key, "partner": partner, "kind": kind, "ref": ref,
            "method": method, "path": path, "content_type": content_type, "payload": payload,
            "max_attempts": max(1, max_attempts), "created_at": self.clock(),
            "priority": priority,
        }  # fmt: skip
        if conn is not None:
            return self._enqueue(conn, values)
        with self.archive.transaction() as c:
            item = self._enqueue(c, values)
        crash_point("after-enqueue")
        return item

    def _enqueue(self, conn: Connection, values: dict[str, Any]) -> OutboxItem:
        item, new = self.rows.insert_once(conn, values)
        if new:
            log.info("queued %s delivery %s to %s", item.kind, item.id, item.partner)
        return item

    # -- reading --------------------------------------------------------------

    def get(self, item_id: str) -> OutboxItem:
        item = self.rows.get(item_id)
        if item is None:
            raise OutboxItemNotFound(f"no delivery {item_id} in the outbox")
        return item

    def items(
        self,
        *,
        status: str | None = None,
        partner: str | None = None,
        ref: str | None = None,
        kind: str | None = None,
    ) -> list[OutboxItem]:
        return self.rows.items(status=status, partner=partner, ref=ref, kind=kind)

    def attempts(self, item_id: str) -> list[dict[str, Any]]:
        return [
            {
                "attempt": r["attempt"],
                "worker": r["worker"],
                "started_at": iso(r["started_at"]),
                "seconds": round(r["seconds"], 3),
                "outcome": r["outcome"],
                "http_status": r["http_status"],
                "error": r["error"],
            }
            for r in self.rows.attempts(item_id)
        ]

    def counts(self) -> dict[str, int]:
        return self.rows.counts()

    # -- pause / resume -------------------------------------------------------

    def pause(self, partner: str, reason: str | None = None) -> None:
        self.rows.set_paused(partner, True, reason)
        log.warning("deliveries to %s paused", partner)

    def resume(self, partner: str) -> None:
        self.rows.set_paused(partner, False, None)
        log.warning("deliveries to %s resumed", partner)

    def paused(self) -> dict[str, str | None]:
        """Paused partners and the reason given."""
        return self.rows.paused()

    def is_paused(self, partner: str) -> bool:
        return self.rows.is_paused(partner)

    # -- operator actions -----------------------------------------------------

    def retry(self, item_id: str, *, payload: bytes | None = None) -> OutboxItem:
        """Queue a dead (or cancelled, refused) delivery again, with fresh attempts.

        ``payload`` replaces the bytes (a replay under the current purpose policy).
        """
        item = self.get(item_id)
        if item.status not in ("dead", "refused", "pending"):
            raise OutboxError(
                f"delivery {item_id} is {item.status}; only dead, refused or pending "
                "deliveries can be retried",
                code="E642",
            )
        self.rows.requeue(item_id, self.clock(), payload)
        return self.get(item_id)

    def mark(self, item_id: str, status: str, reason: str) -> None:
        """Set a final status by hand: ``cancelled`` or ``refused`` (never sent)."""
        if status not in ("cancelled", "refused"):
            raise ValueError(status)
        if not self.rows.mark(item_id, status, reason):
            raise OutboxError(
                f"delivery {item_id} is being sent or was already delivered; it cannot be "
                f"marked {status}",
                code="E643",
            )

    # -- claiming -------------------------------------------------------------

    def claim(
        self,
        *,
        worker: str,
        limit: int = 1,
        partner: str | None = None,
        exclude: list[str] | None = None,
        ids: list[str] | None = None,
    ) -> list[OutboxItem]:
        """Take up to ``limit`` due deliveries for ``worker`` (none of a paused partner).

        Crisis rows first, then the longest waiting. A claimed pending row
        becomes ``sending``; an uncertain row stays ``uncertain`` (it is
        reconciled before any resend); both carry ``worker``'s lease. A row
        left ``sending`` by a worker whose lease ran out becomes uncertain.
        """
        items, expired = self.rows.claim(
            worker=worker, now=self.clock(), lease=self.lease_seconds, limit=limit,
            partner=partner, exclude=exclude or (), ids=ids,
        )  # fmt: skip
        if expired:
            log.warning("%d delivery(ies) left by a stopped worker are reconciled", expired)
        return items

    def renew(self, item: OutboxItem, worker: str) -> bool:
        """Extend ``worker``'s lease on ``item`` (False when the lease was lost)."""
        return self.rows.renew(item.id, worker, self.clock() + self.lease_seconds)

    def held(self, partner: str | None = None) -> tuple[int, float | None]:
        """Due rows held by a live lease of some worker, and when the last lease ends."""
        return self.rows.held(self.clock(), partner)

    def release(self, item: OutboxItem, worker: str) -> None:
        """Give a claimed delivery back untried (its partner was paused meanwhile)."""
        self.rows.release(item, Attempt(worker, self.clock(), 0.0, "released"))

    def record(
        self,
        item: OutboxItem,
        result: HttpResult,
        *,
        worker: str,
        policy: RetryPolicy,
        started: float,
        reconciled: bool = False,
    ) -> str:
        """Record one attempt's result; returns the delivery's new status.

        ``uncertain`` (the partner may have processed it) is never dead-lettered:
        it is reconciled again after the backoff, however many attempts it took.
        """
        v = verdict(item, result, policy=policy, now=self.clock(), rng=self.rng,
                    reconciled=reconciled)  # fmt: skip
        attempt = Attempt(worker, started, result.seconds, v.outcome, result.status, result.error)
        if not self.rows.record(item, v.values, attempt):
            # The lease was lost (this worker stalled past it): another worker owns the
            # row now and reconciles it; this answer is kept in the history only.
            return "lease-lost"
        if v.outcome == "dead":
            log.warning(
                "delivery %s to %s dead-lettered: %s", item.id, item.partner, v.values["last_error"]
            )
        return v.status

    # -- running --------------------------------------------------------------

    def run(
        self,
        resolve: Callable[[str], Deliverer],
        *,
        worker: str | None = None,
        partner: str | None = None,
        ids: list[str] | None = None,
        batch: int = 1,
        wait: float = 0.0,
    ) -> RunSummary:
        """Deliver what is due; with ``wait`` > 0, also what falls due within that time.

        ``resolve(partner)`` gives the partner's :class:`Deliverer`; a partner
        that cannot be resolved (unknown, misconfigured) is skipped and its
        deliveries stay queued. ``ids`` limits the run to those deliveries.
        ``batch`` rows are claimed at a time (one by default, so that several
        workers share a slow partner).
        """
        return _run(
            self, resolve, worker=worker or default_worker(), partner=partner, ids=ids,
            batch=batch, wait=wait,
        )  # fmt: skip


@contextlib.contextmanager
def opened(url: str | None) -> Iterator[Outbox]:
    """An outbox on the archive at ``url`` (closed afterwards)."""
    with Archive.open(url) as archive:
        yield Outbox(archive)


class HttpDeliverer:
    """A :class:`Deliverer` over HTTP: the item's method and path on the partner's base URL."""

    def __init__(self, transport: HttpTransport, retry: RetryPolicy | None = None) -> None:
        self.transport = transport
        self.retry = retry or RetryPolicy()

    def attempt(self, item: OutboxItem) -> HttpResult:
        body = item.payload if item.method in ("POST", "PUT", "PATCH") else None
        return self.transport.request(
            item.method,
            item.path,
            body=body,
            content_type=item.content_type,
            headers={"X-Request-Id": item.idempotency_key[:200]},
        )

    def close(self) -> None:
        self.transport.close()
