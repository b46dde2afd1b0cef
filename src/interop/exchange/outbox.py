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

Claiming is safe with several workers: on PostgreSQL with ``SELECT … FOR
UPDATE SKIP LOCKED`` (each worker takes rows no other worker holds), on
SQLite with one atomic ``UPDATE``. A worker claims one row at a time (or a
small batch: ``batch``), crisis rows first (``priority``), under a short
lease (:data:`DEFAULT_LEASE`, configurable) that it renews while the request
is in flight; so N workers share a slow partner, and a crashed worker's row
comes back within the lease — as ``uncertain``, because the partner may have
processed it: a deliverer that can (:class:`Reconciler`) searches for it
before any resend, and the partner's conditional create (``ifNoneExist`` on
our identifiers) makes a resend harmless anyway. An uncertain delivery is
never dead-lettered.

Pausing a partner (``interop outbox pause``) is a kill switch: no attempt is
made to it, not even by a worker that had already claimed its rows.

Times are epoch seconds (floats) in the table; the CLI shows them as ISO 8601.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson
import sqlalchemy as sa

from interop import faults
from interop._errors import InteropError
from interop._errors import OutboxError as OutboxError
from interop._errors import OutboxItemNotFound as OutboxItemNotFound
from interop.exchange.http import HttpResult, HttpTransport
from interop.exchange.retry import DEFAULT_MAX_ATTEMPTS
from interop.exchange.retry import RetryPolicy as RetryPolicy  # re-exported
from interop.exchange.transport import Transport
from interop.store import schema as tables
from interop.store.archive import Archive, now_iso

log = logging.getLogger(__name__)

#: Test hook: ``after-enqueue`` kills the process right after a delivery is
#: written (before any network call); ``after-send`` right after the partner
#: answered (before the answer is recorded).

#: Seconds a claim holds a row unless renewed (a crashed worker's rows come back after it).
DEFAULT_LEASE = 30.0
#: ``priority`` of a crisis delivery (RT-01, break-glass): claimed before any other.
CRISIS_PRIORITY = 10

STATUSES = ("pending", "sending", "uncertain", "delivered", "dead", "cancelled", "refused")


#: What the outbox needs of a partner: one attempt, its retry policy, close
#: (the plugin contract :class:`interop.exchange.transport.Transport`).
Deliverer = Transport


@runtime_checkable
class Reconciler(Protocol):
    """A deliverer that can tell whether an uncertain delivery reached the partner."""

    def reconcile(self, item: OutboxItem) -> HttpResult | None:
        """``delivered`` (found: the receipt names what the partner holds), ``uncertain``
        (the partner could not be asked) or None (not there: send it again)."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    idempotency_key: str
    partner: str
    kind: str
    ref: str | None
    method: str
    path: str
    content_type: str
    payload: bytes
    sha256: str
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: float
    created_at: float
    delivered_at: float | None
    last_status: int | None
    last_error: str | None
    receipt: str | None
    claimed_by: str | None = None
    priority: int = 0
    lease_until: float | None = None

    def receipt_json(self) -> Any:
        return orjson.loads(self.receipt) if self.receipt else None

    def summary(self) -> dict[str, Any]:
        """Everything but the payload, times as ISO 8601 (for lists and ``--json``)."""
        return {
            "id": self.id,
            "partner": self.partner,
            "kind": self.kind,
            "ref": self.ref,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "next_attempt_at": iso(self.next_attempt_at)
            if self.status in ("pending", "sending", "uncertain")
            else None,
            "priority": self.priority,
            "lease_until": iso(self.lease_until) if self.claimed_by else None,
            "created_at": iso(self.created_at),
            "delivered_at": iso(self.delivered_at),
            "last_status": self.last_status,
            "last_error": self.last_error,
            "sha256": self.sha256,
            "bytes": len(self.payload),
            "idempotency_key": self.idempotency_key,
        }


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class RunSummary:
    """What one ``run`` did."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    released: int = 0
    uncertain: int = 0
    reconciled: int = 0
    #: Due rows another worker holds under a live lease when the run ended, and until when.
    held: int = 0
    held_until: str | None = None
    skipped_partners: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def crash_point(point: str) -> None:
    """A fault point ``outbox.<point>`` (a crash test may stop the process here)."""
    faults.reached(f"outbox.{point}")


