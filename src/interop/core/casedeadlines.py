"""时限 — every deadline of the standard still open on a case (DL-01..DL-17, §1.9.2).

Each open deadline is a :class:`DueItem`: the rule, the event that started its
clock, the last day (working days per §1.9.1 with 调休, or calendar days, or hours,
as the standard or the catalogue's proposal says), whether the calendar for that
year is published (else *provisional*), and whether it is overdue. A deadline that
has been met is not listed.

DL-15 (daily backup) belongs to the deployment, not to a case: it is not listed.
Referral clocks (DL-07 review, DL-10, DL-17) read the referral loop's records,
passed in as :class:`ReferralClock` so this module needs no database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from interop.core.casechecks import LIFE_DANGER, active_plan
from interop.core.casestates import SERVING_STATES, TERMINAL_STATES
from interop.core.deadlines import START_RULES, start_deadline
from interop.core.record import CaseRecord
from interop.core.workdays import CHINA_TZ, WorkCalendar, end_of_day

#: Rules whose items depend on the referral loop's records, not the case record alone.
REFERRAL_RULES = frozenset({"DL-07", "DL-08", "DL-10", "DL-17"})

WD = "working days"
DAYS = "calendar days"
HOURS = "hours"

#: DL-10: feedback from the receiver within this many working days of the hand-over.
FEEDBACK_WD = 10
#: DL-16: a qualification review every 12 months.
REVIEW_MONTHS = 12
#: Service types that count as a follow-up after discharge (DL-17).
FOLLOW_UP_TYPES = frozenset({"follow-up", "post-discharge-follow-up"})


@dataclass(frozen=True, slots=True)
class DueItem:
    """An open deadline of a case."""

    case: str
    rule: str
    event: str  # the start event, in plain words
    start: dt.date
    due: dt.date
    unit: str  # WD | DAYS | HOURS
    limit: int
    provisional: bool
    worker: str | None
    risk: str | None
    due_at: dt.datetime | None = None  # hour-based limits (DL-09)

    def overdue(self, now: dt.datetime) -> bool:
        if self.due_at is not None:
            return now > self.due_at
        return now > end_of_day(self.due)

    def to_json(self) -> dict[str, Any]:
        """What is stored with the case's version (``from_json`` reads it back)."""
        return {
            "case": self.case,
            "rule": self.rule,
            "event": self.event,
            "start": self.start.isoformat(),
            "due": self.due.isoformat(),
            "unit": self.unit,
            "limit": self.limit,
            "provisional": self.provisional,
            "worker": self.worker,
            "risk": self.risk,
            "due_at": self.due_at.isoformat() if self.due_at else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DueItem:
        return cls(
            d["case"],
            d["rule"],
            d["event"],
            dt.date.fromisoformat(d["start"]),
            dt.date.fromisoformat(d["due"]),
            d["unit"],
            d["limit"],
            d["provisional"],
            d["worker"],
            d["risk"],
            dt.datetime.fromisoformat(d["due_at"]) if d["due_at"] else None,
        )

    def as_dict(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "case": self.case,
            "rule": self.rule,
            "event": self.event,
            "start": self.start.isoformat(),
            "deadline": self.due.isoformat(),
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "limit": f"{self.limit} {self.unit}",
            "provisional": self.provisional,
            "overdue": self.overdue(now),
            "worker": self.worker,
            "risk": self.risk,
        }


@dataclass(frozen=True, slots=True)
class ReferralClock:
    """What the referral loop knows of one referral (dates are ISO date-times or None)."""

    case: str
    trigger: str
    state: str
    created_at: str
    sent_at: str | None
    finished_at: str | None
    follow_up: list[dict[str, Any]]


def _day(value: str) -> dt.date:
    if "T" in value:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(CHINA_TZ)
        return moment.date()
    return dt.date.fromisoformat(value[:10])


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (nxt - dt.timedelta(days=1)).day))


