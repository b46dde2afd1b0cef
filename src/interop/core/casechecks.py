"""检查 — the checks of :mod:`interop.core.caserules`, one function per kind of step.

Each takes the case record as it will be after the step (and what the step adds)
and returns the rules it breaks; none raises. The step engine
(:mod:`interop.casework.stepper`) refuses the step when a blocking rule is broken.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from interop.core.adjustment import AdjustmentRequest, WorkerChange
from interop.core.caserules import Finding, broken
from interop.core.casestates import STATES
from interop.core.closure import Closure
from interop.core.crisis import Crisis
from interop.core.midterm import Midterm
from interop.core.plan import Plan
from interop.core.record import CaseRecord
from interop.core.session import Session
from interop.core.workdays import WorkCalendar
from interop.i18n import N_

# What the data shows, after the rule (caserules.broken): record ids, field names, counts
# and dates only. Catalogue templates, so the finding is said whole in the operator's language.
NOT_LISTED = N_("{worker}: not listed on the case")
NO_QUALIFICATION = N_("{worker}: no qualification recorded")
CARRIES = N_("{worker} already carries {count} open cases (limit {limit})")
OLDER = N_("18 or older on {date}")
MISSING = N_("missing {items}")
NO_CRISIS = N_("no crisis recorded")
NOT_SUPERVISOR = N_("not a supervisor")
PLANNED = N_("{count} planned")
RISK = N_("risk {risk}")
MINUTES_SPAN = N_("{low}–{high} minutes")
ONE_METHOD = N_("one method")
END_NOT_AFTER = N_("end not after start")
NONE_ACTIVE = N_("none active on {date}")
STAFF_COUNT = N_("{count} staff")
FIELD_MISSING = N_("{field} missing")
MINUTES = N_("{minutes} minutes")
GAP = N_("{days} days since the last session")
BIRTHDAY_18 = N_("18th birthday {date}")
NOT_A_SUPERVISOR = N_("{who} is not a supervisor")
LIMIT_HOURS = N_("limit {hours} h")
NO_CARER = N_("no reliable carer of the case named")
REPORTED_DUE = N_("reported {reported}, due {due}")
DONE_DUE = N_("done {done}, due {due}")
NO_AGREEMENT = N_("no agreement recorded")
NO_CLOSURE_ASSESSMENT = N_("no assessment of phase closure")
GOALS = N_("goals {goals}")
UNDER = N_("under {need}: {items}")
WITH_SESSIONS = N_("{state} with sessions")
NO_ANNEX_D = N_("closed without Annex D")
ANNEX_D_PRESENT = N_("Annex D present, state {state}")

#: CL-04: open cases one worker may carry at the same time (R-7.3-08 "不超过8例").
CASELOAD_LIMIT = 8
#: CL-05: the usual length of a session, in minutes (R-7.3-09 "一般为1h~2h").
SESSION_MINUTES = (60, 120)
#: G-20: days ahead of the 18th birthday that a session warns.
BIRTHDAY_NOTICE_DAYS = 30
#: DL-11: days between weekly sessions before a gap warns (7 + the 2 days of grace).
WEEKLY_GAP_DAYS = 7

#: Given a worker, the case numbers that worker carries as case manager (G-09).
OpenCases = Callable[[str], set[str]]


def birthday_18(record: CaseRecord) -> dt.date:
    """The child's 18th birthday (the 1st of the month when only 出生年月 is known)."""
    b = record.child.birth_date
    day = int(b[8:10]) if len(b) >= 10 else 1
    year, month = int(b[:4]) + 18, int(b[5:7])
    if month == 2 and day == 29:
        day = 28
    return dt.date(year, month, day)


def _staff_role(record: CaseRecord, staff_id: str | None) -> str | None:
    return next((s.role for s in record.staff if s.id == staff_id), None)


