"""Cases and their case records as the list and imports write them (个案与个案档案).

Each case record is kept as versions (nothing overwritten, 9.4.3); the case
row holds its state, risk and start deadline. The case steps of case work
are written by :mod:`interop.store.casework`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.children import Deadline, child_by_resident_id
from interop.store.jsontext import digest, dumps

__all__ = [
    "Deadline",
    "case_deadline",
    "case_versions",
    "import_record",
    "latest_record",
    "link_case_staff",
    "waiting_cases",
]


def case_deadline(conn: sa.Connection, case_number: str) -> Deadline | None:
    c = t.cases.c
    row = conn.execute(
        sa.select(c.deadline_rule, c.deadline_start, c.deadline_due, c.provisional).where(
            c.case_number == case_number
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return (row[0], row[1], row[2], bool(row[3]))


def waiting_cases(
    conn: sa.Connection,
    *,
    until: str | None = None,
    cases: Collection[str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Cases in the waiting state (listed, §3.1) with a deadline, earliest first: those due
    by ``until``, of ``cases``, at most ``limit`` (the due list and the console's 待办)."""
    c = t.cases.c
    q = (
        sa.select(
            c.case_number,
            c.risk_level,
            c.state,
            c.deadline_rule,
            c.deadline_start,
            c.deadline_due,
            c.provisional,
            c.received,
        )
        .where(c.state == "listed", c.deadline_due.is_not(None))
        .order_by(c.deadline_due, c.case_number)
    )
    if until is not None:
        q = q.where(c.deadline_due <= until)
    if cases is not None:
        q = q.where(c.case_number.in_(list(cases)))
    if limit is not None:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def import_record(
    conn: sa.Connection,
    case_number: str,
    body: dict[str, Any],
    *,
    state: str,
    risk_level: str | None,
    resident_id: str | None,
    deadline: Deadline | None,
    received: str | None,
    stamp: str,
) -> str:
    """Store a case record as a new version where it changed: ``new|changed|unchanged``."""
    text = dumps(body)
    d = digest(text)
    cr = t.case_records.c
    latest = conn.execute(
        sa.select(cr.version, cr.digest)
        .where(cr.case_number == case_number)
        .order_by(cr.version.desc())
        .limit(1)
    ).first()
    if latest is not None and latest[1] == d:
        return "unchanged"
    version = 1 if latest is None else latest[0] + 1
    conn.execute(
        t.case_records.insert(),
        [
            {
                "case_number": case_number,
                "version": version,
                "digest": d,
                "body": text,
                "source": "import",
                "run_id": None,
                "created_at": stamp,
            }
        ],
    )
    child_id = child_by_resident_id(conn, resident_id) if resident_id else None
    rule, start, due, prov = deadline or (None, None, None, False)
    values = {
        "state": state,
        "risk_level": risk_level,
        "received": received,
        "deadline_rule": rule,
        "deadline_start": start,
        "deadline_due": due,
        "provisional": prov,
        "version": version,
        "updated_at": stamp,
    }
    done = conn.execute(
        t.cases.update().where(t.cases.c.case_number == case_number).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(
            t.cases.insert(),
            [{"case_number": case_number, "child_id": child_id, **values}],
        )
    link_case_staff(conn, case_number, body)
    return "new" if latest is None else "changed"


def case_versions(conn: sa.Connection, case_number: str) -> list[dict[str, Any]]:
    """Every version of a case record, oldest first."""
    cr = t.case_records.c
    rows = conn.execute(
        sa.select(cr.version, cr.body, cr.source)
        .where(cr.case_number == case_number)
        .order_by(cr.version)
    )
    return [{"version": v, "body": orjson.loads(b), "source": s} for v, b, s in rows]


def link_case_staff(conn: sa.Connection, case_number: str, body: dict[str, Any]) -> None:
    """Who is staff on the case now (``case_staff``: a worker's lists are one query)."""
    conn.execute(t.case_staff.delete().where(t.case_staff.c.case_number == case_number))
    links = {
        str(s["id"]): str(s.get("role") or "")
        for s in body.get("staff") or ()
        if isinstance(s, dict) and s.get("id")
    }
    if links:
        conn.execute(
            t.case_staff.insert(),
            [{"case_number": case_number, "staff_id": i, "role": r} for i, r in links.items()],
        )


def latest_record(conn: sa.Connection, case_number: str) -> tuple[int, dict[str, Any]] | None:
    """The latest version of a case record and its body, or None when there is none."""
    cr = t.case_records.c
    row = conn.execute(
        sa.select(cr.version, cr.body)
        .where(cr.case_number == case_number)
        .order_by(cr.version.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), orjson.loads(row[1]))
