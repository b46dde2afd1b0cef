"""The rows of the disclosure audit log and its chain head (审计日志), as stored.

The hash chain itself (what is hashed, how a break is found) is
:mod:`interop.privacy.audit`; here are only the statements: lock the head,
add a row and move the head, read rows in chain order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from interop.store import schema as t

__all__ = ["add", "head", "lock_head", "select"]


def lock_head(conn: sa.Connection, genesis: str) -> tuple[int, str]:
    """The chain head ``(last seq, last hash)``, locked for this transaction (concurrent
    writers on PostgreSQL queue behind it); made as ``(0, genesis)`` when there is none."""
    h = t.audit_head.c
    locked = sa.select(h.seq, h.hash).where(h.id == 1).with_for_update()
    row = conn.execute(locked).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(t.audit_head.insert(), [{"id": 1, "seq": 0, "hash": genesis}])
        except sa.exc.IntegrityError:
            pass  # another writer created it first
        row = conn.execute(locked).first()
    assert row is not None
    return int(row[0]), str(row[1])


def add(conn: sa.Connection, row: dict[str, Any], *, prev_hash: str, hash_: str) -> None:
    """Append ``row`` (its ``seq`` the head's next) and move the head to it."""
    conn.execute(t.audit_log.insert(), [{**row, "prev_hash": prev_hash, "hash": hash_}])
    conn.execute(
        t.audit_head.update().where(t.audit_head.c.id == 1).values(seq=row["seq"], hash=hash_)
    )


def select(
    conn: sa.Connection,
    *,
    case_number: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Audit rows (every column) in chain order, optionally of one case, one action or a
    time span (``since`` included, ``until`` not)."""
    a = t.audit_log.c
    q = sa.select(t.audit_log).order_by(a.seq)
    if case_number is not None:
        q = q.where(a.case_number == case_number)
    if action is not None:
        q = q.where(a.action == action)
    if since is not None:
        q = q.where(a.recorded >= since)
    if until is not None:
        q = q.where(a.recorded < until)
    for row in conn.execute(q).mappings():
        yield dict(row)


def head(conn: sa.Connection) -> tuple[int, str] | None:
    """The chain head ``(last seq, last hash)`` as stored, or None."""
    h = t.audit_head.c
    row = conn.execute(sa.select(h.seq, h.hash).where(h.id == 1)).first()
    return None if row is None else (int(row[0]), str(row[1]))