def check_assign(
    record: CaseRecord, worker: str, open_cases: OpenCases, on: dt.date
) -> list[Finding]:
    """T-02 and T-21: a worker taking a case (R-5.2.2-01, CL-04, CL-08)."""
    out: list[Finding] = []
    staff = next((s for s in record.staff if s.id == worker), None)
    if staff is None or not staff.qualifications:
        why = NOT_LISTED if staff is None else NO_QUALIFICATION
        out.append(broken("worker-qualified", "case.care_manager", why.format(worker=worker)))
    carried = open_cases(worker) - {record.case.case_number}
    if len(carried) >= CASELOAD_LIMIT:
        out.append(
            broken(
                "caseload",
                "case.care_manager",
                CARRIES.format(worker=worker, count=len(carried), limit=CASELOAD_LIMIT),
            )
        )
    if on >= birthday_18(record):
        out.append(broken("age-at-intake", "child.birth_date", OLDER.format(date=on)))
    return out


def check_intake(record: CaseRecord) -> list[Finding]:
    """T-05: Annex A completed (R-7.1.1-06, R-A-03 and the §2.7 additions)."""
    a = record.intake
    if a is None:
        return []
    out: list[Finding] = []
    missing = [
        n for n in ("recipient_confirmation", "worker_confirmation") if getattr(a, n) is None
    ]
    if missing:
        out.append(broken("annex-a-signed", "intake", MISSING.format(items=", ".join(missing))))
    if a.competence_match == "not-matched":
        out.append(broken("competence", "intake.competence_match", "not-matched"))
    active = any(c.status in ("active", "stabilised") for c in record.crises)
    if a.emergency_present and not active:
        out.append(broken("emergency", "intake.emergency_present", NO_CRISIS))
    if a.referral_triggers and not a.referral_status_text:
        out.append(
            broken("referral-status", "intake.referral_triggers", ", ".join(a.referral_triggers))
        )
    if not a.child_views:
        out.append(broken("child-views", "intake.child_views"))
    divisions = [record.child.home_address.division, record.child.household_registration.division]
    if not any(d and d.startswith("36") for d in divisions):
        out.append(broken("residence", "child.home_address.division"))
    if (
        a.risk_level in ("normal", "low")
        and a.feasibility_conclusion.startswith("accept")
        and record.case.inclusion_basis != "department-designation"
    ):
        out.append(broken("low-risk", "intake.risk_level", a.risk_level))
    if a.prior_counselling_count > 0 and not a.prior_counselling_content:
        out.append(broken("prior-counselling", "intake.prior_counselling_content"))
    on = dt.date.fromisoformat(record.case.intake_date or a.assessment_date)
    if on >= birthday_18(record):
        out.append(broken("age-at-intake", "child.birth_date", OLDER.format(date=on)))
    return out


def check_review(record: CaseRecord) -> list[Finding]:
    """T-06: the contractor's seal on Annex A (A-48, R-7.1.3-01)."""
    a = record.intake
    if a is None or a.supervisor_confirmation is None:
        return [broken("annex-a-sealed", "intake.supervisor_confirmation", "missing")]
    role = _staff_role(record, a.supervisor_confirmation.signer)
    if role not in ("supervisor", "org-lead"):
        return [broken("annex-a-sealed", "intake.supervisor_confirmation", NOT_SUPERVISOR)]
    return []


def plan_sealed(plan: Plan) -> bool:
    """B-19..B-21 all present: the version may become active (R-B-03)."""
    return None not in (
        plan.worker_attestation,
        plan.recipient_attestation,
        plan.supervisor_approval,
    )


