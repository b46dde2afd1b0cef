"""Hospital referral as a closed loop against the real FHIR test server (Medplum).

The test acts as the hospital: it reads and updates the Task on the server.
Requirements: 6.2.1 (R-6.2.1-02 steps), 7.1.2/7.4.1 triggers (§1.9.7), G-13
modes, G-16 four-eyes, 4.3/7.6.1 break-glass, DL-10 "not accepted", DL-17 follow-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from referral_support import (
    CASE_FILE,
    CRISIS_FILE,
    HOSPITAL,
    HOSPITAL_ID,
    case_doc,
    config_at,
    hospital_sets,
    referrals,
    store,
    task_of,
    write_config,
)

from interop.config import Config
from interop.engine import Engine
from interop.referral.bundle import REFERRAL_SYSTEM, RESIDENT_ID, TRIGGER_SYSTEM
from interop.referral.lifecycle import ReferralError, Referrals
from interop.store import Archive


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive.create(f"sqlite:///{tmp_path / 'archive.sqlite3'}") as a:
        yield a


@pytest.fixture
def config(tmp_path: Path, fhir: Any) -> Config:
    return config_at(write_config(tmp_path / "partners.toml", fhir.base_url))


@pytest.fixture
def refs(archive: Archive, engine: Engine, config: Config) -> Iterator[Referrals]:
    r = referrals(archive, engine, config)
    yield r
    r.close()


def _unref(value: Any) -> Any:
    """Without reference strings (the server resolves our urn:uuid references)."""
    if isinstance(value, dict):
        return {k: _unref(v) for k, v in value.items() if k != "reference"}
    if isinstance(value, list):
        return [_unref(v) for v in value]
    return value


def sent_and_approved(refs: Referrals, engine: Engine, archive: Archive, **kw: Any) -> str:
    case = store(archive, engine, case_doc(CASE_FILE))
    ref = refs.create(
        case,
        partner=HOSPITAL,
        trigger=kw.pop("trigger", "RT-02"),
        reason="持续幻听两周，需精神科评估",
        requester="staff-01",
        mode=kw.pop("mode", "concurrent"),
    )
    assert ref.state == "under-review"  # hosp-referral: per-disclosure review (9.3)
    assert ref.disclosure_id is not None
    refs.discloser.approve(ref.disclosure_id, approver="staff-03")
    refs.sweep_reviews()
    refs.deliver(ref.id)
    ref = refs.get(ref.id)
    assert ref.state == "handed-over", refs.show(ref.id)
    return ref.id


def test_full_loop_requested_accepted_in_progress_completed_with_output(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    rid = sent_and_approved(refs, engine, archive, mode="transfer")
    ref = refs.get(rid)
    assert ref.task_status == "requested"
    assert ref.remote_task and ref.remote_task.startswith("Task/")
    assert ref.accept_due is not None

    # What reached the hospital: Patient matched on the resident ID, SR + Task as specified.
    task = task_of(fhir, rid)
    assert task["intent"] == "order"
    assert task["code"]["coding"][0]["code"] == "fulfill"
    system, value = HOSPITAL_ID.split("|")
    assert task["owner"]["identifier"] == {"system": system, "value": value}  # by identifier
    assert task["requester"]["reference"].startswith("Organization/")
    assert task["authoredOn"]
    sr = fhir.get(task["focus"]["reference"])
    assert sr["resourceType"] == "ServiceRequest"
    assert sr["identifier"] == [{"system": REFERRAL_SYSTEM, "value": rid}]
    assert (
        sr["reasonCode"][0]["coding"][0]
        == {
            "system": TRIGGER_SYSTEM,
            "code": "RT-02",
            "display": "精神病性症状及人格障碍",
        }
        or sr["reasonCode"][0]["coding"][0]["code"] == "RT-02"
    )
    patient = fhir.get(task["for"]["reference"])
    assert any(i["system"] == RESIDENT_ID for i in patient["identifier"])
    assert sr["subject"]["reference"] == task["for"]["reference"]
    assert sr["supportingInfo"]

    # Only what the hosp-referral policy let out left: every supporting resource is
    # in the disclosure's filtered Bundle, unchanged.
    disc = refs.discloser.get(ref.disclosure_id or "")
    assert disc.bundle is not None
    approved = {
        (e["resource"]["resourceType"], e["resource"]["id"]): e["resource"]
        for e in disc.bundle["entry"]
    }
    for info in sr["supportingInfo"]:
        rtype, rid_ = info["reference"].split("/")
        assert (rtype, rid_) in approved
        sent = fhir.get(info["reference"])
        for key, value in approved[(rtype, rid_)].items():
            if key != "meta":
                assert _unref(sent[key]) == _unref(value), (rtype, key)

    hospital_sets(fhir, rid, "accepted")
    assert refs.poll(force=True)["changed"] == 1
    ref = refs.get(rid)
    assert (ref.task_status, ref.state) == ("accepted", "handed-over")
    assert ref.accepted_at is not None

    hospital_sets(fhir, rid, "in-progress")
    refs.poll(force=True)
    assert refs.get(rid).task_status == "in-progress"

    doc = fhir.post(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"text": "出院小结"},
            "subject": {"reference": task["for"]["reference"]},
            "content": [{"attachment": {"contentType": "text/plain", "data": "5Ye66Zmi"}}],
        }
    )
    hospital_sets(
        fhir,
        rid,
        "completed",
        output=[
            {
                "type": {"text": "discharge summary"},
                "valueReference": {"reference": f"DocumentReference/{doc['id']}"},
            },
            {"type": {"text": "lab"}, "valueReference": {"reference": "Observation/unwanted"}},
        ],
    )
    counts = refs.poll(force=True)
    assert counts["outcomes"] == 1
    ref = refs.get(rid)
    assert (ref.task_status, ref.state) == ("completed", "feedback-received")
    (outcome,) = refs.outcomes(rid)
    assert outcome["reference"] == f"DocumentReference/{doc['id']}"
    assert outcome["body"]["type"]["text"] == "出院小结"
    # 6.1.4.1 / DL-17: first follow-up within 5 working days, then monthly x 3.
    assert [f["kind"] for f in ref.follow_up] == ["first", "monthly", "monthly", "monthly"]
    finished = dt.date.fromisoformat(ref.finished_at[:10])  # type: ignore[index]
    first = dt.date.fromisoformat(ref.follow_up[0]["due"])
    assert 5 <= (first - finished).days <= 12
    kinds = [e["kind"] for e in refs.events(rid)]
    assert "outcome-dropped" in kinds  # Observation is not taken in (§4.6 inbound)
    assert kinds.count("status") == 3
    follow = next(e for e in refs.events(rid) if e["kind"] == "follow-up")
    assert "referred-out" in follow["detail"]  # transfer mode: T-16
    assert refs.poll(force=True)["polled"] == 0  # a final Task is not polled again


def test_rejected_with_a_reason(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    rid = sent_and_approved(refs, engine, archive)
    hospital_sets(fhir, rid, "rejected", statusReason={"text": "本院无儿童精神科床位"})
    refs.poll(referral_id=rid)
    ref = refs.get(rid)
    assert (ref.task_status, ref.state) == ("rejected", "feedback-received")
    assert ref.status_reason == "本院无儿童精神科床位"
    assert ref.follow_up == []


def test_illegal_transition_is_an_anomaly_not_applied(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    rid = sent_and_approved(refs, engine, archive)
    hospital_sets(fhir, rid, "completed")  # requested -> completed: not allowed
    counts = refs.poll(force=True)
    assert counts["anomalies"] == 1
    ref = refs.get(rid)
    assert ref.task_status == "requested"  # not applied
    anomalies = [e for e in refs.events(rid) if e["kind"] == "anomaly"]
    assert len(anomalies) == 1
    assert anomalies[0]["from_status"] == "requested"
    assert anomalies[0]["to_status"] == "completed"
    refs.poll(force=True)  # seen again: recorded once
    assert len([e for e in refs.events(rid) if e["kind"] == "anomaly"]) == 1


def test_moves_missed_between_polls_are_replayed_from_the_task_history(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    rid = sent_and_approved(refs, engine, archive)
    hospital_sets(fhir, rid, "accepted")
    hospital_sets(fhir, rid, "in-progress")  # requested -> in-progress only via accepted
    counts = refs.poll(force=True)
    assert counts["anomalies"] == 0
    moves = [(e["from_status"], e["to_status"]) for e in refs.events(rid) if e["kind"] == "status"]
    assert moves == [("requested", "accepted"), ("accepted", "in-progress")]
    assert refs.get(rid).task_status == "in-progress"


def test_poll_by_ids_and_since_agree(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    rid = sent_and_approved(refs, engine, archive)
    hospital_sets(fhir, rid, "accepted")
    assert refs.poll(force=True, by="ids")["changed"] == 1
    hospital_sets(fhir, rid, "in-progress")
    counts = refs.poll(force=True, by="since")
    # The count that proves the search covers every referral, then the search itself.
    assert (counts["changed"], counts["requests"]) == (1, 2)
    assert refs.partner_state(HOSPITAL)["cursor"]
    assert refs.poll(force=True, by="since")["polled"] == 0  # nothing newer than the cursor
    assert refs.poll()["requests"] == 0  # poll_minutes (15) have not elapsed


def test_cancel_after_hand_over_cancels_the_task(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    rid = sent_and_approved(refs, engine, archive)
    hospital_sets(fhir, rid, "accepted")
    refs.poll(force=True)
    ref = refs.cancel(rid, reason="监护人已带孩子到另一家医院就诊", requester="staff-01")
    assert ref.state == "cancel-requested"
    refs.deliver(rid)
    ref = refs.get(rid)
    assert (ref.state, ref.task_status) == ("cancelled", "cancelled")
    task = task_of(fhir, rid)
    assert task["status"] == "cancelled"
    assert task["statusReason"]["text"] == "监护人已带孩子到另一家医院就诊"


def test_cancel_before_sending_sends_nothing(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    case = store(archive, engine, case_doc(CASE_FILE))
    ref = refs.create(
        case, partner=HOSPITAL, trigger="RT-03", reason="超出能力", requester="staff-01"
    )
    refs.discloser.approve(ref.disclosure_id or "", approver="staff-03")
    refs.sweep_reviews()  # queued, not sent
    assert refs.get(ref.id).state == "info-prepared"
    done = refs.cancel(ref.id, reason="不再需要", requester="staff-01")
    assert done.state == "cancelled"
    assert [i.status for i in refs.outbox.items(ref=ref.id)] == ["cancelled"]
    refs.deliver()
    assert fhir.counters()["requests"] == 0


def test_self_approval_is_refused_four_eyes(
    refs: Referrals, engine: Engine, archive: Archive
) -> None:
    from interop.privacy.disclosure import DisclosureError

    case = store(archive, engine, case_doc(CASE_FILE))
    ref = refs.create(case, partner=HOSPITAL, trigger="RT-05", reason="需求", requester="staff-03")
    with pytest.raises(DisclosureError):
        refs.discloser.approve(ref.disclosure_id or "", approver="staff-03")  # G-16
    assert refs.get(ref.id).state == "under-review"


def test_without_referral_consent_nothing_is_recorded_or_sent(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    case = store(archive, engine, case_doc(CASE_FILE, referral_consent=False))
    with pytest.raises(ReferralError, match="hosp-referral"):
        refs.create(case, partner=HOSPITAL, trigger="RT-02", reason="x", requester="staff-01")
    assert refs.find() == []
    assert refs.outbox.items() == []


def test_crisis_referral_leaves_at_once_under_break_glass(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    case = store(archive, engine, case_doc(CRISIS_FILE, referral_consent=False))
    ref = refs.create(
        case, partner=HOSPITAL, trigger="RT-01", reason="自杀计划，需急诊", requester="staff-01"
    )
    assert ref.break_glass
    assert ref.state == "info-prepared"  # no waiting for review (4.3, 7.6.1)
    refs.deliver(ref.id)
    assert refs.get(ref.id).state == "handed-over"
    disc = refs.discloser.get(ref.disclosure_id or "")
    assert (disc.purpose, disc.break_glass, disc.review_due is not None) == ("crisis", True, True)
    sr = fhir.get(task_of(fhir, ref.id)["focus"]["reference"])
    codes = {c["code"] for lab in sr["meta"]["security"] for c in [lab]}
    assert codes & {"ETREAT", "crisis"}, sr["meta"]["security"]


def test_not_accepted_within_working_days_is_due(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    rid = sent_and_approved(refs, engine, archive)
    ref = refs.get(rid)
    due = dt.date.fromisoformat(ref.accept_due or "")
    items = refs.not_accepted()
    assert [i["referral"] for i in items] == [rid]
    assert items[0]["overdue"] is False
    later = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)
    assert refs.not_accepted(later)[0]["overdue"] is True
    hospital_sets(fhir, rid, "accepted")
    refs.poll(force=True)
    assert refs.not_accepted(later) == []


def test_dead_referral_replayed_under_the_current_policy(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    case = store(archive, engine, case_doc(CASE_FILE))
    ref = refs.create(case, partner=HOSPITAL, trigger="RT-02", reason="x", requester="staff-01")
    refs.discloser.approve(ref.disclosure_id or "", approver="staff-03")
    refs.sweep_reviews()
    fhir.fail_next(1, 400, "ServiceRequest.performer: unknown organisation")
    refs.deliver(ref.id)
    (item,) = refs.outbox.items(ref=ref.id)
    assert item.status == "dead"
    assert "unknown organisation" in (item.last_error or "")
    assert any(e["kind"] == "delivery-dead" for e in refs.events(ref.id))
    again = refs.replay(item.id)
    assert again.status == "pending"
    refs.deliver(ref.id)
    assert refs.get(ref.id).state == "handed-over"

    # Consent withdrawn meanwhile: a replay is refused by the current policy.
    ref2 = refs.create(case, partner=HOSPITAL, trigger="RT-07", reason="y", requester="staff-01")
    refs.discloser.approve(ref2.disclosure_id or "", approver="staff-03")
    refs.sweep_reviews()
    fhir.fail_next(1, 400, "rejected")
    refs.deliver(ref2.id)
    (item2,) = refs.outbox.items(ref=ref2.id)
    doc = case_doc(CASE_FILE)
    doc["consents"][-1]["status"] = "inactive"
    store(archive, engine, doc)
    refused = refs.replay(item2.id)
    assert refused.status == "refused"
    assert "current purpose policy refuses" in (refused.last_error or "")
    assert orjson.loads(refused.payload)["type"] == "transaction"