def _row(r: Any) -> OutboxItem:
    return OutboxItem(
        id=r.id,
        idempotency_key=r.idempotency_key,
        partner=r.partner,
        kind=r.kind,
        ref=r.ref,
        method=r.method,
        path=r.path,
        content_type=r.content_type,
        payload=bytes(r.payload),
        sha256=r.sha256,
        status=r.status,
        attempts=r.attempts,
        max_attempts=r.max_attempts,
        next_attempt_at=r.next_attempt_at,
        created_at=r.created_at,
        delivered_at=r.delivered_at,
        last_status=r.last_status,
        last_error=r.last_error,
        receipt=r.receipt,
        claimed_by=r.claimed_by,
        priority=r.priority or 0,
        lease_until=r.lease_until,
    )


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
        conn: sa.Connection | None = None,
    ) -> OutboxItem:
        """Write a delivery (committed before this returns, unless ``conn`` is given).

        The same ``idempotency_key`` twice gives back the first delivery: it is
        never queued again.
        """
        if conn is None:
            with self.archive.transaction() as c:
                item = self._enqueue(
                    c, partner, kind, payload, idempotency_key, method, path, content_type, ref,
                    max_attempts, priority,
                )  # fmt: skip
            crash_point("after-enqueue")
            return item
        return self._enqueue(
            conn, partner, kind, payload, idempotency_key, method, path, content_type, ref,
            max_attempts, priority,
        )  # fmt: skip

    def _enqueue(
        self,
        conn: sa.Connection,
        partner: str,
        kind: str,
        payload: bytes,
        key: str,
        method: str,
        path: str,
        content_type: str,
        ref: str | None,
        max_attempts: int,
        priority: int = 0,
    ) -> OutboxItem:
        o = tables.outbox.c
        found = conn.execute(sa.select(tables.outbox).where(o.idempotency_key == key)).first()
        if found is not None:
            return _row(found)
        now = self.clock()
        values = {
            "id": uuid.uuid4().hex,
            "idempotency_key": key,
            "partner": partner,
            "kind": kind,
            "ref": ref,
            "method": method,
            "path": path,
            "content_type": content_type,
            "payload": payload,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "status": "pending",
            "attempts": 0,
            "max_attempts": max(1, max_attempts),
            "next_attempt_at": now,
            "created_at": now,
            "priority": priority,
        }
        conn.execute(tables.outbox.insert(), [values])
        log.info("queued %s delivery %s to %s", kind, values["id"], partner)
        row = conn.execute(sa.select(tables.outbox).where(o.id == values["id"])).one()
        return _row(row)

    # -- reading --------------------------------------------------------------

    def get(self, item_id: str) -> OutboxItem:
        with self.archive.engine.connect() as conn:
            row = conn.execute(
                sa.select(tables.outbox).where(tables.outbox.c.id == item_id)
            ).first()
        if row is None:
            raise OutboxItemNotFound(f"no delivery {item_id} in the outbox")
        return _row(row)

    def items(
        self,
        *,
        status: str | None = None,
        partner: str | None = None,
        ref: str | None = None,
        kind: str | None = None,
    ) -> list[OutboxItem]:
        o = tables.outbox.c
        q = sa.select(tables.outbox).order_by(o.created_at, o.id)
        if status:
            q = q.where(o.status == status)
        if partner:
            q = q.where(o.partner == partner)
        if ref:
            q = q.where(o.ref == ref)
        if kind:
            q = q.where(o.kind == kind)
        with self.archive.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def attempts(self, item_id: str) -> list[dict[str, Any]]:
        a = tables.outbox_attempts.c
        with self.archive.engine.connect() as conn:
            rows = conn.execute(
                sa.select(tables.outbox_attempts)
                .where(a.item_id == item_id)
                .order_by(a.attempt, a.id)
            ).mappings()
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
                for r in rows
            ]

    def counts(self) -> dict[str, int]:
        o = tables.outbox.c
        with self.archive.engine.connect() as conn:
            return {
                s: n
                for s, n in conn.execute(sa.select(o.status, sa.func.count()).group_by(o.status))
            }

    # -- pause / resume -------------------------------------------------------

    def pause(self, partner: str, reason: str | None = None) -> None:
        self._set_paused(partner, True, reason)
        log.warning("deliveries to %s paused", partner)

    def resume(self, partner: str) -> None:
        self._set_paused(partner, False, None)
        log.warning("deliveries to %s resumed", partner)

    def _set_paused(self, partner: str, paused: bool, reason: str | None) -> None:
        p = tables.outbox_partners.c
        values = {"paused": paused, "reason": reason, "changed_at": now_iso()}
        with self.archive.transaction() as conn:
            done = conn.execute(
                tables.outbox_partners.update().where(p.partner == partner).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(tables.outbox_partners.insert(), [{"partner": partner, **values}])

    def paused(self) -> dict[str, str | None]:
        """Paused partners and the reason given."""
        p = tables.outbox_partners.c
        with self.archive.engine.connect() as conn:
            return {
                name: reason
                for name, reason in conn.execute(
                    sa.select(p.partner, p.reason).where(p.paused.is_(True))
                )
            }

    def is_paused(self, partner: str) -> bool:
        p = tables.outbox_partners.c
        with self.archive.engine.connect() as conn:
            return bool(
                conn.execute(sa.select(p.paused).where(p.partner == partner)).scalar_one_or_none()
            )

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
        values: dict[str, Any] = {
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": self.clock(),
            "lease_until": None,
            "claimed_by": None,
        }
        if payload is not None:
            values["payload"] = payload
            values["sha256"] = hashlib.sha256(payload).hexdigest()
        o = tables.outbox.c
        with self.archive.transaction() as conn:
            conn.execute(tables.outbox.update().where(o.id == item_id).values(**values))
        return self.get(item_id)

    def mark(self, item_id: str, status: str, reason: str) -> None:
        """Set a final status by hand: ``cancelled`` or ``refused`` (never sent)."""
        if status not in ("cancelled", "refused"):
            raise ValueError(status)
        o = tables.outbox.c
        with self.archive.transaction() as conn:
            done = conn.execute(
                tables.outbox.update()
                .where(o.id == item_id, o.status.in_(("pending", "dead", "refused")))
                .values(status=status, last_error=reason, lease_until=None, claimed_by=None)
            )
        if done.rowcount != 1:
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
        now = self.clock()
        o = tables.outbox.c
        p = tables.outbox_partners.c
        paused = sa.select(p.partner).where(p.paused.is_(True))
        free = sa.or_(o.lease_until.is_(None), o.lease_until < now)
        due = sa.or_(
            sa.and_(o.status == "pending", o.next_attempt_at <= now),
            sa.and_(o.status == "uncertain", o.next_attempt_at <= now, free),
        )
        cond = [due, o.partner.not_in(paused)]
        if partner:
            cond.append(o.partner == partner)
        if exclude:
            cond.append(o.partner.not_in(exclude))
        if ids is not None:
            cond.append(o.id.in_(ids))
        order = (o.priority.desc(), o.next_attempt_at, o.id)
        lease = now + self.lease_seconds
        status = sa.case((o.status == "pending", "sending"), else_=o.status)
        with self.archive.transaction() as conn:
            self._expire(conn, now)
            if conn.dialect.name == "postgresql":
                ids = list(
                    conn.execute(
                        sa.select(o.id)
                        .where(*cond)
                        .order_by(*order)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                if not ids:
                    return []
                conn.execute(
                    tables.outbox.update()
                    .where(o.id.in_(ids))
                    .values(status=status, lease_until=lease, claimed_by=worker)
                )
            else:
                # SQLite: one UPDATE takes the write lock, so the choice and the
                # claim are atomic between processes.
                chosen = sa.select(o.id).where(*cond).order_by(*order).limit(limit)
                token = f"{worker}#{uuid.uuid4().hex[:8]}"
                conn.execute(
                    tables.outbox.update()
                    .where(o.id.in_(chosen.scalar_subquery()))
                    .values(status=status, lease_until=lease, claimed_by=token)
                )
                ids = list(conn.execute(sa.select(o.id).where(o.claimed_by == token)).scalars())
                if ids:
                    conn.execute(
                        tables.outbox.update().where(o.id.in_(ids)).values(claimed_by=worker)
                    )
            rows = conn.execute(
                sa.select(tables.outbox).where(o.id.in_(ids)).order_by(*order)
            ).all()
        return [_row(r) for r in rows]

    def _expire(self, conn: sa.Connection, now: float) -> None:
        """Rows a worker left ``sending`` past its lease (it died mid-send) become uncertain."""
        o = tables.outbox.c
        done = conn.execute(
            tables.outbox.update()
            .where(o.status == "sending", o.lease_until < now)
            .values(status="uncertain", next_attempt_at=now, claimed_by=None, lease_until=None,
                    last_error="the worker sending it stopped before the answer was recorded")
        )  # fmt: skip
        if done.rowcount:
            log.warning("%d delivery(ies) left by a stopped worker are reconciled", done.rowcount)

    def renew(self, item: OutboxItem, worker: str) -> bool:
        """Extend ``worker``'s lease on ``item`` (False when the lease was lost)."""
        o = tables.outbox.c
        with self.archive.transaction() as conn:
            done = conn.execute(
                tables.outbox.update()
                .where(o.id == item.id, o.claimed_by == worker)
                .values(lease_until=self.clock() + self.lease_seconds)
            )
        return done.rowcount == 1

    @contextlib.contextmanager
    def _renewing(self, item: OutboxItem, worker: str) -> Iterator[None]:
        """Renew the lease every third of it while the request is in flight."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease_seconds / 3):
                try:
                    if not self.renew(item, worker):
                        return
                except sa.exc.SQLAlchemyError as exc:  # the next beat tries again
                    log.warning("lease of delivery %s not renewed: %s", item.id,
                                type(exc).__name__)  # fmt: skip

        thread = threading.Thread(target=beat, name=f"lease-{item.id[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def held(self, partner: str | None = None) -> tuple[int, float | None]:
        """Due rows held by a live lease of some worker, and when the last lease ends."""
        now = self.clock()
        o = tables.outbox.c
        q = sa.select(sa.func.count(), sa.func.max(o.lease_until)).where(
            o.status.in_(("sending", "uncertain")), o.claimed_by.is_not(None), o.lease_until >= now
        )
        if partner:
            q = q.where(o.partner == partner)
        with self.archive.engine.connect() as conn:
            n, until = conn.execute(q).one()
        return int(n), (float(until) if until is not None else None)

    def release(self, item: OutboxItem, worker: str) -> None:
        """Give a claimed delivery back untried (its partner was paused meanwhile)."""
        o = tables.outbox.c
        status = sa.case((o.status == "sending", "pending"), else_=o.status)
        with self.archive.transaction() as conn:
            conn.execute(
                tables.outbox.update()
                .where(o.id == item.id, o.claimed_by == worker)
                .values(status=status, lease_until=None, claimed_by=None)
            )
            self._log_attempt(conn, item, worker, self.clock(), 0.0, "released", None, None)

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
        attempt = item.attempts + 1
        now = self.clock()
        values: dict[str, Any] = {
            "attempts": attempt,
            "last_status": result.status,
            "lease_until": None,
            "claimed_by": None,
        }
        if result.verdict == "delivered":
            values.update(
                status="delivered",
                delivered_at=now,
                last_error=None,
                receipt=_receipt(result, reconciled=reconciled),
            )
            outcome = "reconciled" if reconciled else "delivered"
        elif result.verdict == "uncertain":
            wait = policy.delay(min(attempt, item.max_attempts), self.rng, result.retry_after)
            values.update(status="uncertain", next_attempt_at=now + wait, last_error=result.error)
            outcome = "uncertain"
        elif result.verdict == "retry" and attempt < item.max_attempts:
            wait = policy.delay(attempt, self.rng, result.retry_after)
            values.update(status="pending", next_attempt_at=now + wait, last_error=result.error)
            outcome = "retry"
        else:
            reason = result.error or "refused"
            if result.verdict == "retry":
                reason = f"gave up after {attempt} attempts; last: {reason}"
            values.update(status="dead", last_error=reason)
            outcome = "dead"
        o = tables.outbox.c
        with self.archive.transaction() as conn:
            done = conn.execute(
                tables.outbox.update()
                .where(o.id == item.id, o.claimed_by == worker)
                .values(**values)
            )
            if done.rowcount == 0:
                # The lease was lost (this worker stalled past it): another worker owns the
                # row now and reconciles it; this answer is kept in the history only.
                outcome = "lease-lost"
            self._log_attempt(
                conn, item, worker, started, result.seconds, outcome, result.status, result.error
            )
        if outcome == "dead":
            log.warning(
                "delivery %s to %s dead-lettered: %s", item.id, item.partner, values["last_error"]
            )
        return str(values["status"]) if outcome != "lease-lost" else "lease-lost"

    def _log_attempt(
        self,
        conn: sa.Connection,
        item: OutboxItem,
        worker: str,
        started: float,
        seconds: float,
        outcome: str,
        status: int | None,
        error: str | None,
    ) -> None:
        conn.execute(
            tables.outbox_attempts.insert(),
            [
                {
                    "item_id": item.id,
                    "attempt": item.attempts + (0 if outcome == "released" else 1),
                    "worker": worker,
                    "started_at": started,
                    "seconds": seconds,
                    "outcome": outcome,
                    "http_status": status,
                    "error": error,
                }
            ],
        )

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
        worker = worker or default_worker()
        summary = RunSummary()
        deliverers: dict[str, Deliverer] = {}
        stop_at = self.clock() + wait
        try:
            while True:
                items = self.claim(
                    worker=worker,
                    limit=batch,
                    partner=partner,
                    exclude=summary.skipped_partners,
                    ids=ids,
                )
                if not items:
                    next_due = self._next_due(partner, summary.skipped_partners, ids)
                    if next_due is None or next_due > stop_at:
                        break
                    time.sleep(max(0.0, min(next_due, stop_at) - self.clock()) + 0.001)
                    continue
                for item in items:
                    d = deliverers.get(item.partner)
                    if d is None and item.partner not in summary.skipped_partners:
                        d = _resolve(resolve, item.partner, summary)
                        if d is not None:
                            deliverers[item.partner] = d
                    if d is None or self.is_paused(item.partner):
                        self.release(item, worker)
                        summary.released += 1
                        continue
                    self._deliver_one(item, d, worker, summary)
        finally:
            for d in deliverers.values():
                d.close()
        summary.held, until = self.held(partner)
        summary.held_until = iso(until)
        return summary

    def _deliver_one(
        self, item: OutboxItem, d: Deliverer, worker: str, summary: RunSummary
    ) -> None:
        started = self.clock()
        reconciled = False
        with self._renewing(item, worker):
            result: HttpResult | None = None
            if item.status == "uncertain" and isinstance(d, Reconciler):
                result = d.reconcile(item)
                reconciled = result is not None and result.verdict == "delivered"
            if result is None:
                result = d.attempt(item)
            crash_point("after-send")
        status = self.record(
            item, result, worker=worker, policy=d.retry, started=started, reconciled=reconciled
        )
        if status == "delivered":
            summary.delivered += 1
            summary.reconciled += reconciled
        elif status == "dead":
            summary.dead += 1
        elif status == "uncertain":
            summary.uncertain += 1
        elif status == "pending":
            summary.retrying += 1

    def _next_due(
        self, partner: str | None, exclude: list[str], ids: list[str] | None
    ) -> float | None:
        o = tables.outbox.c
        p = tables.outbox_partners.c
        paused = sa.select(p.partner).where(p.paused.is_(True))
        # A row another worker holds is due, for us, when its lease ends.
        held = sa.and_(o.lease_until.is_not(None), o.lease_until > o.next_attempt_at)
        when = sa.case((held, o.lease_until), else_=o.next_attempt_at)
        q = sa.select(sa.func.min(when)).where(
            o.status.in_(("pending", "uncertain")), o.partner.not_in(paused)
        )
        if partner:
            q = q.where(o.partner == partner)
        if exclude:
            q = q.where(o.partner.not_in(exclude))
        if ids is not None:
            q = q.where(o.id.in_(ids))
        with self.archive.engine.connect() as conn:
            value = conn.execute(q).scalar_one_or_none()
        return float(value) if value is not None else None


def _resolve(
    resolve: Callable[[str], Deliverer], partner: str, summary: RunSummary
) -> Deliverer | None:
    try:
        return resolve(partner)
    except InteropError as exc:
        log.error("deliveries to %s skipped: %s", partner, exc.message)
        summary.skipped_partners.append(partner)
        return None


def _receipt(result: HttpResult, *, reconciled: bool = False) -> str:
    """What to keep of a 2xx answer: status, Location, ETag and a FHIR body if small."""
    keep: dict[str, Any] = {"status": result.status}
    if reconciled:
        keep["reconciled"] = True
    for h in ("location", "etag", "last-modified"):
        if h in result.headers:
            keep[h] = result.headers[h]
    if result.body and len(result.body) <= 1_000_000:
        with contextlib.suppress(ValueError):
            keep["body"] = orjson.loads(result.body)
    return orjson.dumps(keep).decode()


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
