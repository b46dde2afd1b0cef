"""What the archive holds, without run ids and time stamps (存档快照).

Tests compare the archives two runs leave by it (a re-sync, a killed run
resumed, SQLite beside PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.children import entry_guardians

__all__ = ["snapshot"]


def snapshot(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Archive content without run ids and timestamps, table by table, in key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    ch = t.children.c
    out["children"] = [
        tuple(r)
        for r in conn.execute(
            sa.select(
                ch.match_key, ch.case_number, ch.status, ch.version, ch.entry_digest
            ).order_by(ch.match_key)
        )
    ]
    v = t.child_versions.c
    out["child_versions"] = [
        tuple(r)
        for r in conn.execute(
            sa.select(ch.match_key, v.version, v.status, v.entry, v.changed)
            .join(t.children, ch.id == v.child_id)
            .order_by(ch.match_key, v.version)
        )
    ]
    c = t.cases.c
    out["cases"] = [
        tuple(r)
        for r in conn.execute(
            sa.select(
                c.case_number, c.state, c.risk_level, c.deadline_rule, c.deadline_due
            ).order_by(c.case_number)
        )
    ]
    cr = t.case_records.c
    out["case_records"] = [
        tuple(r)
        for r in conn.execute(
            sa.select(cr.case_number, cr.version, cr.digest).order_by(cr.case_number, cr.version)
        )
    ]
    # The current guardians are those named by the current entry.
    out["guardians"] = [
        (key, i, name, rel, phone)
        for key, entry in conn.execute(
            sa.select(ch.match_key, v.entry)
            .join(t.children, sa.and_(ch.id == v.child_id, ch.version == v.version))
            .order_by(ch.match_key)
        )
        for i, (name, rel, phone) in enumerate(entry_guardians(orjson.loads(entry)))
    ]
    return out
