"""规则 — the catalogue of the standard's rules checked when a step of a case is recorded.

Each rule has the requirement ID it comes from, its force (a ``block`` rule refuses
the step; a ``warn`` rule records the step with the issue, §0.2 of the catalogue:
应/不得 → block where the data shows it, 宜/一般 → warn), the rule in plain words and
what to do. Where the same rule is also a FHIRPath invariant of the FHIR profiles
(checked at ``interop map``), ``invariant`` names it: one rule, two places it is
checked, the same words (a test holds the two together).

Messages carry no personal data: case numbers, record ids, field names and counts.
"""

from __future__ import annotations

from interop.core.rule import BLOCK, WARN, Finding, Rule
from interop.i18n import N_

__all__ = ["BLOCK", "RULES", "WARN", "Finding", "Rule", "blocking", "broken"]


_RULES = (
    # -- assignment and intake (T-02, T-05, T-06) ------------------------------------
    Rule(
        "caseload",
        "CL-04",
        BLOCK,
        N_("a worker carries at most 8 open cases at the same time (R-7.3-08, G-09)"),
        N_("assign another worker, or close or transfer one of this worker's cases first"),
    ),
    Rule(
        "worker-qualified",
        "R-5.2.2-01",
        BLOCK,
        N_("the case manager is a staff member of the case with a recorded qualification"),
        N_("name a staff member listed on the case, with at least one qualification"),
    ),
    Rule(
        "age-at-intake",
        "CL-08",
        BLOCK,
        N_("a child recipient is under 18 at intake (R-3.1-01)"),
        N_("do not take the case in; refer the young adult to adult services"),
        invariant="dc-eoc-1",
    ),
    Rule(
        "annex-a-signed",
        "R-A-03",
        BLOCK,
        N_(
            "Annex A is confirmed by the recipient or guardian and the worker before it counts as "
            "complete (A-46, A-47)"
        ),
        N_("add recipient_confirmation and worker_confirmation to the form"),
    ),
    Rule(
        "annex-a-sealed",
        "R-7.1.3-01",
        BLOCK,
        N_("the contractor reviews Annex A: the supervisor or head confirms it (A-48)"),
        N_("give --supervisor (a supervisor or head of the case) and --date"),
    ),
    Rule(
        "competence",
        "R-7.1.1-05",
        WARN,
        N_("a worker whose competence does not match the problem refers the case (RT-04)"),
        N_("open a referral, or assign a worker whose competence matches"),
    ),
    Rule(
        "emergency",
        "R-A-02",
        WARN,
        N_("an emergency found at intake opens the crisis overlay (A-22, T-18)"),
        N_("record the crisis with: interop case crisis CASE --type …"),
    ),
    Rule(
        "referral-status",
        "R-7.1.2-01",
        WARN,
        N_("a referral trigger found at intake is followed by the referral status (A-23)"),
        N_("describe the referral in referral_status_text and open the referral"),
    ),
    Rule(
        "child-views",
        "R-4.2-01",
        WARN,
        N_("the child's views are heard and written down"),
        N_("add child_views"),
    ),
    Rule(
        "residence",
        "R-5.1-01",
        WARN,
        N_("the child lives or is registered in Jiangxi (division code 36…)"),
        N_("check the addresses, or record the commissioner's designation"),
    ),
    Rule(
        "low-risk",
        "G-15",
        WARN,
        N_("a normal or low-risk child is served only when designated by a department"),
        N_("record inclusion_basis department-designation, or close as not-indicated"),
    ),
    Rule(
        "prior-counselling",
        "R-9.2-01",
        WARN,
        N_("prior counselling is described when there was any (A-32)"),
        N_("add prior_counselling_content"),
    ),
    # -- plan (T-08, T-09, T-22) -----------------------------------------------------
    Rule(
        "plan-count",
        "CL-01",
        BLOCK,
        N_("a plan has at least 6 planned sessions (R-7.2.1-03)"),
        N_("plan 6 sessions or more"),
        invariant="dc-cp-1",
    ),
    Rule(
        "medium-high-plan",
        "R-6.1.1-05",
        BLOCK,
        N_("a medium- or high-risk plan has both counselling and intervention"),
        N_("add both counselling and intervention to service_types"),
        invariant="dc-cp-2",
    ),
    Rule(
        "high-risk-count",
        "CL-03",
        WARN,
        N_("a high-risk plan should have at least 12 sessions, or a justification (R-7.3-12)"),
        N_("plan 12 sessions or more, or give high_risk_justification"),
        invariant="dc-cp-3",
    ),
    Rule(
        "plan-length",
        "R-7.3-09",
        WARN,
        N_("planned sessions last 1 to 2 hours"),
        N_("plan session_minutes_min/max within 60–120"),
    ),
    Rule(
        "plan-methods",
        "R-8.1-02",
        WARN,
        N_("a plan combines several methods"),
        N_("consider adding a second method"),
    ),
    Rule(
        "plan-precautions",
        "R-7.2.1-02",
        WARN,
        N_("the plan states precautions and staffing (注意事项、人员安排)"),
        N_("add precautions"),
    ),
    Rule(
        "plan-goals",
        "R-7.5.1-01",
        WARN,
        N_("the plan states the expected goals that closure is measured against"),
        N_("add at least one goal"),
    ),
    Rule(
        "plan-sealed",
        "R-B-03",
        WARN,
        N_(
            "a plan version is active only once signed by worker, recipient and supervisor "
            "(B-19..B-21)"
        ),
        N_("add the three attestations; until then the earlier version stays in force"),
    ),
    Rule(
        "frequency-reduction",
        "R-7.3-11",
        WARN,
        N_("sessions become less frequent than weekly only after documented improvement"),
        N_("record the improvement (a goal 'improving') before lowering the frequency"),
    ),
    # -- sessions (T-10, T-11) -------------------------------------------------------
    Rule(
        "consent-first",
        "R-7.2.3-01",
        BLOCK,
        N_("no session before an active service consent signed by the recipient or guardian"),
        N_("record the informed consent (topic service) in the plan form first"),
        invariant="dc-bun-1",
    ),
    Rule(
        "home-two-staff",
        "CL-07",
        BLOCK,
        N_("at least 2 staff go on a home visit when the guardian is absent (R-7.3-17)"),
        N_("list the accompanying worker in staff"),
        invariant="dc-enc-1",
    ),
    Rule(
        "home-guardian-told",
        "R-7.3-16",
        BLOCK,
        N_("the absent guardian is told of the home visit (time, channel, by whom)"),
        N_("add guardian_notified"),
        invariant="dc-enc-2",
    ),
    Rule(
        "home-guardian-present",
        "R-7.3-16",
        BLOCK,
        N_("a home visit records whether the guardian was present"),
        N_("add guardian_present (true or false)"),
        invariant="dc-enc-3",
    ),
    Rule(
        "session-times",
        "R-9.2-05",
        BLOCK,
        N_("a session ends after it starts"),
        N_("correct start and end"),
    ),
    Rule(
        "session-length",
        "CL-05",
        WARN,
        N_("a session normally lasts 60 to 120 minutes (R-7.3-09)"),
        N_("give duration_override_reason"),
    ),
    Rule(
        "session-gap",
        "R-7.3-10",
        WARN,
        N_("sessions are weekly unless a plan version lowers the frequency (DL-11)"),
        N_("record why the gap was longer, or adjust the plan"),
    ),
    Rule(
        "private-space",
        "R-7.3-14",
        WARN,
        N_("sessions take place in a separate, quiet space"),
        N_("confirm private_space_confirmed, or explain in remarks"),
    ),
    Rule(
        "session-staff",
        "R-7.3-06",
        WARN,
        N_("the case manager delivers the sessions (same worker for a recipient)"),
        N_("list the case manager in staff, or record a worker change"),
    ),
    Rule(
        "over-plan",
        "R-7.2.2-01",
        WARN,
        N_("sessions beyond the planned number call for a plan adjustment"),
        N_("adjust the plan (interop case plan CASE --form …)"),
    ),
    Rule(
        "turning-18",
        "G-20",
        WARN,
        N_("a child turning 18 during service is flagged 30 days ahead (R-3.1-01)"),
        N_("the supervisor decides to finish within the plan, close or transfer"),
    ),
    # -- mid-term (T-12) ---------------------------------------------------------------
    Rule(
        "midterm-supervisor",
        "R-7.4.1-01",
        BLOCK,
        N_("only a supervisor (or the head) completes the mid-term evaluation"),
        N_("name a supervisor or head listed on the case"),
    ),
    Rule(
        "midterm-outcome",
        "R-7.4.1-02",
        WARN,
        N_("an outcome of adjust-plan or refer is acted on promptly (DL-04, DL-07, DL-08)"),
        N_("adjust the plan within 5 working days, or open the referral"),
    ),
    # -- crisis (T-18, T-19) -----------------------------------------------------------
    Rule(
        "crisis-safety",
        "R-7.6.1-03",
        WARN,
        N_("a crisis starts with an assessment of the child's health and safety"),
        N_("record safety_assessment"),
    ),
    Rule(
        "crisis-report",
        "DL-09",
        WARN,
        N_("a crisis is reported to the commissioner within 24 h (2 h when life is in danger)"),
        N_("report it and record reported_to_commissioner_at"),
    ),
    Rule(
        "crisis-carer",
        "R-7.6.1-04",
        BLOCK,
        N_("a crisis is not stabilised without a reliable carer watching over the child"),
        N_("name the reliable carer (an adult of the case) with --carer"),
    ),
    Rule(
        "crisis-reported",
        "R-7.6.1-02",
        BLOCK,
        N_("a crisis is not closed before it has been reported to the commissioner"),
        N_("record reported_to_commissioner_at with --reported-at"),
    ),
    # -- adjustment requests, worker change, contact (7.4.2, 7.3) ----------------------
    Rule(
        "request-reported",
        "DL-05",
        WARN,
        N_("the worker reports a pause, change or termination request within 2 working days"),
        N_("report it to the contractor now"),
    ),
    Rule(
        "request-done",
        "DL-06",
        WARN,
        N_("the contractor completes the adjustment within 5 working days of the report"),
        N_("complete the adjustment now"),
    ),
    Rule(
        "worker-change-agreed",
        "R-7.3-07",
        BLOCK,
        N_("a worker change has the recipient's agreement"),
        N_("record the agreement with --agreed-by and --date"),
    ),
    Rule(
        "contact-party",
        "R-7.3-03",
        BLOCK,
        N_("regular contact is with the family, school, village committee, township or hospital"),
        N_("give --party family|school|village|township|hospital"),
    ),
    # -- closure (T-16, T-17) -----------------------------------------------------------
    Rule(
        "closure-assessment",
        "CL-10",
        BLOCK,
        N_("the effect of service is assessed at closure (R-7.5.2-01)"),
        N_("add a closure assessment (phase closure) to the form"),
    ),
    Rule(
        "closure-instrument",
        "R-7.5.2-02",
        WARN,
        N_("the closure assessment uses an instrument of the intake assessment, or says why not"),
        N_("use the intake instrument, or give instrument_override_reason"),
        invariant="dc-bun-2",
    ),
    Rule(
        "unmet-goals",
        "R-7.5.1-02",
        BLOCK,
        N_("when a goal is not achieved, the reasons are analysed and measures taken"),
        N_("give unmet_goal_analysis and measures_taken"),
    ),
    Rule(
        "annex-d-signed",
        "R-D-01",
        BLOCK,
        N_(
            "Annex D is confirmed by recipient or guardian, worker and supervisor (D-13..D-15; "
            "G-32: the recipient's may be replaced by a reason)"
        ),
        N_("add the three confirmations, or signature_unavailable_reason"),
    ),
    Rule(
        "crisis-open-at-close",
        "R-7.6.1-01",
        BLOCK,
        N_("a case does not close while its crisis is still active or only stabilised"),
        N_("resolve the crisis first: interop case crisis CASE --resolve …"),
    ),
    Rule(
        "per-problem",
        "CL-02",
        WARN,
        N_(
            "each problem gets at least 6 sessions at medium risk and 12 at high risk "
            "(R-7.3-12, CL-03)"
        ),
        N_("give per_problem_justification"),
    ),
    Rule(
        "aged-out",
        "R-3.1-01",
        WARN,
        N_("the child turned 18 before closure: the closure reason says so (G-20)"),
        N_("close with --reason aged-out, or record the supervisor's decision"),
    ),
    Rule(
        "normal-resources",
        "R-6.1.1-03",
        BLOCK,
        N_("a child with a normal result is told where to find help before the case ends"),
        N_("give --resources-given once the child has the information"),
    ),
)

