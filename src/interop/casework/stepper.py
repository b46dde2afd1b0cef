"""步骤 — recording one step of a case: the state machine, the rules, a new version.

A step takes the case record as it is (the latest version) and what the step adds
(a form's content or a few values), and returns the record as it will be, the
transitions taken and the rules broken. Nothing is written here; the store keeps
the result as a new version (nothing overwritten, 9.4.3). A blocking rule refuses
the whole step (:class:`StepRefused`, E251); a warning is kept with the step.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from interop._errors import InputError
from interop._errors import StepRefused as StepRefused
from interop.caserecord import build_part
from interop.core import casechecks as chk
from interop.core.adjustment import AdjustmentRequest, WorkerChange
from interop.core.case import Signature
from interop.core.casechecks import OpenCases
from interop.core.caserules import Finding, blocking, broken
from interop.core.casestates import SERVING_STATES, Transition, transition
from interop.core.closure import Closure
from interop.core.contact import CONTACT_PARTIES, Contact
from interop.core.crisis import Crisis
from interop.core.intake import Intake
from interop.core.midterm import Midterm
from interop.core.people import Staff
from interop.core.plan import Plan
from interop.core.record import CaseRecord
from interop.core.referraloutcome import ReferralOutcome
from interop.core.session import Session
from interop.core.workdays import WorkCalendar
from interop.i18n import N_

#: ``--reason normal`` (a normal assessment result, R-6.1.1-03) is closure reason not-indicated.
REASON_ALIASES = {"normal": "not-indicated"}

#: A step refused by a blocking rule (its lines said one by one: caserules.LINES).
REFUSED = N_("case {case}: '{action}' refused: {rules}")
#: Closure reasons that end a case before any service (T-03, T-04).
BEFORE_SERVICE = {
    "not-indicated": "not-accept",
    "ineligible": "not-accept",
    "referred-out-at-intake": "refer-out",
}


@dataclass(slots=True)
class Step:
    """The outcome of a step: the new record, transitions taken, rules broken (warnings)."""

    action: str
    record: CaseRecord
    transitions: list[Transition] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.record.case.state


@dataclass(slots=True)
class Context:
    """What a step needs besides the record: caseloads, the calendar, the day."""

    open_cases: OpenCases
    calendar: WorkCalendar
    today: dt.date


class Stepper:
    """Applies one action to a copy of the record (see the module docstring)."""

    def __init__(self, record: CaseRecord, action: str, ctx: Context) -> None:
        self.before = record.case.state
        self.step = Step(action, copy.deepcopy(record))
        self.ctx = ctx

    @property
    def rec(self) -> CaseRecord:
        return self.step.record

    def go(self, action: str) -> None:
        """Take the transition ``action`` from the current state (E250 if not allowed)."""
        t = transition(self.rec.case.case_number, self.rec.case.state, action)
        self.rec.case.state = t.leads_to(self.rec.case.state)
        self.step.transitions.append(t)

    def finish(self, findings: list[Finding]) -> Step:
        refused = blocking(findings)
        if refused:
            lines = "; ".join(f.line() for f in refused)
            raise StepRefused(
                REFUSED.format(
                    case=self.rec.case.case_number, action=self.step.action, rules=lines
                ),
                findings=refused,
            )
        self.step.findings = findings
        return self.step

    # -- the actions -------------------------------------------------------------------

    def assign(self, worker: str, date: str, staff: list[Staff] | None = None) -> Step:
        """T-02: a worker takes the listed child (接案); ``staff`` (from the organisation's
        staff list) joins the case's staff where not there yet (a listed child has none)."""
        self.go("assign")
        known = {s.id for s in self.rec.staff}
        self.rec.staff += [s for s in staff or [] if s.id not in known]
        self.rec.case.care_manager = worker
        self.rec.case.intake_date = date
        on = dt.date.fromisoformat(date)
        return self.finish(chk.check_assign(self.rec, worker, self.ctx.open_cases, on))

    def assess(self, data: dict[str, Any], extras: dict[str, list[Any]]) -> Step:
        """T-05 (or T-03/T-04 by the feasibility conclusion): Annex A."""
        intake: Intake = build_part(Intake, data)
        conclusion = intake.feasibility_conclusion
        self.rec.intake = intake
        self.rec.case.risk_level = intake.risk_level
        self.rec.assessments += extras.get("assessments", [])
        findings = chk.check_intake(self.rec)
        if conclusion in ("ineligible", "not-indicated", "refer-out"):
            reason = "referred-out-at-intake" if conclusion == "refer-out" else conclusion
            self.go(BEFORE_SERVICE[reason])
            self.rec.case.closure_reason = reason
            self.rec.case.end_date = intake.assessment_date
            findings = [f for f in findings if f.key != "low-risk"]
        else:
            self.go("assess")
        return self.finish(findings)

    def review(self, supervisor: str, date: str) -> Step:
        """T-06: the contractor's seal on Annex A and the report to the commissioner."""
        self.go("review")
        if self.rec.intake is not None and self.rec.intake.supervisor_confirmation is None:
            self.rec.intake.supervisor_confirmation = Signature(signer=supervisor, date=date)
        self.rec.case.review_date = date
        return self.finish(chk.check_review(self.rec))

    def agreement(self, date: str, end: str | None) -> Step:
        """T-07: the child under a signed project agreement (starts DL-01)."""
        self.go("agreement")
        self.rec.case.agreement_date = date
        if end is not None:
            self.rec.case.agreement_end = end
        return self.finish([])

    def plan(self, data: dict[str, Any], extras: dict[str, list[Any]]) -> Step:
        """T-08 / T-22, then T-09 when signed and consented: Annex B."""
        version = max((p.version for p in self.rec.plans), default=0) + 1
        data = {"id": f"plan-{version:02d}", **data, "version": version}
        plan: Plan = build_part(Plan, data)
        first = self.rec.case.state == "agreement-signed"
        self.go("plan" if first else "adjust-plan")
        self.rec.consents += extras.get("consents", [])
        sealed = chk.plan_sealed(plan)
        if sealed:
            for p in self.rec.plans:
                if p.status == "active":
                    p.status = "revoked"
        plan.status = "active" if sealed else "draft"
        self.rec.plans.append(plan)
        if (
            self.rec.case.state == "plan-drafted"
            and sealed
            and chk.service_consent(self.rec, plan.created)
        ):
            self.go("confirm")
        return self.finish(chk.check_plan(self.rec, plan))

    def session(self, data: dict[str, Any]) -> Step:
        """T-10 / T-11, then T-12 when the mid-term falls due: Annex C."""
        number = len(self.rec.sessions) + 1
        data = {"id": f"sess-{number:02d}", "number": number, **data}
        s: Session = build_part(Session, data)
        if any(x.id == s.id for x in self.rec.sessions):
            raise InputError(f"session id {s.id} is already recorded on this case", code="E259")
        self.rec.sessions.append(s)
        if self.rec.case.state != "ready" or s.attendance == "attended":
            self.go("session")  # T-10 from ready (the first session), else T-11
        else:  # a missed first session: allowed, the case stays ready
            transition(self.rec.case.case_number, "ready", "session")
        findings = chk.check_session(self.rec, s)
        day = dt.date.fromisoformat(s.start[:10])
        if self.rec.case.state == "in-service" and chk.midterm_due(self.rec, day):
            self.go("midterm-due")
        return self.finish(findings)

    def midterm(self, data: dict[str, Any]) -> Step:
        """T-12: the supervisor's mid-term evaluation is completed."""
        data = {"id": f"midterm-{len(self.rec.midterms) + 1:02d}", **data}
        m: Midterm = build_part(Midterm, data)
        self.go("midterm")
        self.rec.midterms.append(m)
        if m.risk_level is not None:
            self.rec.case.risk_level = m.risk_level
        return self.finish(chk.check_midterm(self.rec, m))

    def crisis(self, data: dict[str, Any]) -> Step:
        """T-18: a crisis opened (the state does not change: an overlay)."""
        data = {"id": f"crisis-{len(self.rec.crises) + 1:02d}", "status": "active", **data}
        c: Crisis = build_part(Crisis, data)
        self.go("crisis")
        self.rec.crises.append(c)
        return self.finish(chk.check_crisis(self.rec, c))

    def crisis_update(self, crisis_id: str | None, changes: dict[str, Any]) -> Step:
        """T-19: a crisis stabilised or resolved, or its report recorded."""
        self.go("crisis-update")
        open_ = [c for c in self.rec.crises if c.status != "resolved"]
        c = next((x for x in open_ if x.id == crisis_id), None) if crisis_id else None
        if c is None and crisis_id is None and len(open_) == 1:
            c = open_[0]
        if c is None:
            ids = ", ".join(x.id for x in open_) or "none"
            raise InputError(f"name the open crisis with --id (open: {ids})", code="E254")
        for k, v in changes.items():
            if v is not None:
                setattr(c, k, v)
        return self.finish(chk.check_crisis(self.rec, c))

    def adjustment(self, req: AdjustmentRequest) -> Step:
        """7.4.2: a pause, change or termination request (T-13, T-15 once decided)."""
        self.rec.adjustments.append(req)
        decided = req.completed is not None
        if req.type == "pause" and decided:
            self.go("pause")
        elif req.type == "terminate" and decided:
            self.go("terminate")
            self.rec.case.closure_reason = "terminated-on-request"
        else:
            self.go("adjustment-request")
        return self.finish(chk.check_adjustment(self.rec, req, self.ctx.calendar))

    def resume(self, date: str) -> Step:
        """T-14: a paused service resumes."""
        self.go("resume")
        for a in self.rec.adjustments:
            if a.type == "pause" and a.completed is None:
                a.completed = date
        return self.finish([])

    def transfer(self, change: WorkerChange) -> Step:
        """T-21: another worker becomes the case manager (R-7.3-07, CL-04)."""
        state = self.rec.case.state
        self.go("reassign" if state in ("intake", "feasibility-assessed") else "transfer")
        change.from_worker = self.rec.case.care_manager
        self.rec.worker_changes.append(change)
        self.rec.case.care_manager = change.to_worker
        return self.finish(chk.check_worker_change(self.rec, change, self.ctx.open_cases))

    def contact(self, c: Contact) -> Step:
        """7.3: a regular contact with family, school or village logged (DL-13)."""
        self.go("contact")
        self.rec.contacts.append(c)
        if c.party not in CONTACT_PARTIES:
            return self.finish([broken("contact-party", "contacts", c.party)])
        return self.finish([])

    def referral_outcome(self, outcome: ReferralOutcome) -> Step:
        """9.2: what a hospital sent back about a referral (转介反馈) joins the record.

        No transition: an outcome may arrive in any state, after closure too (the
        record is kept for good, 9.4.3).
        """
        self.rec.referral_outcomes.append(outcome)
        return self.finish([])

    def close(
        self,
        reason: str,
        date: str,
        data: dict[str, Any] | None,
        extras: dict[str, list[Any]],
        resources_given: bool,
    ) -> Step:
        """T-16 and T-17 (Annex D), or T-03/T-04 for a case ending before service."""
        reason = REASON_ALIASES.get(reason, reason)
        state = self.rec.case.state
        self.rec.assessments += extras.get("assessments", [])
        if state in ("intake", "feasibility-assessed") and reason in BEFORE_SERVICE:
            self.go(BEFORE_SERVICE[reason])
            self.rec.case.closure_reason = reason
            self.rec.case.end_date = date
            facts = _pre_service(reason, date, resources_given)
            findings = chk.check_closure(self.rec, facts, False)
            return self.finish(findings)
        if data is None:
            raise InputError(
                f"closing case {self.rec.case.case_number} after service needs the Annex D "
                "form: give --form FILE",
                code="E255",
            )
        if state in SERVING_STATES or state == "paused":
            self.go("closing")
        data = {"date": date, **data, "reason": reason}
        if resources_given:
            data["resources_given"] = True
        closure: Closure = build_part(Closure, data)
        self.rec.closure = closure
        self.go("close")
        self.rec.case.closure_reason = reason
        self.rec.case.end_date = closure.date
        return self.finish(chk.check_closure(self.rec, closure, True))


def _pre_service(reason: str, date: str, resources_given: bool) -> Closure:
    """The closure facts of a case ending before service (no Annex D is filled in)."""
    fields: dict[str, Any] = {f.name: None for f in dataclasses.fields(Closure)}
    fields.update(date=date, reason=reason, resources_given=resources_given, evaluator_types=[])
    return Closure(**fields)
