"""Delivered only when proven: uncertain answers reconciled through a fault-injecting proxy.

The proxy (tests/fhirserver/proxy.py) sits between us and the real FHIR test
server. After each fault the hospital may or may not have created the
referral; the outbox reconciles by searching our identifiers before any
resend, and the hospital never holds two Tasks for one referral.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from proxy import FaultProxy
from referral_support import CRISIS_FILE, HOSPITAL, case_doc, config_at, referrals, store
from referral_support import write_config as write

from interop.engine import Engine
from interop.referral.bundle import REFERRAL_SYSTEM
from interop.referral.lifecycle import Referrals
from interop.store import Archive


@pytest.fixture
def proxy(fhir: Any) -> Iterator[FaultProxy]:
    p = FaultProxy(fhir.base_url)
    yield p
    p.close()


def make(db_url: str, engine: Engine, tmp_path: Path, proxy: FaultProxy, **cfg: Any) -> Any:
    archive = Archive.create(db_url)
    # The next attempt at least half a second later: one `deliver` makes one attempt.
    settings = {"timeout": 1, "retry_base": 1, "retry_cap": 2, **cfg}
    config = config_at(write(tmp_path / "p.toml", proxy.base_url, **settings))
    return archive, referrals(archive, engine, config)


def crisis_referral(refs: Referrals, engine: Engine, archive: Archive) -> str:
    case = store(archive, engine, case_doc(CRISIS_FILE, referral_consent=False))
    ref = refs.create(case, partner=HOSPITAL, trigger="RT-01", reason="自杀计划",
                      requester="staff-01")  # fmt: skip
    assert ref.state == "info-prepared"
    return ref.id


def tasks(fhir: Any, rid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = fhir.search(f"Task?identifier={REFERRAL_SYSTEM}|{rid}")
    return found


@pytest.mark.parametrize(
    ("fault", "processed"),
    [("empty", True), ("html", True), ("timeout", True), ("reset", True),
     ("reset-before", False)],
)  # fmt: skip
def test_an_uncertain_answer_is_reconciled_without_a_duplicate(
    fhir: Any, proxy: FaultProxy, engine: Engine, tmp_path: Path, db_url: str,
    fault: str, processed: bool,
) -> None:  # fmt: skip
    archive, refs = make(db_url, engine, tmp_path, proxy)
    with archive, refs:
        rid = crisis_referral(refs, engine, archive)
        proxy.arm(fault, method="POST", hold=2.5)
        refs.deliver(rid)  # one attempt: the answer proves nothing
        (item,) = refs.outbox.items(ref=rid)
        assert item.status == "uncertain", item.last_error
        assert "may have been created" in (item.last_error or "")
        ref = refs.get(rid)
        assert (ref.state, ref.remote_task) == ("info-prepared", None)  # never without a Task id
        assert any(e["kind"] == "uncertain" for e in refs.events(rid))
        assert len(tasks(fhir, rid)) == (1 if processed else 0)

        refs.deliver(rid, wait=5)  # reconcile: search our identifiers first
        ref = refs.get(rid)
        assert ref.state == "handed-over", refs.show(rid)
        (task,) = tasks(fhir, rid)
        assert ref.remote_task == f"Task/{task['id']}"
        assert ref.remote_patient and ref.remote_service_request
        posts = [s for s in proxy.seen("POST") if s[1] == ""]
        assert len(posts) == (1 if processed else 2)  # resent only when not found
        (item,) = refs.outbox.items(ref=rid)
        history = [a["outcome"] for a in refs.outbox.attempts(item.id)]
        assert history == ["uncertain", "reconciled" if processed else "delivered"]
        delivered = next(e for e in refs.events(rid) if e["kind"] == "delivered")
        assert ("found by our identifiers" in delivered["detail"]) is processed


def test_uncertain_is_never_dead_lettered(
    fhir: Any, proxy: FaultProxy, engine: Engine, tmp_path: Path
) -> None:
    archive, refs = make(f"sqlite:///{tmp_path / 'a.sqlite3'}", engine, tmp_path, proxy,
                         max_attempts=1)  # fmt: skip
    with archive, refs:
        rid = crisis_referral(refs, engine, archive)
        proxy.arm("empty")
        proxy.arm("reset-before", method="GET", count=1000)  # the searches fail too
        refs.deliver(rid, wait=2.5)
        (item,) = refs.outbox.items(ref=rid)
        assert item.status == "uncertain"  # attempts used up, and still not dead
        assert item.attempts >= 2
        assert "could not be searched" in (item.last_error or "")
        proxy.clear()
        refs.deliver(rid, wait=5)
        assert refs.get(rid).state == "handed-over"
        assert len(tasks(fhir, rid)) == 1


def test_a_rejection_for_a_known_reason_is_explained_and_retried_after_the_fix(
    fhir: Any, proxy: FaultProxy, engine: Engine, tmp_path: Path
) -> None:
    wrong = "urn:wrong|JXCH"
    archive, refs = make(f"sqlite:///{tmp_path / 'a.sqlite3'}", engine, tmp_path, proxy,
                         owner_identifier=wrong)  # fmt: skip
    with archive:
        rid = crisis_referral(refs, engine, archive)
        # The hospital knows no organisation under that identifier system.
        fhir.fail_next(1, 400, "Task.owner.identifier.system: unknown identifier system")
        refs.deliver(rid)
        (item,) = refs.outbox.items(ref=rid)
        assert item.status == "dead"
        assert "unknown identifier system at" not in (item.last_error or "")
        assert "Task.owner.identifier.system: unknown identifier system" in (item.last_error or "")
        (dead,) = [e for e in refs.show(rid)["events"] if e["kind"] == "delivery-dead"]
        assert "unknown identifier system" in dead["detail"]
        refs.close()
        # The operator fixes the partner configuration, then: interop referral retry REF.
        fixed = config_at(write(tmp_path / "p.toml", proxy.base_url))
        refs = referrals(archive, engine, fixed)
        again = refs.retry(rid)
        assert again.status == "pending"
        refs.deliver(rid)
        assert refs.get(rid).state == "handed-over"
        (task,) = tasks(fhir, rid)
        assert task["owner"]["identifier"]["system"] == "https://hospital.example/sid/org"
        refs.close()