_STATE_RULES = (
    # -- an imported record whose state contradicts its content (§3.1) -----------------
    Rule(
        "state-intake",
        "R-7.1.1-06",
        WARN,
        N_("a case past intake has its Annex A"),
        N_("record the intake with: interop case assess CASE --form annex-a.toml"),
    ),
    Rule(
        "state-plan",
        "R-7.2.1-01",
        WARN,
        N_("a case with a drafted plan has its Annex B"),
        N_("record the plan with: interop case plan CASE --form annex-b.toml"),
    ),
    Rule(
        "state-served",
        "R-7.3-05",
        WARN,
        N_("a case in service has at least one session recorded"),
        N_("record the sessions, or correct the state"),
    ),
    Rule(
        "state-early-sessions",
        "R-7.2.3-01",
        WARN,
        N_("sessions come after the plan is confirmed and consent given"),
        N_("correct the state, or record the plan and consent"),
    ),
    Rule(
        "state-closed",
        "R-7.5.1-01",
        WARN,
        N_("a closed case has its Annex D (or ended before service with a reason)"),
        N_("record the closure with: interop case close CASE --reason … --form annex-d.toml"),
    ),
    Rule(
        "state-unknown",
        "R-7.6.2-01",
        WARN,
        N_("the state is one of the case states of the standard"),
        N_("correct the state"),
    ),
)

#: key → rule
RULES: dict[str, Rule] = {r.key: r for r in (*_RULES, *_STATE_RULES)}


def broken(key: str, where: str, detail: str = "") -> Finding:
    """A finding of rule ``key`` at ``where`` (``detail`` says what the data shows)."""
    r = RULES[key]
    message = f"{r.says}: {detail}" if detail else r.says
    return Finding(r.key, r.req, r.severity, where, message, r.todo)


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == BLOCK]
