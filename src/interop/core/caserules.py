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

from dataclasses import dataclass

BLOCK = "block"
WARN = "warn"


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of the standard as checked at a step."""

    key: str  # unique key of this check (a requirement can have several)
    req: str  # requirement ID (R-x.y-NN, CL-NN, DL-NN, G-NN)
    severity: str  # BLOCK | WARN
    says: str  # the rule, in plain words
    todo: str  # what to do when it is broken
    invariant: str | None = None  # FHIRPath invariant key in profiles/, if any


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule broken by a step: which, where in the record, and the detail."""

    key: str
    req: str
    severity: str
    where: str
    message: str
    todo: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.req,
            "severity": self.severity,
            "where": self.where,
            "message": self.message,
            "todo": self.todo,
        }

    def line(self) -> str:
        return f"{self.req} ({self.severity}) {self.where}: {self.message} — {self.todo}"


_RULES = (
    # -- assignment and intake (T-02, T-05, T-06) ------------------------------------
    Rule(
        "caseload",
        "CL-04",
        BLOCK,
        "a worker carries at most 8 open cases at the same time (R-7.3-08, G-09)",
        "assign another worker, or close or transfer one of this worker's cases first",
    ),
    Rule(
        "worker-qualified",
        "R-5.2.2-01",
        BLOCK,
        "the case manager is a staff member of the case with a recorded qualification",
        "name a staff member listed on the case, with at least one qualification",
    ),
    Rule(
        "age-at-intake",
        "CL-08",
        BLOCK,
        "a child recipient is under 18 at intake (R-3.1-01)",
        "do not take the case in; refer the young adult to adult services",
        invariant="dc-eoc-1",
    ),
    Rule(
        "annex-a-signed",
        "R-A-03",
        BLOCK,
        "Annex A is confirmed by the recipient or guardian and the worker before it counts as "
        "complete (A-46, A-47)",
        "add recipient_confirmation and worker_confirmation to the form",
    ),
    Rule(
        "annex-a-sealed",
        "R-7.1.3-01",
        BLOCK,
        "the contractor reviews Annex A: the supervisor or head confirms it (A-48)",
        "give --supervisor (a supervisor or head of the case) and --date",
    ),
    Rule(
        "competence",
        "R-7.1.1-05",
        WARN,
        "a worker whose competence does not match the problem refers the case (RT-04)",
        "open a referral, or assign a worker whose competence matches",
    ),
    Rule(
        "emergency",
        "R-A-02",
        WARN,
        "an emergency found at intake opens the crisis overlay (A-22, T-18)",
        "record the crisis with: interop case crisis CASE --type …",
    ),
    Rule(
        "referral-status",
        "R-7.1.2-01",
        WARN,
        "a referral trigger found at intake is followed by the referral status (A-23)",
        "describe the referral in referral_status_text and open the referral",
    ),
    Rule(
        "child-views",
        "R-4.2-01",
        WARN,
        "the child's views are heard and written down",
        "add child_views",
    ),
    Rule(
        "residence",
        "R-5.1-01",
        WARN,
        "the child lives or is registered in Jiangxi (division code 36…)",
        "check the addresses, or record the commissioner's designation",
    ),
    Rule(
        "low-risk",
        "G-15",
        WARN,
        "a normal or low-risk child is served only when designated by a department",
        "record inclusion_basis department-designation, or close as not-indicated",
    ),
    Rule(
        "prior-counselling",
        "R-9.2-01",
        WARN,
        "prior counselling is described when there was any (A-32)",
        "add prior_counselling_content",
    ),
    # -- plan (T-08, T-09, T-22) -----------------------------------------------------
    Rule(
        "plan-count",
        "CL-01",
        BLOCK,
        "a plan has at least 6 planned sessions (R-7.2.1-03)",
        "plan 6 sessions or more",
        invariant="dc-cp-1",
    ),
    Rule(
        "medium-high-plan",
        "R-6.1.1-05",
        BLOCK,
        "a medium- or high-risk plan has both counselling and intervention",
        "add both counselling and intervention to service_types",
        invariant="dc-cp-2",
    ),
    Rule(
        "high-risk-count",
        "CL-03",
        WARN,
        "a high-risk plan should have at least 12 sessions, or a justification (R-7.3-12)",
        "plan 12 sessions or more, or give high_risk_justification",
        invariant="dc-cp-3",
    ),
    Rule(
        "plan-length",
        "R-7.3-09",
        WARN,
        "planned sessions last 1 to 2 hours",
        "plan session_minutes_min/max within 60–120",
    ),
    Rule(
        "plan-methods",
        "R-8.1-02",
        WARN,
        "a plan combines several methods",
        "consider adding a second method",
    ),
    Rule(
        "plan-precautions",
        "R-7.2.1-02",
        WARN,
        "the plan states precautions and staffing (注意事项、人员安排)",
        "add precautions",
    ),
    Rule(
        "plan-goals",
        "R-7.5.1-01",
        WARN,
        "the plan states the expected goals that closure is measured against",
        "add at least one goal",
    ),
    Rule(
        "plan-sealed",
        "R-B-03",
        WARN,
        "a plan version is active only once signed by worker, recipient and supervisor "
        "(B-19..B-21)",
        "add the three attestations; until then the earlier version stays in force",
    ),
    Rule(
        "frequency-reduction",
        "R-7.3-11",
        WARN,
        "sessions become less frequent than weekly only after documented improvement",
        "record the improvement (a goal 'improving') before lowering the frequency",
    ),
    # -- sessions (T-10, T-11) -------------------------------------------------------
    Rule(
        "consent-first",
        "R-7.2.3-01",
        BLOCK,
        "no session before an active service consent signed by the recipient or guardian",
        "record the informed consent (topic service) in the plan form first",
        invariant="dc-bun-1",
    ),
    Rule(
        "home-two-staff",
        "CL-07",
        BLOCK,
        "at least 2 staff go on a home visit when the guardian is absent (R-7.3-17)",
        "list the accompanying worker in staff",
        invariant="dc-enc-1",
    ),
    Rule(
        "home-guardian-told",
        "R-7.3-16",
        BLOCK,
        "the absent guardian is told of the home visit (time, channel, by whom)",
        "add guardian_notified",
        invariant="dc-enc-2",
    ),
    Rule(
        "home-guardian-present",
        "R-7.3-16",
        BLOCK,
        "a home visit records whether the guardian was present",
        "add guardian_present (true or false)",
        invariant="dc-enc-3",
    ),
    Rule(
        "session-times",
        "R-9.2-05",
        BLOCK,
        "a session ends after it starts",
        "correct start and end",
    ),
    Rule(
        "session-length",
        "CL-05",
        WARN,
        "a session normally lasts 60 to 120 minutes (R-7.3-09)",
        "give duration_override_reason",
    ),
    Rule(
        "session-gap",
        "R-7.3-10",
        WARN,
        "sessions are weekly unless a plan version lowers the frequency (DL-11)",
        "record why the gap was longer, or adjust the plan",
    ),
    Rule(
        "private-space",
        "R-7.3-14",
        WARN,
        "sessions take place in a separate, quiet space",
        "confirm private_space_confirmed, or explain in remarks",
    ),
    Rule(
        "session-staff",
        "R-7.3-06",
        WARN,
        "the case manager delivers the sessions (same worker for a recipient)",
        "list the case manager in staff, or record a worker change",
    ),
    Rule(
        "over-plan",
        "R-7.2.2-01",
        WARN,
        "sessions beyond the planned number call for a plan adjustment",
        "adjust the plan (interop case plan CASE --form …)",
    ),
    Rule(
        "turning-18",
        "G-20",
        WARN,
        "a child turning 18 during service is flagged 30 days ahead (R-3.1-01)",
        "the supervisor decides to finish within the plan, close or transfer",
    ),
    # -- mid-term (T-12) ---------------------------------------------------------------
    Rule(
        "midterm-supervisor",
        "R-7.4.1-01",
        BLOCK,
        "only a supervisor (or the head) completes the mid-term evaluation",
        "name a supervisor or head listed on the case",
    ),
    Rule(
        "midterm-outcome",
        "R-7.4.1-02",
        WARN,
        "an outcome of adjust-plan or refer is acted on promptly (DL-04, DL-07, DL-08)",
        "adjust the plan within 5 working days, or open the referral",
    ),
    # -- crisis (T-18, T-19) -----------------------------------------------------------
    Rule(
        "crisis-safety",
        "R-7.6.1-03",
        WARN,
        "a crisis starts with an assessment of the child's health and safety",
        "record safety_assessment",
    ),
    Rule(
        "crisis-report",
        "DL-09",
        WARN,
        "a crisis is reported to the commissioner within 24 h (2 h when life is in danger)",
        "report it and record reported_to_commissioner_at",
    ),
    Rule(
        "crisis-carer",
        "R-7.6.1-04",
        BLOCK,
        "a crisis is not stabilised without a reliable carer watching over the child",
        "name the reliable carer (an adult of the case) with --carer",
    ),
    Rule(
        "crisis-reported",
        "R-7.6.1-02",
        BLOCK,
        "a crisis is not closed before it has been reported to the commissioner",
        "record reported_to_commissioner_at with --reported-at",
    ),
    # -- adjustment requests, worker change, contact (7.4.2, 7.3) ----------------------
    Rule(
        "request-reported",
        "DL-05",
        WARN,
        "the worker reports a pause, change or termination request within 2 working days",
        "report it to the contractor now",
    ),
    Rule(
        "request-done",
        "DL-06",
        WARN,
        "the contractor completes the adjustment within 5 working days of the report",
        "complete the adjustment now",
    ),
    Rule(
        "worker-change-agreed",
        "R-7.3-07",
        BLOCK,
        "a worker change has the recipient's agreement",
        "record the agreement with --agreed-by and --date",
    ),
    Rule(
        "contact-party",
        "R-7.3-03",
        BLOCK,
        "regular contact is with the family, school, village committee, township or hospital",
        "give --party family|school|village|township|hospital",
    ),
    # -- closure (T-16, T-17) -----------------------------------------------------------
    Rule(
        "closure-assessment",
        "CL-10",
        BLOCK,
        "the effect of service is assessed at closure (R-7.5.2-01)",
        "add a closure assessment (phase closure) to the form",
    ),
    Rule(
        "closure-instrument",
        "R-7.5.2-02",
        WARN,
        "the closure assessment uses an instrument of the intake assessment, or says why not",
        "use the intake instrument, or give instrument_override_reason",
        invariant="dc-bun-2",
    ),
    Rule(
        "unmet-goals",
        "R-7.5.1-02",
        BLOCK,
        "when a goal is not achieved, the reasons are analysed and measures taken",
        "give unmet_goal_analysis and measures_taken",
    ),
    Rule(
        "annex-d-signed",
        "R-D-01",
        BLOCK,
        "Annex D is confirmed by recipient or guardian, worker and supervisor (D-13..D-15; "
        "G-32: the recipient's may be replaced by a reason)",
        "add the three confirmations, or signature_unavailable_reason",
    ),
    Rule(
        "crisis-open-at-close",
        "R-7.6.1-01",
        BLOCK,
        "a case does not close while its crisis is still active or only stabilised",
        "resolve the crisis first: interop case crisis CASE --resolve …",
    ),
    Rule(
        "per-problem",
        "CL-02",
        WARN,
        "each problem gets at least 6 sessions at medium risk and 12 at high risk "
        "(R-7.3-12, CL-03)",
        "give per_problem_justification",
    ),
    Rule(
        "aged-out",
        "R-3.1-01",
        WARN,
        "the child turned 18 before closure: the closure reason says so (G-20)",
        "close with --reason aged-out, or record the supervisor's decision",
    ),
    Rule(
        "normal-resources",
        "R-6.1.1-03",
        BLOCK,
        "a child with a normal result is told where to find help before the case ends",
        "give --resources-given once the child has the information",
    ),
)

_STATE_RULES = (
    # -- an imported record whose state contradicts its content (§3.1) -----------------
    Rule(
        "state-intake",
        "R-7.1.1-06",
        WARN,
        "a case past intake has its Annex A",
        "record the intake with: interop case assess CASE --form annex-a.toml",
    ),
    Rule(
        "state-plan",
        "R-7.2.1-01",
        WARN,
        "a case with a drafted plan has its Annex B",
        "record the plan with: interop case plan CASE --form annex-b.toml",
    ),
    Rule(
        "state-served",
        "R-7.3-05",
        WARN,
        "a case in service has at least one session recorded",
        "record the sessions, or correct the state",
    ),
    Rule(
        "state-early-sessions",
        "R-7.2.3-01",
        WARN,
        "sessions come after the plan is confirmed and consent given",
        "correct the state, or record the plan and consent",
    ),
    Rule(
        "state-closed",
        "R-7.5.1-01",
        WARN,
        "a closed case has its Annex D (or ended before service with a reason)",
        "record the closure with: interop case close CASE --reason … --form annex-d.toml",
    ),
    Rule(
        "state-unknown",
        "R-7.6.2-01",
        WARN,
        "the state is one of the case states of the standard",
        "correct the state",
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