def check_plan(record: CaseRecord, plan: Plan) -> list[Finding]:
    """T-08 and T-22: Annex B (CL-01, R-6.1.1-05, CL-03 …)."""
    where = f"plans[{plan.id}]"
    out: list[Finding] = []
    if plan.planned_session_count < 6:
        out.append(broken("plan-count", where, PLANNED.format(count=plan.planned_session_count)))
    risk = record.case.risk_level
    if risk in ("medium", "high") and not {"counselling", "intervention"} <= set(
        plan.service_types
    ):
        out.append(broken("medium-high-plan", where, RISK.format(risk=risk)))
    if risk == "high" and plan.planned_session_count < 12 and not plan.high_risk_justification:
        out.append(
            broken("high-risk-count", where, PLANNED.format(count=plan.planned_session_count))
        )
    lo, hi = SESSION_MINUTES
    if plan.session_minutes_min < lo or plan.session_minutes_max > hi:
        span = MINUTES_SPAN.format(low=plan.session_minutes_min, high=plan.session_minutes_max)
        out.append(broken("plan-length", where, span))
    if len(set(plan.methods)) < 2:
        out.append(broken("plan-methods", where, ONE_METHOD))
    if not plan.precautions:
        out.append(broken("plan-precautions", where))
    if not plan.goals:
        out.append(broken("plan-goals", where))
    if not plan_sealed(plan):
        out.append(broken("plan-sealed", where))
    earlier = [p for p in record.plans if p.id != plan.id and p.status in ("active", "revoked")]
    if earlier and plan.frequency_per_week < max(p.frequency_per_week for p in earlier):
        improving = any(g.achievement == "improving" for p in record.plans for g in p.goals)
        if not improving:
            out.append(broken("frequency-reduction", where))
    return out


def service_consent(record: CaseRecord, on: str) -> bool:
    """An active service consent given on or before ``on`` (R-7.2.3-01)."""
    return any(
        c.topic == "service"
        and c.status == "active"
        and c.date <= on[:10]
        and (c.withdrawn_date is None or c.withdrawn_date > on[:10])
        for c in record.consents
    )


def active_plan(record: CaseRecord) -> Plan | None:
    """The plan version in force: the latest active one (or completed, once closed)."""
    active = [p for p in record.plans if p.status in ("active", "completed")]
    return max(active, key=lambda p: p.version) if active else None


def check_session(record: CaseRecord, s: Session) -> list[Finding]:
    """T-10 and T-11: Annex C (R-7.2.3-01, CL-07, R-7.3-16, CL-05 …)."""
    where = f"sessions[{s.id}]"
    out: list[Finding] = []
    if s.end <= s.start:
        out.append(broken("session-times", where, END_NOT_AFTER))
    if not service_consent(record, s.start):
        out.append(broken("consent-first", where, NONE_ACTIVE.format(date=s.start[:10])))
    if s.location == "home":
        if s.guardian_present is None:
            out.append(broken("home-guardian-present", where))
        elif s.guardian_present is False:
            if len(set(s.staff)) < 2:
                out.append(
                    broken("home-two-staff", where, STAFF_COUNT.format(count=len(set(s.staff))))
                )
            if s.guardian_notified is None:
                out.append(
                    broken(
                        "home-guardian-told", where, FIELD_MISSING.format(field="guardian_notified")
                    )
                )
    if s.attendance != "attended":
        return out
    lo, hi = SESSION_MINUTES
    if s.end > s.start and not lo <= s.minutes <= hi and not s.duration_override_reason:
        out.append(broken("session-length", where, MINUTES.format(minutes=s.minutes)))
    if s.private_space_confirmed is None or (s.private_space_confirmed is False and not s.remarks):
        out.append(broken("private-space", where))
    if record.case.care_manager and record.case.care_manager not in s.staff:
        out.append(broken("session-staff", where))
    before = [x for x in record.finished_sessions if x.id != s.id and x.start < s.start]
    if before:
        last = dt.date.fromisoformat(max(x.start for x in before)[:10])
        gap = (dt.date.fromisoformat(s.start[:10]) - last).days
        plan = active_plan(record)
        allowed = WEEKLY_GAP_DAYS if plan is None or plan.frequency_per_week >= 1 else 31
        if gap > allowed:
            out.append(broken("session-gap", where, GAP.format(days=gap)))
    plan = active_plan(record)
    done = len(record.finished_sessions)
    if plan is not None and done > plan.planned_session_count:
        out.append(broken("over-plan", where, f"{done} of {plan.planned_session_count}"))
    day = dt.date.fromisoformat(s.start[:10])
    b18 = birthday_18(record)
    if day >= b18 - dt.timedelta(days=BIRTHDAY_NOTICE_DAYS):
        out.append(broken("turning-18", "child.birth_date", BIRTHDAY_18.format(date=b18)))
    return out


