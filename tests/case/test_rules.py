"""The rules checked at each step: allowed, refused (block) or recorded with a warning.

Each test names the rule key and the requirement ID it pins; the last test holds
every rule of the catalogue to a test here.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from case_support import IN_SERVICE, ROOT, doc, record, session_data, stepper

from interop.caserecord import build_part
from interop.casework.stepper import Step, StepRefused
from interop.core.adjustment import AdjustmentRequest, WorkerChange
from interop.core.case import Signature
from interop.core.caserules import BLOCK, RULES, WARN
from interop.core.contact import Contact
from interop.core.record import CaseRecord


def keys(step: Step) -> set[str]:
    return {f.key for f in step.findings}


def refused(fn: Any, *args: Any) -> set[str]:
    with pytest.raises(StepRefused) as err:
        fn(*args)
    assert err.value.code == "E251" and err.value.exit_code == 1
    return {f.key for f in err.value.findings}


# -- assignment (T-02) -----------------------------------------------------------------


def test_caseload_cl04_ninth_case_refused_eighth_allowed() -> None:
    """CL-04 / R-7.3-08: at most 8 open cases per worker (G-09)."""
    rec = record("listed.json")
    seven = {f"C{i}" for i in range(7)}
    step = stepper(rec, "assign", carried=seven).assign("staff-01", "2026-02-14")
    assert step.state == "intake" and "caseload" not in keys(step)
    eight = {f"C{i}" for i in range(8)}
    s = stepper(rec, "assign", carried=eight)
    assert "caseload" in refused(s.assign, "staff-01", "2026-02-14")
    # the case itself does not count against its own worker
    again = stepper(rec, "assign", carried=seven | {rec.case.case_number})
    assert "caseload" not in keys(again.assign("staff-01", "2026-02-14"))


def test_worker_qualified_r_5_2_2_01() -> None:
    rec = record("listed.json")
    assert "worker-qualified" in refused(stepper(rec, "assign").assign, "staff-99", "2026-02-14")
    rec.staff[1].qualifications = []
    assert "worker-qualified" in refused(stepper(rec, "assign").assign, "staff-02", "2026-02-14")


def test_age_at_intake_cl08_refused_at_18() -> None:
    """CL-08 / R-3.1-01: the child is under 18 at intake (invariant dc-eoc-1)."""
    rec = record("listed.json")  # born 2012-12
    assert "age-at-intake" in refused(stepper(rec, "assign").assign, "staff-01", "2030-12-01")
    assert stepper(rec, "assign").assign("staff-01", "2030-11-30").state == "intake"


# -- Annex A (T-05), review (T-06) ----------------------------------------------------------


def annex_a(**over: Any) -> dict[str, Any]:
    a = copy.deepcopy(doc("06-listed-intake-only.json")["intake"])
    a["recipient_confirmation"] = {"signer": "adult-01", "date": "2026-02-15"}
    a["worker_confirmation"] = {"signer": "staff-01", "date": "2026-02-15"}
    a.update(over)
    return a


def intake_case() -> CaseRecord:
    rec = record("listed.json", state="intake", care_manager="staff-01", intake_date="2026-02-14")
    return rec


def test_annex_a_signed_r_a_03() -> None:
    step = stepper(intake_case(), "assess").assess(annex_a(), {})
    assert step.state == "feasibility-assessed" and not keys(step)
    unsigned = annex_a()
    del unsigned["worker_confirmation"]
    assert "annex-a-signed" in refused(stepper(intake_case(), "assess").assess, unsigned, {})


@pytest.mark.parametrize(
    ("key", "over"),
    [
        ("competence", {"competence_match": "not-matched"}),
        ("emergency", {"emergency_present": True, "emergency_detail": "x"}),
        ("referral-status", {"referral_triggers": ["RT-02"]}),
        ("child-views", {"child_views": None}),
        ("low-risk", {"risk_level": "low"}),
        ("prior-counselling", {"prior_counselling_count": 2}),
    ],
)
def test_annex_a_warnings_record_the_step(key: str, over: dict[str, Any]) -> None:
    """R-7.1.1-05, R-A-02, R-7.1.2-01, R-4.2-01, G-15, R-9.2-01: recorded with the issue."""
    data = {k: v for k, v in annex_a(**over).items() if v is not None}
    step = stepper(intake_case(), "assess").assess(data, {})
    assert step.state == "feasibility-assessed"
    assert key in keys(step) and RULES[key].severity == WARN


def test_residence_r_5_1_01_warns_outside_jiangxi() -> None:
    rec = intake_case()
    rec.child.home_address.division = "110101"
    rec.child.household_registration.division = "110101"
    assert "residence" in keys(stepper(rec, "assess").assess(annex_a(), {}))


def test_feasibility_not_indicated_ends_before_service_t03() -> None:
    step = stepper(intake_case(), "assess").assess(
        annex_a(feasibility_conclusion="not-indicated", risk_level="normal"), {}
    )
    assert step.state == "not-accepted" and step.record.case.closure_reason == "not-indicated"
    assert [t.id for t in step.transitions] == ["T-03"]


def test_annex_a_sealed_r_7_1_3_01() -> None:
    rec = record("06-listed-intake-only.json", state="feasibility-assessed")
    assert stepper(rec, "review").review("staff-03", "2026-02-20").state == "org-reviewed"
    assert "annex-a-sealed" in refused(stepper(rec, "review").review, "staff-01", "2026-02-20")


# -- Annex B (T-08, T-09, T-22) -------------------------------------------------------------


def plan_data(**over: Any) -> dict[str, Any]:
    p = copy.deepcopy(doc(IN_SERVICE)["plans"][0])
    for k in ("id", "version", "status"):
        p.pop(k)
    p.update(created="2026-01-05")
    p.update(over)
    return p


def test_plan_count_cl01_refused_below_6() -> None:
    """CL-01 / R-7.2.1-03 (invariant dc-cp-1)."""
    rec = record(IN_SERVICE)
    assert "plan-count" in refused(
        stepper(rec, "plan").plan, plan_data(planned_session_count=5), {}
    )
    step = stepper(rec, "plan").plan(plan_data(planned_session_count=6), {})
    assert "plan-count" not in keys(step) and step.record.plans[-1].version == 2
    assert [p.status for p in step.record.plans] == ["revoked", "active"]  # nothing deleted


def test_medium_high_plan_r_6_1_1_05() -> None:
    rec = record(IN_SERVICE)
    bad = plan_data(service_types=["counselling"])
    assert "medium-high-plan" in refused(stepper(rec, "plan").plan, bad, {})


def test_high_risk_count_cl03_warns_without_justification() -> None:
    rec = record(IN_SERVICE, risk_level="high")
    assert "high-risk-count" in keys(stepper(rec, "plan").plan(plan_data(), {}))
    ok = plan_data(high_risk_justification="提前转介")
    assert "high-risk-count" not in keys(stepper(rec, "plan").plan(ok, {}))


@pytest.mark.parametrize(
    ("key", "over"),
    [
        ("plan-length", {"session_minutes_max": 150}),
        ("plan-methods", {"methods": ["individual"]}),
        ("plan-precautions", {"precautions": None}),
        ("plan-goals", {"goals": []}),
        ("plan-sealed", {"supervisor_approval": None}),
        ("frequency-reduction", {"frequency_per_week": 0}),
    ],
)
def test_plan_warnings(key: str, over: dict[str, Any]) -> None:
    """R-7.3-09, R-8.1-02, R-7.2.1-02, R-7.5.1-01, R-B-03, R-7.3-11."""
    data = {k: v for k, v in plan_data(**over).items() if v is not None}
    step = stepper(record(IN_SERVICE), "plan").plan(data, {})
    assert key in keys(step)


def test_unsealed_plan_stays_a_draft_and_the_active_one_stays() -> None:
    data = plan_data()
    del data["supervisor_approval"]
    step = stepper(record(IN_SERVICE), "plan").plan(data, {})
    assert [p.status for p in step.record.plans] == ["active", "draft"]


def test_plan_with_consent_makes_the_case_ready_t09() -> None:
    rec = record(IN_SERVICE, state="agreement-signed")
    rec.plans, rec.sessions, rec.consents = [], [], []
    step = stepper(rec, "plan").plan(plan_data(), {})
    assert step.state == "plan-drafted"  # no consent yet
    consent = build_part(
        __import__("interop.core.consent", fromlist=["Consent"]).Consent,
        {"id": "c1", "topic": "service", "grantor": "adult-01", "date": "2026-01-05"},
    )
    step = stepper(rec, "plan").plan(plan_data(), {"consents": [consent]})
    assert step.state == "ready" and [t.id for t in step.transitions] == ["T-08", "T-09"]


# -- Annex C (T-10, T-11) ---------------------------------------------------------------------


def test_session_allowed_breaks_nothing() -> None:
    step = stepper(record(IN_SERVICE), "session").session(session_data())
    assert not keys(step) and step.record.sessions[-1].number == 4


def test_consent_first_r_7_2_3_01() -> None:
    """R-7.2.3-01 (invariant dc-bun-1): no session without active service consent."""
    rec = record(IN_SERVICE)
    rec.consents = []
    assert "consent-first" in refused(stepper(rec, "session").session, session_data())
    rec = record(IN_SERVICE)
    rec.consents[0].withdrawn_date = "2025-12-30"
    assert "consent-first" in refused(stepper(rec, "session").session, session_data())


def home(**over: Any) -> dict[str, Any]:
    return session_data(location="home", staff=["staff-01", "staff-02"], **over)


NOTIFIED = {"time": "2025-12-31T09:00:00+08:00", "channel": "phone", "by": "staff-01"}


def test_home_two_staff_cl07() -> None:
    """CL-07 / R-7.3-17 (dc-enc-1): two staff when the guardian is absent."""
    rec = record(IN_SERVICE)
    ok = home(guardian_present=False, guardian_notified=NOTIFIED)
    assert not keys(stepper(rec, "session").session(ok))
    alone = {**ok, "staff": ["staff-01"]}
    assert "home-two-staff" in refused(stepper(rec, "session").session, alone)
    present = {**alone, "guardian_present": True}
    assert "home-two-staff" not in keys(stepper(rec, "session").session(present))


def test_home_guardian_told_r_7_3_16() -> None:
    """R-7.3-16 (dc-enc-2, dc-enc-3): the absent guardian is told; presence is recorded."""
    rec = record(IN_SERVICE)
    assert "home-guardian-told" in refused(
        stepper(rec, "session").session, home(guardian_present=False)
    )
    assert "home-guardian-present" in refused(stepper(rec, "session").session, home())


def test_session_times_c06() -> None:
    bad = session_data(end="2025-12-31T14:00:00+08:00")
    assert "session-times" in refused(stepper(record(IN_SERVICE), "session").session, bad)


def test_session_length_cl05_warns_and_override_clears() -> None:
    """CL-05 / R-7.3-09: 0 minutes or 3 hours warn; a reason clears the warning."""
    short = session_data(end="2025-12-31T15:00:00+08:00")
    assert "session-length" in keys(stepper(record(IN_SERVICE), "session").session(short))
    long = session_data(end="2025-12-31T17:31:00+08:00", duration_override_reason="家庭会谈")
    assert "session-length" not in keys(stepper(record(IN_SERVICE), "session").session(long))


@pytest.mark.parametrize(
    ("key", "over"),
    [
        ("private-space", {"private_space_confirmed": False}),
        ("session-staff", {"staff": ["staff-02"]}),
        (
            "session-gap",
            {"start": "2026-01-20T14:30:00+08:00", "end": "2026-01-20T16:00:00+08:00"},
        ),
    ],
)
def test_session_warnings(key: str, over: dict[str, Any]) -> None:
    """R-7.3-14, R-7.3-06, R-7.3-10 (DL-11)."""
    assert key in keys(stepper(record(IN_SERVICE), "session").session(session_data(**over)))


def test_over_plan_r_7_2_2_01_and_midterm_due_t12() -> None:
    rec = record(IN_SERVICE)
    rec.plans[0].planned_session_count = 3
    step = stepper(rec, "session").session(session_data())
    assert "over-plan" in keys(step)
    rec = record(IN_SERVICE)  # 4 of 8: ⌈8/2⌉ reached (G-11)
    step = stepper(rec, "session").session(session_data())
    assert step.state == "midterm" and [t.id for t in step.transitions] == ["T-11", "T-12"]


def test_turning_18_g20_warns_30_days_ahead() -> None:
    rec = record(IN_SERVICE)
    rec.child.birth_date = "2008-01-20"
    assert "turning-18" in keys(stepper(rec, "session").session(session_data()))
    rec.child.birth_date = "2008-03-20"
    assert "turning-18" not in keys(stepper(rec, "session").session(session_data()))


# -- mid-term (T-12), crisis (T-18, T-19) ---------------------------------------------------


MID = {"date": "2026-01-10", "supervisor": "staff-03", "effect": "好转", "outcome": "continue"}


def test_midterm_supervisor_r_7_4_1_01() -> None:
    rec = record(IN_SERVICE, state="midterm")
    step = stepper(rec, "midterm").midterm(MID)
    assert step.state == "in-service" and not keys(step)
    assert "midterm-supervisor" in refused(
        stepper(rec, "midterm").midterm, {**MID, "supervisor": "staff-01"}
    )
    assert "midterm-outcome" in keys(
        stepper(rec, "midterm").midterm({**MID, "outcome": "adjust-plan"})
    )


CRISIS = {
    "type": "life-self",
    "detected_at": "2026-01-02T10:00:00+08:00",
    "detected_by": "staff-01",
    "safety_assessment": "已评估",
    "reported_to_commissioner_at": "2026-01-02T11:00:00+08:00",
}


def test_crisis_open_and_warnings_dl09_r_7_6_1_03() -> None:
    rec = record(IN_SERVICE)
    assert not keys(stepper(rec, "crisis").crisis(CRISIS))
    late = {**CRISIS, "reported_to_commissioner_at": "2026-01-02T13:00:00+08:00"}
    assert "crisis-report" in keys(stepper(rec, "crisis").crisis(late))  # 2 h, life danger
    env = {**late, "type": "environment-threat"}
    assert "crisis-report" not in keys(stepper(rec, "crisis").crisis(env))  # 24 h
    bare = {k: v for k, v in CRISIS.items() if k != "safety_assessment"}
    assert "crisis-safety" in keys(stepper(rec, "crisis").crisis(bare))


def test_crisis_carer_r_7_6_1_04_blocks_stabilising() -> None:
    """R-7.6.1-04: a crisis cannot be stabilised without a reliable carer."""
    rec = stepper(record(IN_SERVICE), "crisis").crisis(CRISIS).record
    s = stepper(rec, "crisis-update")
    assert "crisis-carer" in refused(s.crisis_update, None, {"status": "stabilised"})
    assert "crisis-carer" in refused(
        stepper(rec, "crisis-update").crisis_update,
        None,
        {"status": "stabilised", "reliable_carer": "adult-99"},
    )
    step = stepper(rec, "crisis-update").crisis_update(
        None, {"status": "stabilised", "reliable_carer": "adult-01"}
    )
    assert step.record.crises[-1].status == "stabilised"


def test_crisis_reported_r_7_6_1_02_before_resolving() -> None:
    data = {k: v for k, v in CRISIS.items() if k != "reported_to_commissioner_at"}
    rec = stepper(record(IN_SERVICE), "crisis").crisis(data).record
    change = {"status": "resolved", "reliable_carer": "adult-01"}
    assert "crisis-reported" in refused(stepper(rec, "crisis-update").crisis_update, None, change)


# -- requests, worker change, contact --------------------------------------------------------


def test_request_reported_dl05_and_done_dl06() -> None:
    rec = record(IN_SERVICE)
    ok = AdjustmentRequest(
        id="r1", type="pause", received="2026-01-05", reported="2026-01-06",
        completed="2026-01-08", child_views="想休息两周",
    )  # fmt: skip
    step = stepper(rec, "adjustment-request").adjustment(ok)
    assert step.state == "paused" and not keys(step)
    late = AdjustmentRequest(
        id="r2", type="change", received="2026-01-05", reported="2026-01-09",
        completed="2026-01-30", child_views="x",
    )  # fmt: skip
    step = stepper(rec, "adjustment-request").adjustment(late)
    assert {"request-reported", "request-done"} <= keys(step) and step.state == "in-service"


def test_terminate_request_moves_to_closing_t15() -> None:
    req = AdjustmentRequest(
        id="r", type="terminate", received="2026-01-05", reported="2026-01-05",
        completed="2026-01-06", child_views="不想继续",
    )  # fmt: skip
    step = stepper(record(IN_SERVICE), "adjustment-request").adjustment(req)
    assert step.state == "closing" and step.record.case.closure_reason == "terminated-on-request"


def test_worker_change_agreed_r_7_3_07_and_caseload() -> None:
    rec = record(IN_SERVICE)
    agreed = Signature(signer="adult-01", date="2026-01-05")
    change = WorkerChange(date="2026-01-05", to_worker="staff-02", reason="离职", agreement=agreed)
    step = stepper(rec, "transfer").transfer(change)
    assert step.record.case.care_manager == "staff-02" and not keys(step)
    no = WorkerChange(date="2026-01-05", to_worker="staff-02", reason="离职")
    assert "worker-change-agreed" in refused(stepper(rec, "transfer").transfer, no)
    full = stepper(rec, "transfer", carried={f"C{i}" for i in range(8)})
    change2 = WorkerChange(date="2026-01-05", to_worker="staff-02", reason="离职", agreement=agreed)
    assert "caseload" in refused(full.transfer, change2)


def test_contact_party_r_7_3_03() -> None:
    rec = record(IN_SERVICE)
    ok = Contact(date="2026-01-05", party="school", channel="phone", summary="stable")
    assert not keys(stepper(rec, "contact").contact(ok))
    bad = Contact(date="2026-01-05", party="newspaper", channel="phone")
    assert "contact-party" in refused(stepper(rec, "contact").contact, bad)


# -- Annex D (T-16, T-17) ---------------------------------------------------------------------


def closing_case() -> CaseRecord:
    return record("04-closed-pre-post.json", state="in-service", closure_reason=None)


def annex_d(**over: Any) -> dict[str, Any]:
    d = copy.deepcopy(doc("04-closed-pre-post.json")["closure"])
    d.pop("reason")
    d.update(unmet_goal_analysis="原因", measures_taken="措施")
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def close(rec: CaseRecord, data: dict[str, Any] | None, reason: str = "goals-achieved") -> Step:
    return stepper(rec, "close").close(reason, "2026-04-26", data, {}, False)


def bare_close(rec: CaseRecord) -> CaseRecord:
    rec.closure = None
    return rec


def test_closure_allowed_t16_t17() -> None:
    rec = bare_close(closing_case())
    step = close(rec, annex_d())
    assert step.state == "closed" and [t.id for t in step.transitions] == ["T-16", "T-17"]


def test_closure_assessment_cl10() -> None:
    rec = bare_close(closing_case())
    rec.assessments = [a for a in rec.assessments if a.phase != "closure"]
    assert "closure-assessment" in refused(close, rec, annex_d())


def test_closure_instrument_r_7_5_2_02_warns() -> None:
    """R-7.5.2-02 (dc-bun-2): another instrument warns unless justified."""
    rec = bare_close(closing_case())
    rec.assessments[-1].scale_code = "OTHER"
    assert "closure-instrument" in keys(close(rec, annex_d()))
    rec.assessments[-1].instrument_override_reason = "原量表停用"
    assert "closure-instrument" not in keys(close(rec, annex_d()))


def test_unmet_goals_r_7_5_1_02() -> None:
    rec = bare_close(closing_case())
    rec.plans[-1].goals[0].achievement = "not-achieved"
    assert "unmet-goals" in refused(close, rec, annex_d(unmet_goal_analysis=None))


def test_annex_d_signed_r_d_01_and_g32() -> None:
    rec = bare_close(closing_case())
    assert "annex-d-signed" in refused(close, rec, annex_d(recipient_confirmation=None))
    why = annex_d(recipient_confirmation=None, signature_unavailable_reason="监护人外出务工")
    assert "annex-d-signed" not in keys(close(rec, why))


def test_crisis_open_at_close_r_7_6_1_01() -> None:
    rec = stepper(bare_close(closing_case()), "crisis").crisis(CRISIS).record
    assert "crisis-open-at-close" in refused(close, rec, annex_d())


def test_per_problem_cl02_cl03_warns_under_the_minimum() -> None:
    """CL-02/CL-03: 8 sessions per problem are enough at medium risk, not at high."""
    rec = bare_close(closing_case())
    rec.case.risk_level = "medium"
    assert "per-problem" not in keys(close(rec, annex_d()))
    rec.case.risk_level = "high"
    assert "per-problem" in keys(close(rec, annex_d()))
    assert "per-problem" not in keys(close(rec, annex_d(per_problem_justification="提前达成")))


def test_aged_out_r_3_1_01_birthday_before_closure() -> None:
    rec = bare_close(closing_case())
    rec.child.birth_date = "2008-03-01"
    assert "aged-out" in keys(close(rec, annex_d()))
    assert "aged-out" not in keys(close(rec, annex_d(), "aged-out"))


def test_normal_resources_r_6_1_1_03_before_service() -> None:
    rec = record("06-listed-intake-only.json")  # state intake
    s = stepper(rec, "close")
    assert "normal-resources" in refused(s.close, "normal", "2026-02-20", None, {}, False)
    step = stepper(rec, "close").close("normal", "2026-02-20", None, {}, True)
    assert step.state == "not-accepted" and step.record.case.closure_reason == "not-indicated"


# -- one rule, two places: the FHIRPath invariants of profiles/ --------------------------------


def invariant_keys() -> dict[str, str]:
    out = {}
    for f in (ROOT / "profiles").glob("StructureDefinition-*.json"):
        for e in json.loads(f.read_text("utf-8")).get("differential", {}).get("element", []):
            for c in e.get("constraint") or []:
                out[c["key"]] = c["human"]
    return out


def test_rules_name_existing_invariants() -> None:
    known = invariant_keys()
    for r in RULES.values():
        if r.invariant:
            assert r.invariant in known, r


@pytest.mark.parametrize(
    ("file", "key"),
    [
        ("plan-5-sessions.json", "plan-count"),
        ("medium-risk-no-intervention.json", "medium-high-plan"),
        ("home-visit-one-staff.json", "home-two-staff"),
        ("home-visit-not-notified.json", "home-guardian-told"),
        ("session-without-consent.json", "consent-first"),
        ("closure-other-instrument.json", "closure-instrument"),
    ],
)
def test_rule_breaking_files_break_the_same_rule_here(file: str, key: str) -> None:
    """The files the FHIR invariants catch at `interop map` break the same rule at a step."""
    from interop.core import casechecks as chk

    data = json.loads((ROOT / "tests/data/cases/rule-breaking" / file).read_text("utf-8"))
    rec: CaseRecord = build_part(CaseRecord, data)
    found: set[str] = set()
    for p in rec.plans:
        found |= {f.key for f in chk.check_plan(rec, p)}
    for s in rec.sessions:
        found |= {f.key for f in chk.check_session(rec, s)}
    if rec.closure is not None:
        found |= {f.key for f in chk.check_closure(rec, rec.closure, True)}
    assert key in found
    assert RULES[key].invariant is not None


def test_every_rule_has_a_test_here() -> None:
    text = Path(__file__).read_text("utf-8")
    mentioned = set(re.findall(r'"([a-z0-9-]+)"', text))
    state_rules = {k for k in RULES if k.startswith("state-")}  # tests/case/test_case_cli.py
    missing = set(RULES) - mentioned - state_rules
    assert not missing
    assert {r.severity for r in RULES.values()} == {BLOCK, WARN}
