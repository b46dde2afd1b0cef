"""Following every open referral on the real FHIR test server: crisis referrals, checks, anomalies.

R-7.1.2-01 (RT-01 life risk: the referral is followed), R-6.2.1-02 (our steps), 7.6.1,
DL-10 (not accepted), DL-17 (follow-up); the test acts as the hospital.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from referral_support import (
    CASE_FILE,
    CRISIS_FILE,
    HOSPITAL,
    case_doc,
    config_at,
    hospital_sets,
    referrals,
    store,
    task_of,
    write_config,
)

from interop.engine import Engine
from interop.referral.lifecycle import Referrals, referral_due_items
from interop.store import Archive


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    """SQLite and PostgreSQL."""
    with Archive.create(db_url) as a:
        yield a


@pytest.fixture
def refs(archive: Archive, engine: Engine, tmp_path: Path, fhir: Any) -> Iterator[Referrals]:
    config = config_at(
        write_config(tmp_path / "p.toml", fhir.base_url, poll_minutes=60, crisis_poll_minutes=15)
    )
    r = referrals(archive, engine, config)
    yield r
    r.close()


def routine(refs: Referrals, engine: Engine, archive: Archive, trigger: str = "RT-02") -> str:
    case = store(archive, engine, case_doc(CASE_FILE))
    ref = refs.create(case, partner=HOSPITAL, trigger=trigger, reason="需精神科评估",
                      requester="staff-01")  # fmt: skip
    refs.discloser.approve(ref.disclosure_id or "", approver="staff-03")
    refs.sweep_reviews()
    refs.deliver(ref.id)
    assert refs.get(ref.id).state == "handed-over"
    return ref.id


def crisis(refs: Referrals, engine: Engine, archive: Archive) -> str:
    case = store(archive, engine, case_doc(CRISIS_FILE, referral_consent=False))
    ref = refs.create(case, partner=HOSPITAL, trigger="RT-01", reason="自杀计划，需急诊",
                      requester="staff-01")  # fmt: skip
    refs.deliver(ref.id)
    done = refs.get(ref.id)
    assert done.state == "handed-over", refs.show(ref.id)
    assert done.remote_task and done.remote_patient and done.remote_service_request
    return ref.id


@pytest.mark.parametrize("by", ["auto", "since"])
def test_crisis_referrals_followed_to_completed_and_rejected_beside_routine_ones(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive, by: str
) -> None:
    first = routine(refs, engine, archive)
    hospital_sets(fhir, first, "accepted")
    assert refs.poll(force=True, by=by)["changed"] == 1  # our Organization is known there now
    other = routine(refs, engine, archive, "RT-03")
    completed, rejected = crisis(refs, engine, archive), crisis(refs, engine, archive)
    # The crisis Task names our Organization by reference, like the routine ones.
    assert task_of(fhir, completed)["requester"]["reference"].startswith("Organization/")

    hospital_sets(fhir, completed, "accepted")
    hospital_sets(fhir, completed, "in-progress")
    doc = fhir.post(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"text": "出院小结"},
            "content": [{"attachment": {"contentType": "text/plain", "data": "5Ye66Zmi"}}],
        }
    )
    output = {"type": {"text": "discharge summary"},
              "valueReference": {"reference": f"DocumentReference/{doc['id']}"}}  # fmt: skip
    hospital_sets(fhir, completed, "completed", output=[output])
    hospital_sets(fhir, rejected, "rejected", statusReason={"text": "本院无急诊床位"})
    hospital_sets(fhir, other, "received")
    counts = refs.poll(force=True, by=by)
    assert counts["failed"] == []
    assert counts["anomalies"] == 0
    done = refs.get(completed)
    assert (done.task_status, done.state) == ("completed", "feedback-received")
    assert [o["resource_type"] for o in refs.outcomes(completed)] == ["DocumentReference"]
    assert done.follow_up[0]["kind"] == "first"  # DL-17
    no = refs.get(rejected)
    assert (no.task_status, no.state, no.status_reason) == (
        "rejected", "feedback-received", "本院无急诊床位",
    )  # fmt: skip
    assert refs.get(other).task_status == "received"
    assert refs.get(first).task_status == "accepted"
    # DL-17: the follow-up shows in cases due.
    now = dt.datetime.now(dt.UTC)
    due = referral_due_items(archive, now)
    assert any(i["rule"] == "referral-follow-up" and i["referral"] == completed for i in due)


def test_a_crisis_referral_is_polled_on_its_own_shorter_cadence(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    slow, fast = routine(refs, engine, archive), crisis(refs, engine, archive)
    assert {r.id for r in refs.due()} == {slow, fast}  # never polled yet
    refs.poll()
    start = dt.datetime.now(dt.UTC)
    assert refs.due(start) == []
    assert [r.id for r in refs.due(start + dt.timedelta(minutes=16))] == [fast]
    assert {r.id for r in refs.due(start + dt.timedelta(minutes=61))} == {slow, fast}


def test_a_crisis_cadence_under_the_partners_floor_is_refused(tmp_path: Path, fhir: Any) -> None:
    from interop.config import ConfigError
    from interop.plugins.hospital_fhir import HospitalFhir

    with pytest.raises(ConfigError, match="crisis_poll_minutes"):
        HospitalFhir(HOSPITAL, {"base_url": fhir.base_url, "crisis_poll_minutes": 5})
    with pytest.raises(ConfigError, match="floor"):
        HospitalFhir(HOSPITAL, {"base_url": fhir.base_url, "poll_floor_minutes": 30,
                                "crisis_poll_minutes": 20})  # fmt: skip


def _anomaly_case(fhir: Any, refs: Referrals, engine: Engine, archive: Archive, change: str) -> str:
    rid = routine(refs, engine, archive)
    task = task_of(fhir, rid)
    if change == "for":
        other = fhir.post({"resourceType": "Patient", "name": [{"text": "另一个孩子"}]})
        hospital_sets(fhir, rid, "accepted", **{"for": {"reference": f"Patient/{other['id']}"}})
    elif change == "basedOn":
        sr = fhir.post({"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                        "subject": task["for"]})  # fmt: skip
        hospital_sets(fhir, rid, "accepted",
                      basedOn=[{"reference": f"ServiceRequest/{sr['id']}"}])  # fmt: skip
    elif change == "owner":
        hospital_sets(fhir, rid, "accepted", owner={"display": "另一家医院"})
    elif change == "deleted":
        status, _ = fhir.request("DELETE", f"Task/{task['id']}")
        assert status in (200, 204)
    else:
        hospital_sets(fhir, rid, "completed")  # requested → completed: not allowed
    return rid


@pytest.mark.parametrize("change", ["for", "basedOn", "owner", "deleted", "illegal"])
def test_each_anomaly_is_recorded_listed_and_not_applied(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive, change: str
) -> None:
    rid = _anomaly_case(fhir, refs, engine, archive, change)
    counts = refs.poll(force=True)
    assert counts["anomalies"] == 1
    ref = refs.get(rid)
    assert (ref.task_status, ref.state) == ("requested", "handed-over")  # not applied
    (anomaly,) = refs.anomalies(rid)
    words = {
        "for": "Task.for points at",
        "basedOn": "Task.basedOn does not name our ServiceRequest",
        "owner": "Task.owner is",
        "deleted": "is gone at",
        "illegal": "does not allow",
    }[change]
    assert words in anomaly["detail"]
    assert refs.show(rid)["anomalies"] == [anomaly]
    due = [i for i in referral_due_items(archive, dt.datetime.now(dt.UTC))
           if i["rule"] == "referral-anomaly"]  # fmt: skip
    assert [(i["referral"], i["detail"]) for i in due] == [(rid, anomaly["detail"])]
    refs.poll(force=True)  # seen again: recorded once
    assert len(refs.anomalies(rid)) == 1


def test_one_organization_and_practitioner_at_the_hospital_after_many_referrals(
    fhir: Any, refs: Referrals, engine: Engine, archive: Archive
) -> None:
    for _ in range(3):
        routine(refs, engine, archive)
        crisis(refs, engine, archive)
    orgs = fhir.search("Organization?_count=1000")
    codes = sorted(i["value"] for o in orgs for i in o.get("identifier") or [])
    # Our two organisations (one per fixture case), each once; none without an identifier.
    assert codes == ["JX0101", "JX0807"], [o.get("name") for o in orgs]
    staff = fhir.search("Practitioner?_count=1000")
    assert len(staff) == len({i["value"] for p in staff for i in p.get("identifier") or []})
    tasks = fhir.search("Task?_count=1000")
    assert len(tasks) == 6
    assert len({t["requester"]["reference"] for t in tasks}) == 2