def midterm_due(record: CaseRecord, on: dt.date) -> bool:
    """G-11: sessions reach ⌈planned/2⌉ or the plan period's midpoint, no evaluation yet."""
    plan = active_plan(record)
    if plan is None:
        return False
    if any(m.date >= plan.created for m in record.midterms):
        return False
    half = math.ceil(plan.planned_session_count / 2)
    start, end = dt.date.fromisoformat(plan.period_start), dt.date.fromisoformat(plan.period_end)
    return record.finished_session_count >= half or on >= start + (end - start) / 2


def check_midterm(record: CaseRecord, m: Midterm) -> list[Finding]:
    """T-12: the supervisor's evaluation (R-7.4.1-01, R-7.4.1-02)."""
    where = f"midterms[{m.id}]"
    out: list[Finding] = []
    if _staff_role(record, m.supervisor) not in ("supervisor", "org-lead"):
        out.append(broken("midterm-supervisor", where, NOT_A_SUPERVISOR.format(who=m.supervisor)))
    if m.outcome != "continue":
        out.append(broken("midterm-outcome", where, m.outcome))
    return out


#: Crisis types where life is in danger: report within 2 h, not 24 h (DL-09).
LIFE_DANGER = frozenset({"life-self", "life-others"})


def check_crisis(record: CaseRecord, c: Crisis) -> list[Finding]:
    """T-18 and T-19: the crisis overlay (R-7.6.1-02..04, DL-09)."""
    where = f"crises[{c.id}]"
    out: list[Finding] = []
    if not c.safety_assessment:
        out.append(broken("crisis-safety", where))
    hours = 2 if c.type in LIFE_DANGER else 24
    detected = dt.datetime.fromisoformat(c.detected_at)
    reported = c.reported_to_commissioner_at
    if reported is None or dt.datetime.fromisoformat(reported) > detected + dt.timedelta(
        hours=hours
    ):
        out.append(broken("crisis-report", where, LIMIT_HOURS.format(hours=hours)))
    if c.status in ("stabilised", "resolved"):
        if c.reliable_carer is None or record.adult(c.reliable_carer) is None:
            out.append(broken("crisis-carer", where, NO_CARER))
        if reported is None:
            out.append(broken("crisis-reported", where))
    return out


def check_adjustment(
    record: CaseRecord, a: AdjustmentRequest, calendar: WorkCalendar
) -> list[Finding]:
    """7.4.2: the request reported within 2 wd, done within 5 wd of the report."""
    where = f"adjustments[{a.id}]"
    out: list[Finding] = []
    received = dt.date.fromisoformat(a.received)
    due, _ = calendar.add_workdays(received, 2)
    if a.reported is not None and dt.date.fromisoformat(a.reported) > due:
        out.append(
            broken("request-reported", where, REPORTED_DUE.format(reported=a.reported, due=due))
        )
    if a.reported is not None and a.completed is not None:
        done_by, _ = calendar.add_workdays(dt.date.fromisoformat(a.reported), 5)
        if dt.date.fromisoformat(a.completed) > done_by:
            out.append(
                broken("request-done", where, DONE_DUE.format(done=a.completed, due=done_by))
            )
    if not a.child_views:
        out.append(broken("child-views", f"{where}.child_views"))
    return out


def check_worker_change(
    record: CaseRecord, change: WorkerChange, open_cases: OpenCases
) -> list[Finding]:
    """T-21: the recipient agreed, and the new worker may take the case (R-7.3-07, CL-04)."""
    out: list[Finding] = []
    if change.agreement is None:
        out.append(broken("worker-change-agreed", "worker_changes", NO_AGREEMENT))
    on = dt.date.fromisoformat(change.date)
    taking = check_assign(record, change.to_worker, open_cases, on)
    out += [f for f in taking if f.key != "age-at-intake"]
    return out


def _sessions_per_problem(record: CaseRecord) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in record.finished_sessions:
        for p in s.problems_addressed:
            counts[p] = counts.get(p, 0) + 1
    return counts


