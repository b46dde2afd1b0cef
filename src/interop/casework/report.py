"""Indicators for the commissioning body (7.5.3, chapter 10) over a period.

Counts and rates only — no case numbers, names or identifiers (§4.6 column CA, A‡):
cases by state and risk; sessions delivered against planned and the cooperation
rate (配合率); start deadlines met and missed (DL-01..DL-03) and deadlines overdue
at the period's end; referrals by trigger and state; crises by type and whether
reported in time (DL-09); closures by reason, goal achievement (达成率) and plan
completion (完成率); caseloads against the limit (CL-04); rule warnings recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from interop.casework.due import record_of, referral_clocks
from interop.core.casechecks import CASELOAD_LIMIT, LIFE_DANGER, active_plan
from interop.core.casedeadlines import CaseDeadlines
from interop.core.deadlines import start_deadline
from interop.core.record import CaseRecord
from interop.core.workdays import CHINA_TZ, WorkCalendar, end_of_day
from interop.store import Archive
from interop.store.casework import CaseWork


@dataclass(frozen=True, slots=True)
class Row:
    """One figure of the report: section, item, value."""

    section: str
    item: str
    value: float | int

    def as_dict(self) -> dict[str, object]:
        return {"section": self.section, "item": self.item, "value": self.value}


def _in(day: str | None, start: dt.date, end: dt.date) -> bool:
    return day is not None and start.isoformat() <= day[:10] <= end.isoformat()


def _rate(num: int, den: int) -> float:
    return round(num / den, 4) if den else 0.0


class _Tally:
    def __init__(self, start: dt.date, end: dt.date, calendar: WorkCalendar) -> None:
        self.start, self.end, self.calendar = start, end, calendar
        self.c: Counter[tuple[str, str]] = Counter()

    def add(self, section: str, item: str, n: int = 1) -> None:
        self.c[(section, item)] += n

    def case(self, rec: CaseRecord) -> None:
        c = rec.case
        self.add("cases by state", c.state)
        self.add("cases by risk", c.risk_level or "unknown")
        self.add("cases by state and risk", f"{c.state}/{c.risk_level or 'unknown'}")
        self.sessions(rec)
        self.start_deadline(rec)
        for x in rec.crises:
            if _in(x.detected_at, self.start, self.end):
                self.add("crises", f"detected: {x.type}")
                hours = 2 if x.type in LIFE_DANGER else 24
                reported = x.reported_to_commissioner_at
                limit = dt.datetime.fromisoformat(x.detected_at) + dt.timedelta(hours=hours)
                on_time = reported is not None and dt.datetime.fromisoformat(reported) <= limit
                self.add(
                    "crises", "reported in time (DL-09)" if on_time else "reported late or not"
                )
        closed_on = rec.closure.date if rec.closure else c.end_date
        if c.closure_reason and _in(closed_on, self.start, self.end):
            self.add("closures by reason", c.closure_reason)
            plan = active_plan(rec)
            if plan is not None and rec.closure is not None:
                self.add("closure", "goals", len(plan.goals))
                self.add(
                    "closure",
                    "goals achieved",
                    sum(g.achievement == "achieved" for g in plan.goals),
                )
                self.add("closure", "planned sessions", plan.planned_session_count)
                self.add("closure", "finished sessions", rec.finished_session_count)
        self.add(
            "staff",
            "worker changes",
            sum(_in(w.date, self.start, self.end) for w in rec.worker_changes),
        )

    def sessions(self, rec: CaseRecord) -> None:
        for s in rec.sessions:
            if _in(s.start, self.start, self.end):
                self.add("sessions", s.attendance)
                if s.attendance == "attended":
                    self.add("sessions by location", s.location)
        plan = active_plan(rec)
        if (
            plan is not None
            and plan.period_start <= self.end.isoformat()
            and plan.period_end >= self.start.isoformat()
        ):
            self.add("sessions", "planned (active plans in the period)", plan.planned_session_count)

    def start_deadline(self, rec: CaseRecord) -> None:
        c = rec.case
        done = rec.finished_sessions
        if not done or not c.list_received_date:
            return
        first = min(s.start for s in done)[:10]
        if not _in(first, self.start, self.end):
            return
        agreement = dt.date.fromisoformat(c.agreement_date) if c.agreement_date else None
        d = start_deadline(
            c.risk_level,
            dt.date.fromisoformat(c.list_received_date[:10]),
            self.calendar,
            agreement_date=agreement,
        )
        if d is not None:
            self.add("deadlines met", d.rule) if first <= d.due.isoformat() else self.add(
                "deadlines missed", d.rule
            )


def build_report(db: str | None, start: dt.date, end: dt.date, calendar: WorkCalendar) -> list[Row]:
    """The indicators of [start, end] (both days included)."""
    tally = _Tally(start, end, calendar)
    at_end = end_of_day(end).astimezone(CHINA_TZ)
    deadlines = CaseDeadlines(calendar)
    with Archive.open(db) as archive:
        work = CaseWork(archive)
        clocks = referral_clocks(work)
        for body in work.latest_records():
            rec = record_of(body)
            if rec is None:
                tally.add("cases by state", "listed (list entry only)")
                continue
            tally.case(rec)
            for d in deadlines.items(rec, clocks.get(rec.case.case_number, [])):
                if d.overdue(at_end):
                    tally.add("deadlines overdue at the end", d.rule)
        for refs in clocks.values():
            for r in refs:
                if _in(r.created_at, start, end):
                    tally.add("referrals by trigger", r.trigger)
                    tally.add("referrals by state", r.state)
        loads = work.caseloads()
        for _, _, findings in work.step_findings(start.isoformat(), end.isoformat()):
            for f in findings:
                tally.add("rule warnings recorded", f["rule"])
    rows = [Row(s, i, n) for (s, i), n in sorted(tally.c.items())]
    sess = tally.c
    finished, missed = (
        sess[("sessions", "attended")],
        sess[("sessions", "no-show")] + sess[("sessions", "refused")],
    )
    rows.append(Row("rates", "cooperation rate (配合率)", _rate(finished, finished + missed)))
    rows.append(
        Row(
            "rates",
            "goal achievement rate (达成率)",
            _rate(sess[("closure", "goals achieved")], sess[("closure", "goals")]),
        )
    )
    rows.append(
        Row(
            "rates",
            "plan completion rate (完成率)",
            _rate(sess[("closure", "finished sessions")], sess[("closure", "planned sessions")]),
        )
    )
    rows.append(Row("caseload (CL-04)", "workers with open cases", len(loads)))
    rows.append(Row("caseload (CL-04)", "largest caseload", max(loads.values(), default=0)))
    rows.append(
        Row(
            "caseload (CL-04)",
            f"workers over {CASELOAD_LIMIT}",
            sum(n > CASELOAD_LIMIT for n in loads.values()),
        )
    )
    return rows
