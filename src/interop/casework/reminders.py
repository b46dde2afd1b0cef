"""Deadline reminders (截止提醒): the deadlines due soon and overdue, one reminder per
deadline, person and day.

The deadlines are those of ``interop cases due`` (:func:`interop.casework.due.due_items`,
the one computation); the console's reminder job calls :func:`remind` on its cadence and
the 待办 page and ``/api/reminders`` show what it recorded. Nothing leaves the machine: a
reminder is a row in the archive, holding what the 待办 page shows (case number, rule,
last day, overdue) and no name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from interop.casework.due import DueFilter, due_items
from interop.core.workdays import CHINA_TZ, WorkCalendar
from interop.store.archive import Archive
from interop.store.reminders import Reminders

__all__ = ["DEFAULT_WITHIN_DAYS", "remind", "reminder_day"]

#: "Due soon": within this many calendar days (overdue ones are always included).
DEFAULT_WITHIN_DAYS = 3


def reminder_day(now: dt.datetime) -> str:
    """The China day a reminder belongs to (the deadlines' own calendar)."""
    return now.astimezone(CHINA_TZ).date().isoformat()


def remind(
    archive: Archive,
    now: dt.datetime,
    *,
    within_days: int = DEFAULT_WITHIN_DAYS,
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """Record today's reminders of every deadline due within ``within_days`` or overdue;
    the counts (``recorded``: new this run; 0 when today's are already there)."""
    items = due_items(archive, now, calendar or WorkCalendar.load(), DueFilter(within=within_days))
    day = reminder_day(now)
    recorded = Reminders(archive).record(day, items)
    overdue = sum(1 for it in items if it.get("overdue"))
    return {
        "day": day,
        "due_soon": len(items) - overdue,
        "overdue": overdue,
        "recorded": recorded,
    }
