"""``cases due``: the open deadlines of every case (DL-01..DL-17), earliest first.

Listed children keep the start deadline worked out when their list was synced
(``cases`` table); every other case's deadlines come from its latest record
(:class:`~interop.core.casedeadlines.CaseDeadlines`), the referral loop's clocks
included. Other parts add their own items through :data:`EXTRA_SOURCES`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interop.caserecord import build_part
from interop.core.casedeadlines import CaseDeadlines, DueItem, ReferralClock
from interop.core.record import CaseRecord
from interop.core.workdays import CHINA_TZ, WorkCalendar, end_of_day
from interop.store import Archive
from interop.store.casework import CaseWork

#: Further sources of due items (the seam for other parts): (archive, now, until) → items
#: shaped like these (``case``, ``rule``, ``deadline``, ``overdue`` …).
DueSource = Callable[[Archive, dt.datetime, str | None], list[dict[str, Any]]]


def _referral_items(archive: Archive, now: dt.datetime, until: str | None) -> list[dict[str, Any]]:
    # Referrals handed over and not accepted in time, and anomalies at the hospital
    # (interop.referral); the follow-up after discharge is DL-17 of the case's own deadlines.
    from interop.referral.lifecycle import referral_due_items

    items = referral_due_items(archive, now, until)
    return [it for it in items if it["rule"] != "referral-follow-up"]


def _warning_items(archive: Archive, now: dt.datetime, until: str | None) -> list[dict[str, Any]]:
    # Warnings of case steps still open: a supervisor who did not record the step signs
    # them off (interop case signoff); dated the day the step was recorded.
    from interop.store.case_warnings import CaseWarnings

    return [
        {
            "case": w["case_number"],
            "rule": "sign-off",
            "event": f"warning {w['rule']} of step {w['action']} (version {w['version']})",
            "start": w["recorded_at"][:10],
            "deadline": w["recorded_at"][:10],
            "due_at": None,
            "provisional": False,
            "overdue": False,
            "warning": w["id"],
            "warning_rule": w["rule"],
            "author": w["author"],
        }
        for w in CaseWarnings(archive).open()
    ]


EXTRA_SOURCES: list[DueSource] = [_referral_items, _warning_items]


@dataclass(frozen=True, slots=True)
class DueFilter:
    """Which items to list: within N days, of a worker, a risk level, a rule."""

    within: int | None = None
    worker: str | None = None
    risk: str | None = None
    rule: str | None = None

    def keep(self, item: dict[str, Any], until: str | None) -> bool:
        if until is not None and item["deadline"] > until:
            return False
        if self.worker is not None and item.get("worker") != self.worker:
            return False
        if self.risk is not None and item.get("risk") != self.risk:
            return False
        return self.rule is None or item.get("rule") == self.rule


def referral_clocks(work: CaseWork) -> dict[str, list[ReferralClock]]:
    out: dict[str, list[ReferralClock]] = {}
    for r in work.referral_rows():
        follow = json.loads(r["follow_up"]) if r["follow_up"] else []
        clock = ReferralClock(
            r["case_number"],
            r["trigger"],
            r["state"],
            r["created_at"],
            r["sent_at"],
            r["finished_at"],
            follow,
        )
        out.setdefault(clock.case, []).append(clock)
    return out


def record_of(body: dict[str, Any]) -> CaseRecord | None:
    """The typed record of a stored body, or None when it is not a whole record."""
    try:
        rec: CaseRecord = build_part(CaseRecord, body)
    except (TypeError, KeyError, ValueError):
        return None  # a partial record (no deadlines beyond the list's)
    return rec


def due_items(
    archive: Archive, now: dt.datetime, calendar: WorkCalendar, filters: DueFilter
) -> list[dict[str, Any]]:
    """Every open deadline that passes ``filters``, earliest first.

    A case's own deadlines are those stored with its latest version (worked out when
    it was written); a case without them (an archive from before, or one with
    referrals, whose clocks move on their own) has its record built and worked out now.
    """
    until = None
    if filters.within is not None:
        until = (now.astimezone(CHINA_TZ).date() + dt.timedelta(days=filters.within)).isoformat()
    items: list[dict[str, Any]] = []
    work = CaseWork(archive)
    for row in archive.waiting_cases(until=until):
        due = dt.date.fromisoformat(row["deadline_due"])
        items.append(
            {
                "case": row["case_number"],
                "rule": row["deadline_rule"],
                "event": "listed (first session due)",
                "start": row["deadline_start"],
                "deadline": due.isoformat(),
                "due_at": None,
                "provisional": bool(row["provisional"]),
                "overdue": now > end_of_day(due),
                "worker": None,
                "risk": row["risk_level"],
            }
        )
    deadlines = CaseDeadlines(calendar)
    clocks = referral_clocks(work)
    managers: dict[str, str | None] = {}
    for number, state, current, stored in work.due_rows():
        if stored is None and state == "listed":
            continue  # a list entry: its start deadline is the one above
        if current and stored is not None and number not in clocks:
            found = [DueItem.from_json(d) for d in stored]
        else:
            latest = work.latest(number)
            rec = record_of(latest[1]) if latest else None
            if rec is None:
                continue
            found = deadlines.items(rec, clocks.get(number, []))
        for d in found:
            managers[number] = d.worker
            items.append(d.as_dict(now))
    for source in EXTRA_SOURCES:
        for it in source(archive, now, until):
            it.setdefault("worker", managers.get(it["case"]))
            items.append(it)
    kept = [it for it in items if filters.keep(it, until)]
    kept.sort(key=lambda it: (it["deadline"], it["case"], it["rule"]))
    return kept
