"""发件箱 — the outbox tables: every outbound delivery, its attempts, paused partners.

The SQL of the durable outbox (:mod:`interop.exchange.outbox` drives it). A
delivery is one row of ``outbox``; each attempt a row of ``outbox_attempts``;
a paused partner a row of ``outbox_partners``. Claiming is one statement per
claim: on PostgreSQL the chosen rows are locked with ``FOR UPDATE SKIP LOCKED``
inside it (each worker takes rows no other worker holds), on SQLite the
``UPDATE`` takes the database's write lock, so choice and claim are atomic
between processes; ``RETURNING`` gives the claimed rows back without another
read. Times are epoch seconds (floats).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive, now_iso

__all__ = ["OutboxItem", "OutboxRows", "iso"]

#: Statuses in which a delivery is still to be made.
OPEN = ("pending", "sending", "uncertain")


def iso(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 (UTC, milliseconds); None stays None."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One delivery as stored (a row of ``outbox``)."""

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

    @classmethod
    def from_row(cls, r: Any) -> OutboxItem:
        m = r._mapping
        return cls(**{**m, "payload": bytes(m["payload"]), "priority": m["priority"] or 0})

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
            "next_attempt_at": iso(self.next_attempt_at) if self.status in OPEN else None,
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


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt as logged in ``outbox_attempts``."""

    worker: str
    started: float
    seconds: float
    outcome: str  # delivered | reconciled | retry | uncertain | dead | released | lease-lost
    status: int | None = None
    error: str | None = None


_o = t.outbox.c
_p = t.outbox_partners.c
_a = t.outbox_attempts.c
#: Claim order: crisis rows first, then the longest waiting.
_ORDER = (_o.priority.desc(), _o.next_attempt_at, _o.id)


def _paused() -> sa.Select[Any]:
    return sa.select(_p.partner).where(_p.paused.is_(True))


class OutboxRows:
    """The outbox tables of an open :class:`~interop.store.archive.Archive`."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    # -- writing ---------------------------------------------------------------

    def insert_once(self, conn: sa.Connection, values: dict[str, Any]) -> tuple[OutboxItem, bool]:
        """Insert a delivery unless its idempotency key is known: the stored row, and
        whether it is new."""
        key = values["idempotency_key"]
        found = conn.execute(sa.select(t.outbox).where(_o.idempotency_key == key)).first()
        if found is not None:
            return OutboxItem.from_row(found), False
        payload = values["payload"]
        row = {
            "id": uuid.uuid4().hex,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": values["created_at"],
            **values,
        }
        conn.execute(t.outbox.insert(), [row])
        stored = conn.execute(sa.select(t.outbox).where(_o.id == row["id"])).one()
        return OutboxItem.from_row(stored), True

    def requeue(self, item_id: str, now: float, payload: bytes | None) -> None:
        """Queue a delivery again with fresh attempts (``payload``: new bytes)."""
        values: dict[str, Any] = {
            "status": "pending", "attempts": 0, "next_attempt_at": now,
            "lease_until": None, "claimed_by": None,
        }  # fmt: skip
        if payload is not None:
            values["payload"] = payload
            values["sha256"] = hashlib.sha256(payload).hexdigest()
        with self.archive.transaction() as conn:
            conn.execute(t.outbox.update().where(_o.id == item_id).values(**values))

    def mark(self, item_id: str, status: str, reason: str) -> bool:
        """Set a final status on a delivery not in flight; whether it was set."""
        with self.archive.transaction() as conn:
            done = conn.execute(
                t.outbox.update()
                .where(_o.id == item_id, _o.status.in_(("pending", "dead", "refused")))
                .values(status=status, last_error=reason, lease_until=None, claimed_by=None)
            )
        return done.rowcount == 1

    def set_paused(self, partner: str, paused: bool, reason: str | None) -> None:
        values = {"paused": paused, "reason": reason, "changed_at": now_iso()}
        with self.archive.transaction() as conn:
            done = conn.execute(
                t.outbox_partners.update().where(_p.partner == partner).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(t.outbox_partners.insert(), [{"partner": partner, **values}])

    # -- reading ---------------------------------------------------------------

    def get(self, item_id: str) -> OutboxItem | None:
        with self.archive.engine.connect() as conn:
            row = conn.execute(sa.select(t.outbox).where(_o.id == item_id)).first()
        return OutboxItem.from_row(row) if row is not None else None

    def items(
        self,
        *,
        status: str | None = None,
        partner: str | None = None,
        ref: str | None = None,
        kind: str | None = None,
    ) -> list[OutboxItem]:
        q = sa.select(t.outbox).order_by(_o.created_at, _o.id)
        for column, value in ((_o.status, status), (_o.partner, partner), (_o.ref, ref),
                              (_o.kind, kind)):  # fmt: skip
            if value:
                q = q.where(column == value)
        with self.archive.engine.connect() as conn:
            return [OutboxItem.from_row(r) for r in conn.execute(q)]

    def attempts(self, item_id: str) -> list[dict[str, Any]]:
        q = sa.select(t.outbox_attempts).where(_a.item_id == item_id).order_by(_a.attempt, _a.id)
        with self.archive.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def counts(self) -> dict[str, int]:
        with self.archive.engine.connect() as conn:
            q = sa.select(_o.status, sa.func.count()).group_by(_o.status)
            return {s: int(n) for s, n in conn.execute(q)}

    def paused(self) -> dict[str, str | None]:
        """Paused partners and the reason given."""
        with self.archive.engine.connect() as conn:
            q = sa.select(_p.partner, _p.reason).where(_p.paused.is_(True))
            return {name: reason for name, reason in conn.execute(q)}

    def is_paused(self, partner: str) -> bool:
        with self.archive.engine.connect() as conn:
            q = sa.select(_p.paused).where(_p.partner == partner)
            return bool(conn.execute(q).scalar_one_or_none())

    def held(self, now: float, partner: str | None) -> tuple[int, float | None]:
        """Due rows held by a live lease of some worker, and when the last lease ends."""
        q = sa.select(sa.func.count(), sa.func.max(_o.lease_until)).where(
            _o.status.in_(("sending", "uncertain")),
            _o.claimed_by.is_not(None),
            _o.lease_until >= now,
        )
        if partner:
            q = q.where(_o.partner == partner)
        with self.archive.engine.connect() as conn:
            n, until = conn.execute(q).one()
        return int(n), (float(until) if until is not None else None)

    def next_due(
        self, partner: str | None, exclude: Sequence[str], ids: Sequence[str] | None
    ) -> float | None:
        """When the next delivery of these falls due (a held row: when its lease ends)."""
        held = sa.and_(_o.lease_until.is_not(None), _o.lease_until > _o.next_attempt_at)
        when = sa.case((held, _o.lease_until), else_=_o.next_attempt_at)
        q = sa.select(sa.func.min(when)).where(
            _o.status.in_(("pending", "uncertain")), _o.partner.not_in(_paused())
        )
        q = _scope(q, partner, exclude, ids)
        with self.archive.engine.connect() as conn:
            value = conn.execute(q).scalar_one_or_none()
        return float(value) if value is not None else None

    # -- claiming and recording --------------------------------------------------

    def claim(
        self,
        *,
        worker: str,
        now: float,
        lease: float,
        limit: int,
        partner: str | None,
        exclude: Sequence[str],
        ids: Sequence[str] | None,
    ) -> tuple[list[OutboxItem], int]:
        """Claim up to ``limit`` due rows for ``worker`` until ``now + lease``.

        Rows left ``sending`` past their lease become ``uncertain`` first (their
        worker stopped mid-send); how many is the second value. One transaction.
        """
        params: dict[str, Any] = {"now": now, "until": now + lease, "worker": worker,
                                  "limit": limit}  # fmt: skip
        if partner:
            params["partner"] = partner
        if exclude:
            params["exclude"] = list(exclude)
        if ids is not None:
            params["ids"] = list(ids)
        with self.archive.transaction() as conn:
            pg = conn.dialect.name == "postgresql"
            expired = int(conn.execute(_expire_statement(), {"now": now}).rowcount)
            statement = _claim_statement(pg, bool(partner), bool(exclude), ids is not None)
            rows = conn.execute(statement, params).all()
        items = [OutboxItem.from_row(r) for r in rows]
        items.sort(key=lambda i: (-i.priority, i.next_attempt_at, i.id))
        return items, expired

    def renew(self, item_id: str, worker: str, until: float) -> bool:
        """Extend ``worker``'s lease on a row (False when the lease was lost)."""
        with self.archive.transaction() as conn:
            done = conn.execute(
                t.outbox.update()
                .where(_o.id == item_id, _o.claimed_by == worker)
                .values(lease_until=until)
            )
        return done.rowcount == 1

    def release(self, item: OutboxItem, attempt: Attempt) -> None:
        """Give a claimed row back untried (its ``sending`` becomes ``pending`` again)."""
        status = sa.case((_o.status == "sending", "pending"), else_=_o.status)
        with self.archive.transaction() as conn:
            conn.execute(
                t.outbox.update()
                .where(_o.id == item.id, _o.claimed_by == attempt.worker)
                .values(status=status, lease_until=None, claimed_by=None)
            )
            _log_attempt(conn, item, item.attempts, attempt)

    def record(self, item: OutboxItem, values: dict[str, Any], attempt: Attempt) -> bool:
        """Write an attempt's result if ``attempt.worker`` still holds the row, and log the
        attempt either way; whether the row was written (False: the lease was lost)."""
        params = {f"v_{k}": v for k, v in values.items()}
        params.update(item_id=item.id, holder=attempt.worker)
        with self.archive.transaction() as conn:
            done = conn.execute(_record_statement(tuple(sorted(values))), params)
            kept = done.rowcount == 1
            if not kept:
                attempt = Attempt(attempt.worker, attempt.started, attempt.seconds, "lease-lost",
                                  attempt.status, attempt.error)  # fmt: skip
            _log_attempt(conn, item, item.attempts + 1, attempt)
        return kept


# The claim's statements are built once per shape: a claim is made per delivery, and
# building the expression (and its cache key) cost more than running it.


@functools.cache
def _expire_statement() -> sa.Update:
    """Rows a worker left ``sending`` past its lease (it died mid-send) become uncertain."""
    return (
        t.outbox.update()
        .where(_o.status == "sending", _o.lease_until < sa.bindparam("now", type_=sa.Float))
        .values(status="uncertain", next_attempt_at=sa.bindparam("now", type_=sa.Float),
                claimed_by=None, lease_until=None,
                last_error="the worker sending it stopped before the answer was recorded")
    )  # fmt: skip


@functools.cache
def _claim_statement(pg: bool, partner: bool, exclude: bool, ids: bool) -> sa.Update:
    """One UPDATE … RETURNING that claims the due rows chosen (crisis first, then the
    longest waiting), for ``worker`` until ``until``; parameters ``now``, ``limit``,
    and ``partner`` / ``exclude`` / ``ids`` where the flags say."""
    now = sa.bindparam("now", type_=sa.Float)
    free = sa.or_(_o.lease_until.is_(None), _o.lease_until < now)
    due = sa.or_(
        sa.and_(_o.status == "pending", _o.next_attempt_at <= now),
        sa.and_(_o.status == "uncertain", _o.next_attempt_at <= now, free),
    )
    chosen = sa.select(_o.id).where(due, _o.partner.not_in(_paused()))
    if partner:
        chosen = chosen.where(_o.partner == sa.bindparam("partner"))
    if exclude:
        chosen = chosen.where(_o.partner.not_in(sa.bindparam("exclude", expanding=True)))
    if ids:
        chosen = chosen.where(_o.id.in_(sa.bindparam("ids", expanding=True)))
    chosen = chosen.order_by(*_ORDER).limit(sa.bindparam("limit", type_=sa.Integer))
    if pg:
        # Each worker takes rows no other worker holds (SQLite: the UPDATE holds the
        # database's write lock, so choice and claim are atomic between processes).
        chosen = chosen.with_for_update(skip_locked=True)
    status = sa.case((_o.status == "pending", "sending"), else_=_o.status)
    return (
        t.outbox.update()
        .where(_o.id.in_(chosen.scalar_subquery()))
        .values(status=status, lease_until=sa.bindparam("until", type_=sa.Float),
                claimed_by=sa.bindparam("worker", type_=sa.String))
        .returning(*t.outbox.c)
    )  # fmt: skip


def _scope(
    q: sa.Select[Any], partner: str | None, exclude: Sequence[str], ids: Sequence[str] | None
) -> sa.Select[Any]:
    if partner:
        q = q.where(_o.partner == partner)
    if exclude:
        q = q.where(_o.partner.not_in(list(exclude)))
    if ids is not None:
        q = q.where(_o.id.in_(list(ids)))
    return q


@functools.cache
def _record_statement(keys: tuple[str, ...]) -> sa.Update:
    """Set the columns ``keys`` (parameters ``v_<key>``) of the row ``item_id`` while
    ``holder`` still holds it."""
    return (
        t.outbox.update()
        .where(_o.id == sa.bindparam("item_id", type_=_o.id.type),
               _o.claimed_by == sa.bindparam("holder", type_=_o.claimed_by.type))
        .values({k: sa.bindparam(f"v_{k}", type_=t.outbox.c[k].type) for k in keys})
    )  # fmt: skip


@functools.cache
def _attempt_statement() -> sa.Insert:
    return t.outbox_attempts.insert()


def _log_attempt(conn: sa.Connection, item: OutboxItem, number: int, a: Attempt) -> None:
    conn.execute(
        _attempt_statement(),
        {
            "item_id": item.id,
            "attempt": number,
            "worker": a.worker,
            "started_at": a.started,
            "seconds": a.seconds,
            "outcome": a.outcome,
            "http_status": a.status,
            "error": a.error,
        },
    )
