"""转介记录 — the referral tables: referrals, their history, outcomes, hospitals' state.

The SQL of the referral loop (:mod:`interop.referral` drives it). One row per
referral in ``referrals``; every step of ours, every Task transition the
hospital made and every anomaly is an event in ``referral_events``; outcomes
fetched from the hospital are in ``referral_outcomes`` (with the case-record
version that holds each, once filed); ``referral_partners`` keeps per hospital
our Organization's reference there and the polling cursor.

Writers take the caller's connection: a referral step writes its row and its
events in one transaction of the caller's (``Archive.transaction``). Rows are
returned as plain dicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive, now_iso

__all__ = ["ReferralRows", "add_event", "insert", "mark_polled", "seen_event", "set_partner_state",
           "store_outcome", "update"]  # fmt: skip

_r = t.referrals.c
_e = t.referral_events.c
_o = t.referral_outcomes.c
_p = t.referral_partners.c


class ReferralRows:
    """The referral tables of an open :class:`~interop.store.archive.Archive` (reads)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def _all(self, q: sa.Select[Any]) -> list[dict[str, Any]]:
        with self.archive.engine.connect() as conn:
            return [dict(x) for x in conn.execute(q).mappings()]

    def get(self, referral_id: str) -> dict[str, Any] | None:
        found = self._all(sa.select(t.referrals).where(_r.id == referral_id))
        return found[0] if found else None

    def find(
        self,
        *,
        case_number: str | None = None,
        partner: str | None = None,
        state: str | None = None,
    ) -> list[dict[str, Any]]:
        q = sa.select(t.referrals).order_by(_r.created_at, _r.id)
        for column, value in ((_r.case_number, case_number), (_r.partner, partner),
                              (_r.state, state)):  # fmt: skip
            if value:
                q = q.where(column == value)
        return self._all(q)

    def open_at_hospital(
        self, steps: Iterable[str], final: Iterable[str], partner: str | None
    ) -> list[dict[str, Any]]:
        """Referrals in one of ``steps`` whose Task is not in a ``final`` status."""
        q = sa.select(t.referrals).where(
            _r.state.in_(sorted(steps)),
            sa.or_(_r.task_status.is_(None), _r.task_status.not_in(sorted(final))),
        )
        if partner:
            q = q.where(_r.partner == partner)
        return self._all(q.order_by(_r.created_at, _r.id))

    def with_task_at(self, partner: str) -> int:
        """How many of our referrals at ``partner`` have a Task id there."""
        q = sa.select(sa.func.count()).where(_r.partner == partner, _r.remote_task.is_not(None))
        with self.archive.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def events(self, referral_id: str) -> list[dict[str, Any]]:
        q = (
            sa.select(_e.at, _e.kind, _e.from_status, _e.to_status, _e.remote_version, _e.detail)
            .where(_e.referral_id == referral_id)
            .order_by(_e.id)
        )
        return self._all(q)

    def outcomes(self, referral_id: str) -> list[dict[str, Any]]:
        """The outcomes fetched for a referral (body parsed), with the case version that
        holds each (None until filed)."""
        q = (
            sa.select(
                _o.reference,
                _o.resource_type,
                _o.version,
                _o.sha256,
                _o.fetched_at,
                _o.case_version,
                _o.body,
            )
            .where(_o.referral_id == referral_id)
            .order_by(_o.id)
        )
        return [{**x, "body": orjson.loads(x["body"])} for x in self._all(q)]

    def unfiled_outcomes(self) -> list[dict[str, Any]]:
        """Outcomes not yet in their case record, with their referral's hospital and Task
        completion, oldest first."""
        q = (
            sa.select(
                _o.id,
                _o.referral_id,
                _o.case_number,
                _o.reference,
                _o.resource_type,
                _o.version,
                _o.sha256,
                _o.fetched_at,
                _o.body,
                _r.partner,
                _r.finished_at,
            )
            .join(t.referrals, _r.id == _o.referral_id)
            .where(_o.case_version.is_(None))
            .order_by(_o.id)
        )
        return self._all(q)

    def anomalies(self, referral_id: str | None = None) -> list[dict[str, Any]]:
        """Every anomaly event with its referral's case, partner and state, oldest first."""
        q = (
            sa.select(
                _e.referral_id.label("referral"),
                _r.case_number.label("case"),
                _r.partner,
                _r.state,
                _e.at,
                _e.from_status,
                _e.to_status,
                _e.remote_version,
                _e.detail,
            )
            .join_from(t.referral_events, t.referrals, _r.id == _e.referral_id)
            .where(_e.kind == "anomaly")
            .order_by(_e.id)
        )
        if referral_id is not None:
            q = q.where(_e.referral_id == referral_id)
        return self._all(q)

    def due_rows(self, closed: Iterable[str]) -> list[dict[str, Any]]:
        """The clocks of every referral not in a ``closed`` step (for ``cases due``)."""
        q = sa.select(
            _r.id, _r.case_number, _r.partner, _r.state, _r.task_status, _r.accept_due,
            _r.accept_due_provisional, _r.sent_at, _r.follow_up,
        ).where(_r.state.not_in(sorted(closed)))  # fmt: skip
        return self._all(q.order_by(_r.id))

    def partner_state(self, partner: str) -> dict[str, Any]:
        found = self._all(sa.select(t.referral_partners).where(_p.partner == partner))
        return found[0] if found else {"partner": partner}


