"""Sync runs and delisting as a list sync asks about them (同步记录与除名).

What a ``--full`` list would delist is counted before anything is written
(the guard of :mod:`interop.inbound.guard`); a run left ``running`` by a
process that was killed is marked ``interrupted`` by the next run; the last
runs are listed by ``interop sync --status``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from interop.store import schema as t

if TYPE_CHECKING:
    from interop.store.archive import Archive

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


def name_actor(archive: Archive, run_id: str, actor: str) -> None:
    """Record who runs ``run_id`` (a staff id, or :data:`UNATTENDED`)."""
    r = t.sync_runs.c
    with archive.transaction() as conn:
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
