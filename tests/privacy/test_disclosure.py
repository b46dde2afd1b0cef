"""The disclosure workflow on a real archive (SQLite file and PostgreSQL): consent,
supervisor review with four-eyes, break-glass, and what each step writes (9.3, 4.7,
G-12, G-16, G-25)."""

from __future__ import annotations

import datetime as dt
import hashlib

import orjson
import pytest
from privacy_support import NOW, case_doc, make_discloser, school_consent, store

from interop.config import Config
from interop.engine import Engine
from interop.exchange.driver import Driver
from interop.exchange.outbox import Outbox
from interop.privacy import audit
from interop.privacy.disclosure import Discloser, DisclosureError
from interop.store import Archive


def _actions(archive: Archive) -> list[str]:
    with archive.engine.connect() as conn:
        return [r.action for r in audit.rows(conn)]


def test_school_share_waits_for_review_then_the_approved_bytes_are_the_previewed_ones(
    discloser: Discloser, school_case: str, archive: Archive
) -> None:
    preview = discloser.request(
        school_case,
        purpose="school-support",
        partner="school-mingde",
        requester="staff-01",
        dry_run=True,
    )
    assert preview.status == "pending" and preview.payload is not None
    d = discloser.request(
        school_case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    # The plan's school part is C-class content: per-disclosure review (G-12).
    assert d.status == "pending"
    assert any("consent-class (C)" in r for r in d.reasons)
    assert d.sha256 == hashlib.sha256(d.payload or b"").hexdigest()
    approved = discloser.approve(d.id, approver="staff-03")
    assert approved.status == "approved" and approved.approver == "staff-03"
    assert approved.payload == d.payload and approved.sha256 == d.sha256
    assert orjson.loads(approved.payload or b"") == d.bundle
    # Preview and request differ only in Bundle id (a new one per disclosure).
    a, b = orjson.loads(preview.payload or b""), orjson.loads(d.payload or b"")
    a.pop("id"), b.pop("id")
    assert a == b
    assert _actions(archive) == ["preview", "pending", "approval"]


def test_status_summary_alone_is_pre_approved(
    archive: Archive, engine: Engine, config: Config
) -> None:
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(school_consent())
    doc["plans"][0].pop("reenrolment_support")
    doc["plans"][0]["status"] = "completed"
    case = store(archive, engine, doc)
    d = make_discloser(archive, engine, config).request(
        case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    assert d.status == "approved", d.reasons
    assert "CarePlan" not in {e["resource"]["resourceType"] for e in (d.bundle or {})["entry"]}


def test_pre_approval_lapses_after_its_quarter(
    archive: Archive, engine: Engine, config: Config
) -> None:
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(school_consent(period_end="2027-12-31"))
    doc["plans"][0]["status"] = "completed"
    case = store(archive, engine, doc)
    later = dt.datetime(2027, 1, 5, 10, 0, tzinfo=NOW.tzinfo)
    d = make_discloser(archive, engine, config, now=later).request(
        case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    assert d.status == "pending"
    assert any("lapsed on 2026-12-31" in r for r in d.reasons)


@pytest.mark.parametrize(
    ("consent", "why"),
    [
        (None, "no consent of topic 'school-contact'"),
        (school_consent(status="inactive", withdrawn_date="2026-11-25"), "withdrawn on 2026-11-25"),
        (school_consent(withdrawn_date="2026-11-29"), "withdrawn on 2026-11-29"),
        (school_consent(period_end="2026-11-29"), "expired on 2026-11-29"),
        (school_consent(period_start="2026-12-01"), "starts on 2026-12-01"),
        (school_consent(child_assent=None), "assent is not recorded"),
        (school_consent(child_assent=False), "assent is refused"),
    ],
)
def test_consent_missing_withdrawn_expired_or_without_assent_is_refused(
    archive: Archive, engine: Engine, config: Config, consent: dict[str, object] | None, why: str
) -> None:
    doc = case_doc("05-disability-reenrolment.json")
    if consent is not None:
        doc["consents"].append(consent)
    case = store(archive, engine, doc)
    d = make_discloser(archive, engine, config).request(
        case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    assert d.status == "refused"
    assert d.payload is None and d.bundle is None
    assert any(why in r for r in d.reasons), d.reasons
    with archive.engine.connect() as conn:
        rows = audit.rows(conn, case_number=case)
    assert [r.action for r in rows] == ["refusal"]
    assert why in rows[0].event["outcomeDesc"]


def test_consent_withdrawn_between_request_and_approval_refuses_it(
    archive: Archive, engine: Engine, config: Config, school_case: str
) -> None:
    discloser = make_discloser(archive, engine, config)
    d = discloser.request(
        school_case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(school_consent(status="inactive", withdrawn_date="2026-11-30"))
    store(archive, engine, doc)
    out = discloser.approve(d.id, approver="staff-03")
    assert out.status == "refused"
    assert not out.may_leave


def test_four_eyes_the_requester_cannot_approve_their_own(
    archive: Archive, engine: Engine, config: Config, school_case: str
) -> None:
    discloser = make_discloser(archive, engine, config)
    d = discloser.request(
        school_case, purpose="school-support", partner="school-mingde", requester="staff-03"
    )
    with pytest.raises(DisclosureError, match="G-16"):
        discloser.approve(d.id, approver="staff-03")
    with pytest.raises(DisclosureError, match="only a supervisor or org-lead"):
        discloser.approve(d.id, approver="staff-02")
    with pytest.raises(DisclosureError, match="only a supervisor or org-lead"):
        discloser.approve(d.id, approver="someone-else")
    assert discloser.get(d.id).status == "pending"
    assert _actions(archive)[-3:] == ["approval-refused"] * 3


def test_reject_keeps_it_from_leaving(
    discloser: Discloser, school_case: str, archive: Archive
) -> None:
    d = discloser.request(
        school_case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    out = discloser.reject(d.id, approver="staff-03", reason="wait for the school meeting")
    assert out.status == "rejected" and not out.may_leave
    with pytest.raises(DisclosureError, match="not pending"):
        discloser.approve(d.id, approver="staff-03")
    with Driver(discloser) as driver, pytest.raises(DisclosureError, match="may not leave"):
        driver.hand_over(out)
    assert Outbox(archive).items() == []
    assert _actions(archive) == [
        "pending",
        "rejection",
    ]


def test_requester_must_be_staff_of_the_case(discloser: Discloser, school_case: str) -> None:
    d = discloser.request(
        school_case, purpose="school-support", partner="school-mingde", requester="staff-99"
    )
    assert d.status == "refused"
    assert "not staff of this case" in d.reasons[0]


def test_no_policy_for_the_partner_kind_is_refused(discloser: Discloser, school_case: str) -> None:
    d = discloser.request(
        school_case, purpose="ca-oversight", partner="school-mingde", requester="staff-01"
    )
    assert d.status == "refused"
    assert "deny by default" in d.reasons[0] and "civil-affairs" in d.reasons[0]


def test_break_glass_leaves_at_once_raises_a_flag_and_a_review_due_in_one_working_day(
    archive: Archive, engine: Engine, config: Config
) -> None:
    case = store(archive, engine, case_doc("02-high-risk-crisis.json"))
    # 2026-12-04 is a Friday: the review is due on the next working day, Monday.
    friday = dt.datetime(2026, 12, 4, 21, 30, tzinfo=NOW.tzinfo)
    discloser = make_discloser(archive, engine, config, now=friday)
    d = discloser.request(
        case,
        purpose="crisis",
        partner="hospital-psy",
        requester="staff-01",
        reason_code="life-self",
        reason_text="immediate risk reported by the carer tonight",
    )
    assert d.status == "approved" and d.break_glass and d.may_leave
    assert d.review_due == "2026-12-07"
    types = [e["resource"]["resourceType"] for e in (d.bundle or {})["entry"]]
    flags = [
        e["resource"] for e in (d.bundle or {})["entry"] if e["resource"]["resourceType"] == "Flag"
    ]
    assert "Observation" in types
    assert any(
        f["status"] == "active" and f["period"]["start"].startswith("2026-12-04") for f in flags
    )
    assert b"immediate risk" not in (d.payload or b"")
    with archive.engine.connect() as conn:
        rows = audit.rows(conn, case_number=case)
    assert [r.action for r in rows] == ["break-glass"]
    details = {
        x["type"]: x["valueString"]
        for x in rows[0].event["entity"][0]["detail"]
        if x["type"] != "element"
    }
    assert details == {"sha256": d.sha256, "break-glass-reason": "life-self"}
    assert "immediate risk" not in orjson.dumps(rows[0].event).decode()
    report = discloser.break_glass_report()
    assert [(r["disclosure"], r["review_status"], r["review_due"]) for r in report] == [
        (d.id, "requested", "2026-12-07")
    ]
    reviewed = discloser.approve(d.id, approver="staff-03")
    assert reviewed.review_outcome == "justified" and reviewed.status == "approved"
    with pytest.raises(DisclosureError, match="already reviewed"):
        discloser.reject(d.id, approver="staff-03", reason="second thoughts")
    assert discloser.break_glass_report()[0]["review_outcome"] == "justified"


@pytest.mark.parametrize(
    ("code", "text"),
    [(None, "tonight"), ("life-self", None), ("not-a-code", "x"), ("life-self", " ")],
)
def test_break_glass_without_a_reason_is_refused(
    archive: Archive, engine: Engine, config: Config, code: str | None, text: str | None
) -> None:
    case = store(archive, engine, case_doc("02-high-risk-crisis.json"))
    d = make_discloser(archive, engine, config).request(
        case,
        purpose="crisis",
        partner="hospital-psy",
        requester="staff-01",
        reason_code=code,
        reason_text=text,
    )
    assert d.status == "refused" and d.payload is None
    assert "break-glass needs a reason" in d.reasons[0]


def test_break_glass_review_not_justified(archive: Archive, engine: Engine, config: Config) -> None:
    case = store(archive, engine, case_doc("02-high-risk-crisis.json"))
    discloser = make_discloser(archive, engine, config)
    d = discloser.request(
        case,
        purpose="crisis",
        partner="school-mingde",
        requester="staff-01",
        reason_code="life-others",
        reason_text="threat at school",
    )
    assert d.status == "approved"
    # School gets safety instructions only: no crisis type, no scores, no risk.
    payload = d.payload or b""
    assert b"crisis-type" not in payload and b"risk-level" not in payload
    out = discloser.reject(d.id, approver="staff-03", reason="no emergency after all")
    assert out.review_outcome == "not-justified"


def test_unknown_purpose_and_case_are_input_errors(discloser: Discloser, school_case: str) -> None:
    from interop._errors import InputError

    with pytest.raises(InputError, match="unknown purpose"):
        discloser.request(
            school_case, purpose="marketing", partner="school-mingde", requester="staff-01"
        )
    with pytest.raises(InputError, match="no case"):
        discloser.request(
            "JX0000-2000-00000",
            purpose="school-support",
            partner="school-mingde",
            requester="staff-01",
        )
    with pytest.raises(InputError, match="no partner"):
        discloser.request(
            school_case, purpose="school-support", partner="nobody", requester="staff-01"
        )


def test_the_disclosure_privacy_returns_is_immutable(
    discloser: Discloser, school_case: str
) -> None:
    import dataclasses

    d = discloser.request(
        school_case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.status = "approved"  # type: ignore[misc]
    bundle = d.bundle
    assert bundle is not None
    bundle["entry"].clear()  # a holder may change its copy, never what leaves
    again = d.bundle
    assert again is not None and again["entry"]
    assert hashlib.sha256(d.payload or b"").hexdigest() == d.sha256