# -- writers (in the caller's transaction) ---------------------------------------------


def insert(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(t.referrals.insert(), [row])


def update(conn: sa.Connection, referral_id: str, **values: Any) -> None:
    values["updated_at"] = now_iso()
    conn.execute(t.referrals.update().where(_r.id == referral_id).values(**values))


def mark_polled(conn: sa.Connection, referral_ids: Sequence[str], at: str) -> None:
    conn.execute(t.referrals.update().where(_r.id.in_(list(referral_ids))).values(polled_at=at))


def add_event(
    conn: sa.Connection,
    referral_id: str,
    kind: str,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    version: str | None = None,
    detail: str | None = None,
) -> None:
    conn.execute(
        t.referral_events.insert(),
        [
            {
                "referral_id": referral_id,
                "at": now_iso(),
                "kind": kind,
                "from_status": from_status,
                "to_status": to_status,
                "remote_version": version,
                "detail": detail,
            }
        ],
    )


def seen_event(
    conn: sa.Connection, referral_id: str, kind: str, version: str | None, detail: str
) -> bool:
    """Whether the same event (kind, Task version, words) was already recorded."""
    q = sa.select(sa.func.count()).where(
        _e.referral_id == referral_id,
        _e.kind == kind,
        _e.remote_version.is_(None) if version is None else _e.remote_version == version,
        _e.detail == detail,
    )
    return bool(conn.execute(q).scalar_one())


def set_partner_state(conn: sa.Connection, partner: str, **values: Any) -> None:
    done = conn.execute(t.referral_partners.update().where(_p.partner == partner).values(**values))
    if done.rowcount == 0:
        conn.execute(t.referral_partners.insert(), [{"partner": partner, **values}])


def store_outcome(
    conn: sa.Connection,
    *,
    referral_id: str,
    case_number: str,
    reference: str,
    resource_type: str,
    version: str | None,
    body: bytes,
) -> bool:
    """Keep one fetched outcome unless that version of it is kept; whether it is new."""
    exists = conn.execute(
        sa.select(sa.func.count()).where(
            _o.referral_id == referral_id,
            _o.reference == reference,
            _o.version.is_(None) if version is None else _o.version == version,
        )
    ).scalar_one()
    if exists:
        return False
    conn.execute(
        t.referral_outcomes.insert(),
        [
            {
                "referral_id": referral_id,
                "case_number": case_number,
                "reference": reference,
                "resource_type": resource_type,
                "version": version,
                "body": body.decode("utf-8"),
                "sha256": hashlib.sha256(body).hexdigest(),
                "fetched_at": now_iso(),
            }
        ],
    )
    return True


def filed(conn: sa.Connection, outcome_id: int, case_version: int) -> bool:
    """Note the case-record version that holds an outcome; False when it was filed
    already (by another process: the caller's version must then not be written)."""
    done = conn.execute(
        t.referral_outcomes.update()
        .where(_o.id == outcome_id, _o.case_version.is_(None))
        .values(case_version=case_version)
    )
    return done.rowcount == 1