def check_closure(record: CaseRecord, c: Closure, served: bool) -> list[Finding]:
    """T-16 and T-17: Annex D (CL-10, R-7.5.2-02, R-7.5.1-02, R-D-01 …).

    ``served`` is False for a case ending before any service (T-03, T-04): then only
    the normal-result rule applies.
    """
    out: list[Finding] = []
    if c.reason == "not-indicated" and not c.resources_given:
        out.append(broken("normal-resources", "closure.resources_given"))
    if any(x.status in ("active", "stabilised") for x in record.crises):
        out.append(broken("crisis-open-at-close", "crises"))
    if not served:
        return out
    closing = [a for a in record.assessments if a.phase == "closure"]
    if not closing and c.reason in ("goals-achieved", "agreed-otherwise"):
        out.append(broken("closure-assessment", "assessments", NO_CLOSURE_ASSESSMENT))
    intake_scales = {a.scale_code for a in record.assessments if a.phase == "intake"}
    for a in closing:
        if intake_scales and a.scale_code not in intake_scales and not a.instrument_override_reason:
            out.append(broken("closure-instrument", f"assessments[{a.id}]", a.scale_code))
    plan = active_plan(record)
    unmet = [g.id for g in (plan.goals if plan else []) if g.achievement != "achieved"]
    if unmet and not (c.unmet_goal_analysis and c.measures_taken):
        out.append(broken("unmet-goals", "closure", GOALS.format(goals=", ".join(unmet))))
    missing = [
        n
        for n in ("recipient_confirmation", "worker_confirmation", "supervisor_confirmation")
        if getattr(c, n) is None
        and not (n == "recipient_confirmation" and c.signature_unavailable_reason)
    ]
    if missing:
        out.append(broken("annex-d-signed", "closure", MISSING.format(items=", ".join(missing))))
    need = {"medium": 6, "high": 12}.get(record.case.risk_level)
    if need and c.reason == "goals-achieved" and not c.per_problem_justification:
        counts = _sessions_per_problem(record)
        problems = plan.problem_types if plan else []
        short = [p for p in problems if counts.get(p, 0) < need]
        if short:
            out.append(
                broken("per-problem", "closure", UNDER.format(need=need, items=", ".join(short)))
            )
    if dt.date.fromisoformat(c.date) >= birthday_18(record) and c.reason != "aged-out":
        out.append(broken("aged-out", "closure.reason", c.reason))
    return out


_AFTER_INTAKE = frozenset(
    {
        "feasibility-assessed",
        "org-reviewed",
        "agreement-signed",
        "plan-drafted",
        "ready",
        "in-service",
        "midterm",
        "paused",
        "closing",
        "closed",
    }
)
_BEFORE_READY = frozenset(
    {"listed", "intake", "feasibility-assessed", "org-reviewed", "agreement-signed"}
)


def state_issues(record: CaseRecord) -> list[Finding]:
    """Where a record's state contradicts its content (an imported record, §3.1)."""
    state = record.case.state
    out: list[Finding] = []
    if state not in STATES:
        return [broken("state-unknown", "case.state", state)]
    served = record.finished_session_count > 0
    ended_early = record.case.closure_reason in (
        "not-indicated",
        "ineligible",
        "referred-out-at-intake",
    )
    if state in _AFTER_INTAKE and record.intake is None:
        out.append(broken("state-intake", "case.state", state))
    if (
        state in _AFTER_INTAKE - {"feasibility-assessed", "org-reviewed", "agreement-signed"}
        and not record.plans
    ):
        out.append(broken("state-plan", "case.state", state))
    if state in ("in-service", "midterm", "paused", "closing") and not served:
        out.append(broken("state-served", "case.state", state))
    if state in _BEFORE_READY | {"plan-drafted"} and record.sessions:
        out.append(broken("state-early-sessions", "case.state", WITH_SESSIONS.format(state=state)))
    if state == "closed" and record.closure is None and not ended_early:
        out.append(broken("state-closed", "case.state", NO_ANNEX_D))
    if record.closure is not None and state not in ("closed", "archived-handed-over"):
        out.append(broken("state-closed", "closure", ANNEX_D_PRESENT.format(state=state)))
    return out
