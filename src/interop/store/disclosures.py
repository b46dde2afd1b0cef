"""Disclosures and their break-glass reviews as stored (信息提供记录, 9.3; §4.7).

The decisions (who may approve, what may leave) are :mod:`interop.privacy`'s;
here are only the statements. A decision or a review is written only while
the row is still in the state it was read in: the caller learns whether it
was (someone else may have decided meanwhile).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from interop.store import schema as t

__all__ = [
    "add",
    "add_review",
    "break_glass_rows",
    "complete_review",
    "decide",
    "get",
    "ids",
    "record_delivery",
]


def add(conn: sa.Connection, row: dict[str, Any]) -> None:
    """A new disclosure (every column of ``disclosures`` the request knows)."""
    conn.execute(t.disclosures.insert(), [row])


def add_review(conn: sa.Connection, row: dict[str, Any]) -> None:
    """The after-the-fact review a break-glass disclosure is due (4.7)."""
    conn.execute(t.reviews.insert(), [row])


def get(
    conn: sa.Connection, disclosure_id: str
) -> tuple[dict[str, Any], tuple[str | None, str | None] | None] | None:
    """A disclosure's row and its review ``(due, outcome)`` if it has one; None if unknown."""
    row = (
        conn.execute(sa.select(t.disclosures).where(t.disclosures.c.id == disclosure_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    r = t.reviews.c
    review = conn.execute(
        sa.select(r.due, r.outcome).where(r.disclosure_id == disclosure_id)
    ).first()
    return dict(row), None if review is None else (review[0], review[1])


def ids(
    conn: sa.Connection, *, case_number: str | None = None, status: str | None = None
) -> list[str]:
    """Disclosure ids in the order they were made, of one case and/or one status."""
    c = t.disclosures.c
    q = sa.select(c.id).order_by(c.created_at, c.id)
    if case_number is not None:
        q = q.where(c.case_number == case_number)
    if status is not None:
        q = q.where(c.status == status)
    return [r[0] for r in conn.execute(q)]


def decide(
    conn: sa.Connection,
    disclosure_id: str,
    *,
    status: str,
    approver: str,
    stamp: str,
    reason: str | None,
    reasons: str,
) -> bool:
    """Approve or reject a pending disclosure; False when it was no longer pending."""
    c = t.disclosures.c
    done = conn.execute(
        t.disclosures.update()
        .where(c.id == disclosure_id, c.status == "pending")
        .values(
            status=status,
            approver=approver,
            decided_at=stamp,
            decision_reason=reason,
            reasons=reasons,
        )
    )
    return done.rowcount == 1


def complete_review(
    conn: sa.Connection, disclosure_id: str, *, outcome: str, reviewer: str, stamp: str
) -> bool:
    """Complete a requested break-glass review; False when it was no longer requested."""
    r = t.reviews.c
    done = conn.execute(
        t.reviews.update()
        .where(r.disclosure_id == disclosure_id, r.status == "requested")
        .values(status="completed", outcome=outcome, reviewer=reviewer, completed_at=stamp)
    )
    return done.rowcount == 1


def record_delivery(
    conn: sa.Connection, disclosure_id: str, *, delivery: str, delivered_at: str | None
) -> None:
    """What the partner answered (JSON); ``delivered_at`` when it took the disclosure."""
    values: dict[str, Any] = {"delivery": delivery}
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    conn.execute(t.disclosures.update().where(t.disclosures.c.id == disclosure_id).values(values))


def break_glass_rows(
    conn: sa.Connection, *, since: str | None = None, until: str | None = None
) -> list[tuple[Any, ...]]:
    """Every approved break-glass disclosure with its review, oldest first: id, case,
    partner, requester, reason code, made at, review due, status, outcome, reviewer."""
    d, r = t.disclosures.c, t.reviews.c
    q = (
        sa.select(
            d.id,
            d.case_number,
            d.partner,
            d.requester,
            d.reason_code,
            d.created_at,
            r.due,
            r.status,
            r.outcome,
            r.reviewer,
        )
        .join(t.reviews, r.disclosure_id == d.id, isouter=True)
        .where(d.break_glass.is_(True), d.status == "approved")
        .order_by(d.created_at)
    )
    if since:
        q = q.where(d.created_at >= since)
    if until:
        q = q.where(d.created_at < until)
    return [tuple(row) for row in conn.execute(q)]
