"""The children of the list as the archive knows them (名单儿童): what a sync reads.

A sync decides new / changed / unchanged from what is stored of each child
(:class:`Known`); these reads look children up by match key in
chunks of 500, with statements compiled once (:mod:`interop.store.driver`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from interop.store import peek
from interop.store import schema as t
from interop.store.driver import insert_rows, select_in
from interop.store.peek import LISTED_DIGESTS_SQL, Listed

__all__ = [
    "VERSION_COLUMNS",
    "Guardian",
    "Known",
    "child_by_resident_id",
    "copy_versions",
    "count_children",
    "cursor",
    "entry_guardians",
    "listed_digests",
    "lookup",
    "max_child_id",
]


#: A case's start deadline: (rule, start, due, provisional).
Deadline = tuple[str, str, str, bool]


@dataclass(slots=True)
class Known:
    """What the archive knows of a child, enough to decide new / changed / unchanged and
    what changed: its current list entry (JSON) and its case's start deadline, if any."""

    child_id: int
    case_number: str
    status: str
    version: int
    raw_digest: str
    entry_digest: str
    entry: str | bytes | None  # (None: no entry stored at its version)
    deadline: Deadline | None


#: A guardian as the list names them: (name, relationship, phone).
Guardian = tuple[str, str | None, str | None]


def entry_guardians(entry: dict[str, Any]) -> list[Guardian]:
    """The guardians a list entry names (the list layout has one)."""
    name = entry.get("guardian_name")
    if not name:
        return []
    return [(name, entry.get("guardian_relationship"), entry.get("guardian_phone"))]


#: The columns of ``child_versions`` in the order the sync writes them.
VERSION_COLUMNS = ("child_id", "version", "run_id", "status", "entry", "changed", "created_at")

_C, _V, _K = t.children.c, t.child_versions.c, t.cases.c
#: A child with its current entry and its case's deadline: one read, not three.
_LOOKUP = (
    sa.select(
        _C.match_key, _C.id, _C.case_number, _C.status, _C.version, _C.raw_digest,
        _C.entry_digest, _V.entry, _K.deadline_rule, _K.deadline_start, _K.deadline_due,
        _K.provisional,
    )
    .outerjoin(t.child_versions, sa.and_(_V.child_id == _C.id, _V.version == _C.version))
    .outerjoin(t.cases, _K.case_number == _C.case_number)
)  # fmt: skip


def cursor(conn: sa.Connection, partner: str) -> str | None:
    """Where the partner's feed was read up to (its cursor), if anywhere."""
    value: str | None = conn.execute(
        sa.select(t.cursors.c.cursor).where(t.cursors.c.partner == partner)
    ).scalar_one_or_none()
    return value


def max_child_id(conn: sa.Connection) -> int:
    value = conn.execute(sa.select(sa.func.max(t.children.c.id))).scalar()
    return int(value or 0)


def count_children(conn: sa.Connection) -> int:
    value = conn.execute(sa.select(sa.func.count()).select_from(t.children)).scalar()
    return int(value or 0)


def lookup(conn: sa.Connection, keys: Sequence[str]) -> dict[str, Known]:
    """Known children by match key, each with its current entry and its case's deadline
    (one query per 500 keys)."""
    out: dict[str, Known] = {}
    for i in range(0, len(keys), 500):
        for row in select_in(conn, _LOOKUP, keys[i : i + 500], _C.match_key):
            rule, start, due, provisional = row[8:]
            deadline = None if rule is None else (rule, start, due, bool(provisional))
            out[row[0]] = Known(row[1], row[2], row[3], row[4], row[5], row[6], row[7], deadline)
    return out


def listed_digests(conn: sa.Connection) -> Listed:
    """Every child's id by match key, and each listed child's by raw digest, in one read."""
    dbapi: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        return peek.listed_digests(dbapi)
    cur = dbapi.cursor()
    try:
        cur.execute(LISTED_DIGESTS_SQL)  # plain SQL: one statement, no row objects
        rows = cur.fetchall()
        return Listed.of([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    finally:
        cur.close()


def copy_versions(
    conn: sa.Connection, run_id: str, stamp: str, moves: list[tuple[int, int, int]]
) -> None:
    """For (child, from version, to version): a delisting version with the same entry."""
    if not moves:
        return
    v = t.child_versions.c
    entries = dict(
        conn.execute(
            sa.select(v.child_id, v.entry).where(
                sa.tuple_(v.child_id, v.version).in_([(cid, old) for cid, old, _ in moves])
            )
        ).all()
    )
    insert_rows(
        conn,
        t.child_versions,
        VERSION_COLUMNS,
        [
            (cid, new, run_id, "delisted", entries[cid], '["status"]', stamp)
            for cid, _old, new in moves
        ],
    )


def child_by_resident_id(conn: sa.Connection, resident_id: str) -> int | None:
    """The child with this resident ID: by its match key where the key says the ID (the
    unique index), else by the index of the others (schema v4)."""
    c = t.children.c
    for found in (
        sa.select(c.id).where(c.match_key == "k:" + resident_id, c.resident_id == resident_id),
        sa.select(c.id).where(c.resident_id == resident_id, t.ID_NOT_IN_KEY),
    ):
        child_id: int | None = conn.execute(found).scalar_one_or_none()
        if child_id is not None:
            return child_id
    return None
