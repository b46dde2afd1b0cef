"""Deadline reminders (截止提醒) in the archive: recorded once per deadline, person and day.

The unique key (day, worker, case, rule, deadline, referral, event) makes recording idempotent:
a second run of the job on the same day, another console on the same archive or a
restart adds nothing (``INSERT … ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive, now_iso

__all__ = ["Reminders"]

#: The columns a reminder is shown with (the 待办 page's, nothing more).
_SHOWN = ("day", "worker", "case_number", "rule", "deadline", "ref", "overdue", "provisional",
          "event")  # fmt: skip


class Reminders:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def record(self, day: str, items: Iterable[dict[str, Any]]) -> int:
        """Record each item's reminder for ``day``; the number that were new."""
        stamp = now_iso()
        rows = [
            {
                "day": day,
                "worker": str(it.get("worker") or ""),
                "case_number": str(it["case"]),
                "rule": str(it["rule"]),
                "deadline": str(it["deadline"]),
                "ref": str(it.get("referral") or ""),
                "overdue": bool(it.get("overdue")),
                "provisional": bool(it.get("provisional")),
                "event": str(it.get("event") or it["rule"])[:200],
                "created_at": stamp,
            }
            for it in items
        ]
        if not rows:
            return 0
        if self.archive.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt: Any = pg_insert(t.reminders).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(t.reminders).on_conflict_do_nothing()
        with self.archive.transaction() as conn:
            # (RETURNING gives the rows that were new: a conflict returns none)
            return len(conn.execute(stmt.returning(t.reminders.c.id), rows).all())

    def of_day(
        self,
        day: str,
        *,
        worker: str | None = None,
        cases: Collection[str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """The reminders of ``day``, overdue first, then by deadline. ``worker`` and
        ``cases`` narrow them to a person's own (theirs, or on their cases)."""
        r = t.reminders.c
        q = sa.select(*(r[c] for c in _SHOWN)).where(r.day == day)
        if worker is not None:
            mine = r.worker == worker
            if cases:
                mine = sa.or_(mine, r.case_number.in_(list(cases)))
            q = q.where(mine)
        q = q.order_by(r.overdue.desc(), r.deadline, r.case_number, r.rule).limit(limit)
        with self.archive.engine.connect() as conn:
            return [dict(x) for x in conn.execute(q).mappings()]

    def count(self) -> int:
        with self.archive.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(t.reminders)).scalar_one()
        return int(n)