class CaseDeadlines:
    """Computes the open deadlines of case records against one work calendar."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar

    def _wd(self, rec: CaseRecord, rule: str, event: str, start: dt.date, n: int) -> DueItem:
        due, provisional = self.calendar.add_workdays(start, n)
        return DueItem(
            rec.case.case_number,
            rule,
            event,
            start,
            due,
            WD,
            n,
            provisional,
            rec.case.care_manager,
            rec.case.risk_level,
        )

    def _days(self, rec: CaseRecord, rule: str, event: str, start: dt.date, n: int) -> DueItem:
        return DueItem(
            rec.case.case_number,
            rule,
            event,
            start,
            start + dt.timedelta(days=n),
            DAYS,
            n,
            False,
            rec.case.care_manager,
            rec.case.risk_level,
        )

    def items(self, rec: CaseRecord, referrals: Sequence[ReferralClock] = ()) -> list[DueItem]:
        """Every open deadline of ``rec``, earliest first (the referral loop's clocks of
        the case in ``referrals``; without them, what the record alone shows)."""
        state = rec.case.state
        if state in ("archived-handed-over", "entered-in-error"):
            return []
        out: list[DueItem] = []
        out += self._handover(rec)
        if state in TERMINAL_STATES:
            return sorted(out, key=lambda d: (d.due, d.rule))
        out += self._start(rec)
        out += self._plan_change(rec)
        out += self._requests(rec)
        out += self._referrals(rec, [r for r in referrals if r.case == rec.case.case_number])
        out += self._crises(rec)
        if state in SERVING_STATES:
            out += self._gap(rec)
            out += self._midterm(rec)
        if state in SERVING_STATES or state == "paused":
            out += self._contacts(rec)
        out += self._qualification(rec)
        return sorted(out, key=lambda d: (d.due, d.rule))

    # DL-01, DL-02, DL-03 (7.3, G-04, G-06): start of service, met by the first session.
    def _start(self, rec: CaseRecord) -> list[DueItem]:
        c = rec.case
        if rec.finished_sessions or c.state == "listed" or not c.list_received_date:
            return []  # a listed case's start deadline is kept with the list (interop sync)
        # The case's own agreement (T-07); the programme's configured date applies to
        # listed children only (their deadline is worked out at sync).
        agreement = _day(c.agreement_date) if c.agreement_date else None
        d = start_deadline(
            c.risk_level, _day(c.list_received_date), self.calendar, agreement_date=agreement
        )
        if d is None:
            return []
        event = {
            "DL-01": "project agreement signed (first session due)",
            "DL-02": "medium risk received (first session due)",
            "DL-03": "high risk received (first session due)",
        }[d.rule]
        return [self._wd(rec, d.rule, event, d.start, START_RULES[d.rule][1])]

    # DL-04 (7.2.2, 7.4.1): a plan change triggered by a mid-term outcome adjust-plan.
    def _plan_change(self, rec: CaseRecord) -> list[DueItem]:
        out = []
        for m in rec.midterms:
            if m.outcome != "adjust-plan":
                continue
            done = any(p.created >= m.date and p.status in ("active", "revoked") for p in rec.plans)
            if not done:
                out.append(self._wd(rec, "DL-04", "mid-term: adjust the plan", _day(m.date), 5))
        return out

    # DL-05, DL-06 (7.4.2, G-07): report a request in 2 wd, complete it 5 wd after.
    def _requests(self, rec: CaseRecord) -> list[DueItem]:
        out = []
        for a in rec.adjustments:
            if a.reported is None:
                out.append(
                    self._wd(rec, "DL-05", f"{a.type} request received", _day(a.received), 2)
                )
            elif a.completed is None:
                out.append(
                    self._wd(rec, "DL-06", f"{a.type} request reported", _day(a.reported), 5)
                )
        return out

    # DL-07, DL-08 (6.2.1, 7.1.2, 7.4.1; G-03), DL-10 and DL-17 (the referral loop).
    def _referrals(self, rec: CaseRecord, refs: Sequence[ReferralClock]) -> list[DueItem]:
        out: list[DueItem] = []
        triggers: list[tuple[str, dt.date, bool]] = []
        if rec.intake is not None:
            for rt in rec.intake.referral_triggers:
                triggers.append((rt, _day(rec.intake.assessment_date), rt == "RT-01"))
        for m in rec.midterms:
            if m.outcome in ("refer", "refer-immediately"):
                rt = "RT-06" if m.outcome == "refer" else "RT-07"
                triggers.append((rt, _day(m.date), m.outcome == "refer-immediately"))
        for rt, day, immediate in triggers:
            started = any(_day(r.created_at) >= day for r in refs)
            crisis = immediate and any(_day(c.detected_at) >= day for c in rec.crises)
            if started or crisis:
                continue
            if immediate:
                out.append(self._days(rec, "DL-08", f"{rt}: refer immediately", day, 0))
            else:
                out.append(self._wd(rec, "DL-07", f"{rt}: apply for the referral", day, 1))
        for r in refs:
            if r.state in ("applied", "under-review"):
                out.append(self._wd(rec, "DL-07", "referral review", _day(r.created_at), 2))
            if r.state == "handed-over" and r.sent_at:
                out.append(
                    self._wd(rec, "DL-10", "referral handed over", _day(r.sent_at), FEEDBACK_WD)
                )
            if r.finished_at and r.follow_up:
                finished = _day(r.finished_at)
                done = sum(
                    1
                    for s in rec.finished_sessions
                    if s.service_type in FOLLOW_UP_TYPES and _day(s.start) >= finished
                )
                for item in r.follow_up[done : done + 1]:
                    due = dt.date.fromisoformat(item["due"])
                    out.append(
                        DueItem(
                            rec.case.case_number,
                            "DL-17",
                            "discharged: follow-up",
                            finished,
                            due,
                            WD if item.get("kind") == "first" else DAYS,
                            5 if item.get("kind") == "first" else 31,
                            bool(item.get("provisional")),
                            rec.case.care_manager,
                            rec.case.risk_level,
                        )
                    )
        return out

    # DL-09 (7.6.1, 6.1.1): report a crisis to the commissioner in 24 h (2 h, life danger).
    def _crises(self, rec: CaseRecord) -> list[DueItem]:
        out = []
        for c in rec.crises:
            if c.reported_to_commissioner_at is not None or c.status == "resolved":
                continue
            hours = 2 if c.type in LIFE_DANGER else 24
            detected = dt.datetime.fromisoformat(c.detected_at)
            due_at = detected + dt.timedelta(hours=hours)
            out.append(
                DueItem(
                    rec.case.case_number,
                    "DL-09",
                    f"crisis ({c.type}) detected: report to the commissioner",
                    _day(c.detected_at),
                    due_at.astimezone(CHINA_TZ).date(),
                    HOURS,
                    hours,
                    False,
                    rec.case.care_manager,
                    rec.case.risk_level,
                    due_at,
                )
            )
        return out

    # DL-11 (7.3, CL-06): the next session a week after the last (monthly when reduced).
    def _gap(self, rec: CaseRecord) -> list[DueItem]:
        done = rec.finished_sessions
        if not done:
            return []
        last = _day(max(s.start for s in done))
        plan = active_plan(rec)
        days = 7 if plan is None or plan.frequency_per_week >= 1 else 31
        return [self._days(rec, "DL-11", "last session finished", last, days)]

    # DL-12 (7.4.1, G-11): mid-term within 5 wd of half the sessions or the plan midpoint.
    def _midterm(self, rec: CaseRecord) -> list[DueItem]:
        plan = active_plan(rec)
        if plan is None or any(m.date >= plan.created for m in rec.midterms):
            return []
        half = math.ceil(plan.planned_session_count / 2)
        starts = sorted(_day(s.start) for s in rec.finished_sessions)
        begin, end = _day(plan.period_start), _day(plan.period_end)
        candidates = [begin + (end - begin) / 2]
        if len(starts) >= half:
            candidates.append(starts[half - 1])
        start = min(candidates)
        return [self._wd(rec, "DL-12", "mid-service reached", start, 5)]

    # DL-13 (7.3, G-27): regular contact with family, school and village, monthly each.
    def _contacts(self, rec: CaseRecord) -> list[DueItem]:
        done = rec.finished_sessions
        if not done:
            return []
        since = _day(min(s.start for s in done))
        parties = ["family", "village"]
        if rec.child.school is not None and rec.child.school.enrolled:
            parties.insert(1, "school")
        out = []
        for party in parties:
            days = [_day(c.date) for c in rec.contacts if c.party == party]
            last = max([since, *days])
            due = add_months(last, 1)
            out.append(
                DueItem(
                    rec.case.case_number,
                    "DL-13",
                    f"last contact with {party}",
                    last,
                    due,
                    DAYS,
                    (due - last).days,
                    False,
                    rec.case.care_manager,
                    rec.case.risk_level,
                )
            )
        return out

    # DL-14 (9.4.2): the archive handed over by the end of the project agreement.
    def _handover(self, rec: CaseRecord) -> list[DueItem]:
        c = rec.case
        if not c.agreement_end or c.state == "archived-handed-over":
            return []
        start = _day(c.agreement_date) if c.agreement_date else _day(c.agreement_end)
        end = _day(c.agreement_end)
        return [
            DueItem(
                c.case_number,
                "DL-14",
                "project agreement ends: hand over the archive",
                start,
                end,
                DAYS,
                (end - start).days,
                False,
                c.care_manager,
                c.risk_level,
            )
        ]

    # DL-16 (10.1.3): the case manager's qualification reviewed every 12 months.
    def _qualification(self, rec: CaseRecord) -> list[DueItem]:
        staff = next((s for s in rec.staff if s.id == rec.case.care_manager), None)
        if staff is None or not staff.qualification_reviewed:
            return []
        last = _day(staff.qualification_reviewed)
        due = add_months(last, REVIEW_MONTHS)
        return [
            DueItem(
                rec.case.case_number,
                "DL-16",
                f"qualification review of {staff.id}",
                last,
                due,
                DAYS,
                (due - last).days,
                False,
                staff.id,
                rec.case.risk_level,
            )
        ]
