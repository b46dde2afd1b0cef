"""Every deadline of the standard (DL-01..DL-17) on a case: start, due day, unit, met.

Working days follow §1.9.1: the event day is not counted, statutory holidays are
skipped and 调休 make-up days count (2025: National Day 1–8 October, make-up working
days Sunday 28 September and Saturday 11 October).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from case_support import IN_SERVICE, ROOT, calendar, record

from interop.core.adjustment import AdjustmentRequest
from interop.core.casedeadlines import DAYS, HOURS, WD, CaseDeadlines, DueItem, ReferralClock
from interop.core.contact import Contact
from interop.core.crisis import Crisis
from interop.core.midterm import Midterm
from interop.core.record import CaseRecord
from interop.core.workdays import CHINA_TZ


def items(rec: CaseRecord, rule: str, refs: list[ReferralClock] | None = None) -> list[DueItem]:
    return [d for d in CaseDeadlines(calendar()).items(rec, refs or []) if d.rule == rule]


def waiting(risk: str, received: str, **case: object) -> CaseRecord:
    """A case planned but not yet served (no session)."""
    rec = record(IN_SERVICE, state="ready", risk_level=risk, list_received_date=received, **case)
    rec.sessions = []
    return rec


def test_dl03_high_risk_5_wd_across_national_day_with_tiaoxiu() -> None:
    """DL-03: 5 wd from Fri 2025-09-26 = 28 Sep (调休), 29, 30, 9 Oct, 10 Oct."""
    (d,) = items(waiting("high", "2025-09-26"), "DL-03")
    assert (d.start, d.due, d.unit, d.limit) == (dt.date(2025, 9, 26), dt.date(2025, 10, 10), WD, 5)
    assert not d.provisional


def test_dl02_medium_risk_10_wd() -> None:
    """DL-02: 10 wd from 2025-09-26 — the 调休 Saturday 11 October counts (the 6th)."""
    (d,) = items(waiting("medium", "2025-09-26"), "DL-02")
    assert d.due == dt.date(2025, 10, 16)


def test_dl01_15_wd_from_the_agreement_and_met_by_the_first_session() -> None:
    rec = waiting("low", "2025-11-20", agreement_date="2025-12-01")
    (d,) = items(rec, "DL-01")
    assert d.due == dt.date(2025, 12, 22) and d.unit == WD
    served = record(IN_SERVICE, risk_level="low", agreement_date="2025-12-01")
    assert items(served, "DL-01") == []  # met by the first finished session


def test_g06_the_earliest_start_deadline_wins() -> None:
    rec = waiting("high", "2025-12-01", agreement_date="2025-11-01")
    rules = {d.rule for d in CaseDeadlines(calendar()).items(rec)}
    assert "DL-03" in rules and "DL-01" not in rules  # 5 wd beats 15 wd (G-04: from receipt)


def test_dl04_plan_change_5_wd_after_midterm_adjust_plan() -> None:
    rec = record(IN_SERVICE)
    rec.midterms.append(
        Midterm(id="m", date="2026-01-09", supervisor="staff-03", effect="e", outcome="adjust-plan")
    )
    (d,) = items(rec, "DL-04")
    assert d.due == dt.date(2026, 1, 16)
    rec.plans[0].created = "2026-01-12"  # a newer plan version (status active) meets it
    assert items(rec, "DL-04") == []


def test_dl05_report_in_2_wd_and_test_dl06_done_in_5_wd() -> None:
    rec = record(IN_SERVICE)
    rec.adjustments.append(AdjustmentRequest(id="a", type="change", received="2025-12-31"))
    (d,) = items(rec, "DL-05")
    assert d.due == dt.date(2026, 1, 5)  # 1 Jan is a holiday; 3-4 Jan weekend
    rec.adjustments[0].reported = "2026-01-05"
    assert items(rec, "DL-05") == []
    (d6,) = items(rec, "DL-06")
    assert d6.due == dt.date(2026, 1, 12)
    rec.adjustments[0].completed = "2026-01-08"
    assert items(rec, "DL-06") == []


def test_dl07_referral_application_in_1_wd_and_review_in_2_wd() -> None:
    rec = record(IN_SERVICE)
    assert rec.intake is not None
    rec.intake.referral_triggers = ["RT-02"]
    (d,) = items(rec, "DL-07")
    assert d.start == dt.date.fromisoformat(rec.intake.assessment_date) and d.limit == 1
    ref = ReferralClock(
        rec.case.case_number, "RT-02", "under-review", "2026-01-05T10:00:00+08:00", None, None, []
    )
    (review,) = items(rec, "DL-07", [ref])
    assert review.event == "referral review" and review.due == dt.date(2026, 1, 7)


def test_dl08_refer_immediately_same_day_met_by_a_crisis() -> None:
    rec = record(IN_SERVICE)
    rec.midterms.append(
        Midterm(
            id="m",
            date="2026-01-09",
            supervisor="staff-03",
            effect="e",
            outcome="refer-immediately",
        )
    )
    (d,) = items(rec, "DL-08")
    assert d.due == d.start == dt.date(2026, 1, 9) and d.unit == DAYS
    rec.crises.append(
        Crisis(
            id="c",
            type="life-self",
            detected_at="2026-01-09T15:00:00+08:00",
            detected_by="staff-01",
        )
    )
    assert items(rec, "DL-08") == []


def test_dl09_crisis_report_2_h_for_life_danger_24_h_otherwise() -> None:
    rec = record(IN_SERVICE)
    rec.crises.append(
        Crisis(
            id="c",
            type="life-self",
            detected_at="2026-01-09T23:00:00+08:00",
            detected_by="staff-01",
        )
    )
    (d,) = items(rec, "DL-09")
    assert d.unit == HOURS and d.due_at == dt.datetime(2026, 1, 10, 1, 0, tzinfo=CHINA_TZ)
    assert d.overdue(dt.datetime(2026, 1, 10, 1, 1, tzinfo=CHINA_TZ))
    assert not d.overdue(dt.datetime(2026, 1, 10, 0, 59, tzinfo=CHINA_TZ))
    rec.crises[0].type = "environment-threat"
    (d,) = items(rec, "DL-09")
    assert d.limit == 24
    rec.crises[0].reported_to_commissioner_at = "2026-01-10T08:00:00+08:00"
    assert items(rec, "DL-09") == []


def test_dl10_feedback_10_wd_after_hand_over() -> None:
    rec = record(IN_SERVICE)
    ref = ReferralClock(
        rec.case.case_number, "RT-05", "handed-over", "2026-01-05T10:00:00+08:00",
        "2026-01-06T10:00:00+08:00", None, [],
    )  # fmt: skip
    (d,) = items(rec, "DL-10", [ref])
    assert d.due == dt.date(2026, 1, 20) and d.limit == 10


def test_dl11_next_session_within_a_week() -> None:
    (d,) = items(record(IN_SERVICE), "DL-11")
    assert (d.start, d.due, d.unit) == (dt.date(2025, 12, 24), dt.date(2025, 12, 31), DAYS)
    assert d.overdue(dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=CHINA_TZ))
    paused = record(IN_SERVICE, state="paused")
    assert items(paused, "DL-11") == []  # suspended while paused (T-13)


def test_dl12_midterm_5_wd_after_half_the_sessions_or_the_midpoint() -> None:
    rec = record(IN_SERVICE)  # 8 planned 2025-12-08..2026-02-16: midpoint 2026-01-12
    (d,) = items(rec, "DL-12")
    assert d.start == dt.date(2026, 1, 12) and d.due == dt.date(2026, 1, 19)
    rec.plans[0].planned_session_count = 6  # 3 of 6 finished: the 3rd session, 2025-12-24
    (d,) = items(rec, "DL-12")
    assert d.start == dt.date(2025, 12, 24) and d.due == dt.date(2025, 12, 31)
    rec.midterms.append(
        Midterm(id="m", date="2025-12-30", supervisor="staff-03", effect="e", outcome="continue")
    )
    assert items(rec, "DL-12") == []


def test_dl13_monthly_contact_per_party() -> None:
    rec = record(IN_SERVICE)
    parties = {d.event: d.due for d in items(rec, "DL-13")}
    assert parties["last contact with school"] == dt.date(2026, 1, 10)  # from the first session
    rec.contacts.append(Contact(date="2026-01-05", party="school", channel="phone"))
    parties = {d.event: d.due for d in items(rec, "DL-13")}
    assert parties["last contact with school"] == dt.date(2026, 2, 5)
    assert parties["last contact with family"] == dt.date(2026, 1, 10)


def test_dl14_hand_over_by_the_end_of_the_agreement() -> None:
    rec = record("04-closed-pre-post.json", agreement_date="2025-06-01", agreement_end="2026-12-31")
    (d,) = items(rec, "DL-14")
    assert d.due == dt.date(2026, 12, 31)
    rec.case.state = "archived-handed-over"
    assert items(rec, "DL-14") == []


def test_dl15_backup_is_not_a_case_deadline() -> None:
    """DL-15 (daily backup) belongs to the deployment: never listed, and the
    conformance page says so."""
    rec = record(IN_SERVICE, agreement_end="2026-12-31")
    assert not [d for d in CaseDeadlines(calendar()).items(rec) if d.rule == "DL-15"]
    text = (ROOT / "docs" / "conformance.md").read_text("utf-8")
    line = next(x for x in text.splitlines() if x.startswith("| DL-15 "))
    assert "out of scope" in line


def test_dl16_qualification_review_every_12_months() -> None:
    rec = record(IN_SERVICE)
    rec.staff[0].qualification_reviewed = "2025-03-31"
    (d,) = items(rec, "DL-16")
    assert d.due == dt.date(2026, 3, 31) and d.worker == "staff-01"


def test_dl17_discharge_follow_up_met_one_by_one() -> None:
    rec = record(IN_SERVICE)
    follow = [
        {"due": "2026-01-12", "provisional": False, "kind": "first"},
        {"due": "2026-02-12", "provisional": False, "kind": "monthly"},
    ]
    ref = ReferralClock(
        rec.case.case_number, "RT-02", "closed", "2025-12-01T10:00:00+08:00",
        "2025-12-02T10:00:00+08:00", "2026-01-05T10:00:00+08:00", follow,
    )  # fmt: skip
    (d,) = items(rec, "DL-17", [ref])
    assert d.due == dt.date(2026, 1, 12)
    rec.sessions[-1].start = "2026-01-08T14:30:00+08:00"
    rec.sessions[-1].end = "2026-01-08T16:00:00+08:00"
    rec.sessions[-1].service_type = "post-discharge-follow-up"
    (d,) = items(rec, "DL-17", [ref])
    assert d.due == dt.date(2026, 2, 12)


def test_provisional_into_an_unpublished_year() -> None:
    (d,) = items(waiting("medium", "2026-12-24"), "DL-02")
    assert d.provisional and d.due.year == 2027


@pytest.mark.parametrize("rule", [f"DL-{n:02d}" for n in range(1, 18)])
def test_every_deadline_rule_has_a_test(rule: str) -> None:
    assert f"test_{rule.lower().replace('-', '')}" in Path(__file__).read_text("utf-8")
