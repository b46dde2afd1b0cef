"""Sync runs and delisting as a list sync asks about them (同步记录与除名).

What a ``--full`` list would delist is counted before anything is written
(the guard of :mod:`interop.core.delisting`); a run left ``running`` by a
process that was killed is marked ``interrupted`` by the next run; the last
runs are listed by ``interop sync --status``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from typing import Any

import sqlalchemy as sa

from interop.store import schema as t
from interop.store.children import copy_versions
from interop.store.stamps import now_iso

#: The run statuses: ``running`` while under way, then one of the others.
STATUSES = ("running", "completed", "failed", "refused", "interrupted")
#: Who ran a run started without a person's token (a scheduled job).
UNATTENDED = "unattended"
#: The message of a run found ``running`` when the next one began.
LEFT_RUNNING = "the process ended before the run finished (found by the next run)"


def started_now() -> str:
    """A run's start time, to the microsecond: runs started within a second stay in order."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def delisting(conn: sa.Connection, seen: Container[int]) -> tuple[int, int]:
    """``(would be delisted, listed)``: the listed children a full list not naming them
    would delist (``seen``: the ids of the known children it names), and how many are listed."""
    c = t.children.c
    would = listed = 0
    for (child_id,) in conn.execute(sa.select(c.id).where(c.status == "listed")):
        listed += 1
        if child_id not in seen:
            would += 1
    return would, listed


def mark_interrupted(conn: sa.Connection, *, stamp: str, message: str) -> int:
    """Mark every run still ``running`` as ``interrupted``; how many were."""
    r = t.sync_runs.c
    result = conn.execute(
        t.sync_runs.update()
        .where(r.status == "running")
        .values(status="interrupted", finished_at=stamp, message=message)
    )
    return int(result.rowcount or 0)


def name_actor(conn: sa.Connection, run_id: str, actor: str) -> None:
    """Record who runs ``run_id`` (a staff id, or :data:`UNATTENDED`)."""
    r = t.sync_runs.c
    conn.execute(t.sync_runs.update().where(r.run_id == run_id).values(actor=actor))


def recent(conn: sa.Connection, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` runs, newest first."""
    r = t.sync_runs.c
    rows = conn.execute(
        sa.select(
            r.run_id, r.source, r.status, r.full_list, r.started_at, r.finished_at, r.rows,
            r.new, r.changed, r.unchanged, r.delisted, r.quarantined, r.message, r.actor,
        )
        .order_by(r.started_at.desc(), r.run_id)
        .limit(limit)
    ).mappings()  # fmt: skip
    return [dict(row) for row in rows]


def begin(
    conn: sa.Connection, run_id: str, source: str, mapping: str, *, partner: str | None, full: bool
) -> None:
    """Record a new run ``running``; a run still ``running`` was left by a killed process:
    now ``interrupted``."""
    mark_interrupted(conn, stamp=now_iso(), message=LEFT_RUNNING)
    conn.execute(
        t.sync_runs.insert(),
        [
            {
                "run_id": run_id,
                "source": source,
                "mapping": mapping,
                "partner": partner,
                "full_list": full,
                "status": "running",
                "started_at": started_now(),
                "rows": 0,
                "new": 0,
                "changed": 0,
                "unchanged": 0,
                "delisted": 0,
                "quarantined": 0,
            }
        ],
    )


def finish(
    conn: sa.Connection,
    run_id: str,
    *,
    status: str,
    full: bool,
    message: str | None,
    seen: Container[int],
    rows: int,
    unchanged: int,
) -> int:
    """Close a run; with ``full``, mark listed children not in ``seen`` delisted (how many).

    ``seen`` holds the ids of the known children the list named; children
    added by this run are on it by definition. ``rows`` and ``unchanged``
    are added to the run's counters (rows the batches did not carry).
    """
    delisted = 0
    if full and status == "completed":
        c = t.children.c
        gone = [
            (child_id, version)
            for child_id, version in conn.execute(
                sa.select(c.id, c.version).where(c.status == "listed", c.first_run != run_id)
            )
            if child_id not in seen
        ]
        stamp = now_iso()
        for i in range(0, len(gone), 500):
            chunk = gone[i : i + 500]
            conn.execute(
                t.children.update()
                .where(c.id == sa.bindparam("cid"))
                .values(status="delisted", version=sa.bindparam("v"), changed_run=run_id),
                [{"cid": cid, "v": v + 1} for cid, v in chunk],
            )
            copy_versions(conn, run_id, stamp, [(cid, v, v + 1) for cid, v in chunk])
        delisted = len(gone)
    r = t.sync_runs.c
    conn.execute(
        t.sync_runs.update()
        .where(r.run_id == run_id)
        .values(
            status=status,
            finished_at=now_iso(),
            delisted=delisted,
            message=message,
            rows=r.rows + rows,
            unchanged=r.unchanged + unchanged,
        )
    )
    return delisted


def get(conn: sa.Connection, run_id: str) -> dict[str, Any] | None:
    """One run, every column, or None."""
    row = (
        conn.execute(sa.select(t.sync_runs).where(t.sync_runs.c.run_id == run_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def quarantined(conn: sa.Connection, run_id: str) -> list[dict[str, Any]]:
    """The rows a run set aside (quarantine), in list order."""
    rows = conn.execute(
        sa.select(t.quarantine)
        .where(t.quarantine.c.run_id == run_id)
        .order_by(t.quarantine.c.row, t.quarantine.c.id)
    ).mappings()
    return [dict(r) for r in rows]
