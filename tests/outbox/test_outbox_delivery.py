"""The durable outbox against the real FHIR test server: retries, dead letters, pause, crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from exchange_support import TEST_SYSTEM, transaction
from interop.exchange.http import HttpTransport
from interop.exchange.outbox import HttpDeliverer, Outbox, OutboxItem, RetryPolicy
from interop.store import Archive
from interop.store import schema as tables

FAST = RetryPolicy(max_attempts=5, base=0.05, cap=0.2)


def deliverer(fhir: Any, *, timeout: float = 5.0, policy: RetryPolicy = FAST) -> HttpDeliverer:
    return HttpDeliverer(HttpTransport("test-hospital", fhir.base_url, timeout=timeout), policy)


def tasks(fhir: Any, ref: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = fhir.search(f"Task?identifier={TEST_SYSTEM}|{ref}")
    return found


@pytest.fixture
def archive(tmp_path: Path) -> Any:
    with Archive.create(f"sqlite:///{tmp_path / 'archive.sqlite3'}") as a:
        yield a


def enqueue(box: Outbox, ref: str, **kw: Any) -> OutboxItem:
    return box.enqueue(
        partner="test-hospital",
        kind="test",
        payload=transaction(ref),
        idempotency_key=f"test:{ref}",
        ref=ref,
        **kw,
    )


def test_written_before_sending_and_delivered_once(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = enqueue(box, "A-1")
    assert box.get(item.id).status == "pending"
    assert fhir.counters()["requests"] == 0  # nothing went out on enqueue
    again = enqueue(box, "A-1")
    assert again.id == item.id  # same idempotency key: never queued twice
    summary = box.run(lambda _p: deliverer(fhir))
    assert summary.delivered == 1
    done = box.get(item.id)
    assert done.status == "delivered"
    assert done.attempts == 1
    assert done.receipt_json()["body"]["type"] == "transaction-response"
    assert len(tasks(fhir, "A-1")) == 1
    assert box.run(lambda _p: deliverer(fhir)).delivered == 0


def test_a_500_then_success(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = enqueue(box, "B-1")
    fhir.fail_next(1, 500, "database restarting")
    summary = box.run(lambda _p: deliverer(fhir), wait=5)
    assert summary.delivered == 1
    done = box.get(item.id)
    assert (done.status, done.attempts) == ("delivered", 2)
    history = box.attempts(item.id)
    assert [a["outcome"] for a in history] == ["retry", "delivered"]
    assert history[0]["http_status"] == 500
    assert "database restarting" in history[0]["error"]
    assert len(tasks(fhir, "B-1")) == 1


def test_429_is_retried(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = enqueue(box, "B-2")
    fhir.fail_next(2, 429, "slow down")
    box.run(lambda _p: deliverer(fhir), wait=5)
    assert [a["http_status"] for a in box.attempts(item.id)] == [429, 429, 200]


def test_timeout_then_resend_does_not_duplicate(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = enqueue(box, "C-1")
    fhir.delay_next(1500)  # the server still processes the first request, late
    box.run(lambda _p: deliverer(fhir, timeout=0.4), wait=5)
    done = box.get(item.id)
    assert done.status == "delivered"
    first = box.attempts(item.id)[0]
    assert first["outcome"] == "retry"
    assert "did not answer within 0.4 s" in first["error"]
    time.sleep(1.5)  # let the late first request finish on the server
    assert len(tasks(fhir, "C-1")) == 1
    assert len(fhir.search(f"ServiceRequest?identifier={TEST_SYSTEM}|C-1")) == 1


def test_server_down_during_send_then_up(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = enqueue(box, "D-1")
    fhir.down_for(1200)
    time.sleep(0.1)
    policy = RetryPolicy(max_attempts=20, base=0.1, cap=0.3)
    box.run(lambda _p: deliverer(fhir, policy=policy), wait=15)
    done = box.get(item.id)
    assert done.status == "delivered", done.last_error
    history = box.attempts(item.id)
    assert len(history) >= 2
    assert "could not connect to test-hospital" in history[0]["error"]
    assert len(tasks(fhir, "D-1")) == 1


def test_400_operation_outcome_is_dead_lettered_at_once(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = enqueue(box, "E-1")
    fhir.fail_next(1, 400, "Task.owner: minimum required = 1, but only found 0")
    summary = box.run(lambda _p: deliverer(fhir), wait=2)
    assert summary.dead == 1
    dead = box.get(item.id)
    assert (dead.status, dead.attempts, dead.last_status) == ("dead", 1, 400)
    assert dead.last_error == (
        "test-hospital refused the request (400 Bad Request): error (invalid): "
        "Task.owner: minimum required = 1, but only found 0"
    )
    assert tasks(fhir, "E-1") == []
    # An operator fixes the cause and retries the dead letter.
    box.retry(item.id)
    box.run(lambda _p: deliverer(fhir))
    assert box.get(item.id).status == "delivered"
    assert len(tasks(fhir, "E-1")) == 1


def test_validation_error_of_the_real_server_is_dead_lettered(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = box.enqueue(
        partner="test-hospital",
        kind="test",
        payload=b'{"resourceType": "Task", "status": "requested", "intent": "order", "x": 1}',
        idempotency_key="test:bad",
        path="Task",
    )
    box.run(lambda _p: deliverer(fhir))
    dead = box.get(item.id)
    assert dead.status == "dead"
    assert 'Invalid additional property "x" at Task.x' in (dead.last_error or "")


def test_bounded_attempts_then_dead_letter(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    item = enqueue(box, "F-1", max_attempts=3)
    fhir.fail_next(10, 503, "maintenance")
    box.run(lambda _p: deliverer(fhir), wait=5)
    dead = box.get(item.id)
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert dead.last_error is not None
    assert dead.last_error.startswith("gave up after 3 attempts; last: test-hospital answered 503")
    assert fhir.counters()["requests"] == 3


def test_backoff_grows_with_jitter() -> None:
    import random

    policy = RetryPolicy(max_attempts=10, base=1.0, cap=60.0)
    rng = random.Random(1)
    waits = [policy.delay(n, rng) for n in range(1, 9)]
    for n, w in enumerate(waits, start=1):
        ceiling = min(60.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= w <= ceiling
    assert len({round(w, 6) for w in waits}) == len(waits)
    assert policy.delay(1, rng, retry_after=30) == 30


def test_pause_really_stops_deliveries_and_resume_restarts_them(fhir: Any, archive: Any) -> None:
    box = Outbox(archive)
    items = [enqueue(box, f"G-{i}") for i in range(3)]
    box.pause("test-hospital", "hospital asked us to stop")
    summary = box.run(lambda _p: deliverer(fhir), wait=0.3)
    assert summary.delivered == 0
    assert fhir.counters()["requests"] == 0
    assert {box.get(i.id).status for i in items} == {"pending"}
    assert box.paused() == {"test-hospital": "hospital asked us to stop"}
    box.resume("test-hospital")
    assert box.run(lambda _p: deliverer(fhir)).delivered == 3
    assert fhir.counters()["requests"] == 3


def test_pause_while_a_worker_holds_claimed_rows(fhir: Any, archive: Any) -> None:
    """A worker that already claimed a batch makes no further attempt once paused."""
    box = Outbox(archive)
    for i in range(4):
        enqueue(box, f"H-{i}")
    real = deliverer(fhir)

    class PausesAfterFirst:
        retry = FAST

        def attempt(self, item: OutboxItem) -> Any:
            result = real.attempt(item)
            Outbox(archive).pause("test-hospital", "operator")  # another process, meanwhile
            return result

        def close(self) -> None:
            pass  # the real transport is used again below

    summary = box.run(lambda _p: PausesAfterFirst(), batch=4)
    assert (summary.delivered, summary.released) == (1, 3)
    assert fhir.counters()["requests"] == 1
    box.resume("test-hospital")
    assert box.run(lambda _p: real).delivered == 3


SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {support!r})
    from fault_entry import kill_at
    kill_at({point!r})
    from exchange_support import transaction
    from interop.exchange.http import HttpTransport
    from interop.exchange.outbox import HttpDeliverer, Outbox
    from interop.store import Archive
    with Archive.create({db!r}) as a:
        box = Outbox(a, lease_seconds=0.2)
        item = box.enqueue(partner="test-hospital", kind="test", payload=transaction("K-1"),
                           idempotency_key="test:K-1", ref="K-1")
        box.run(lambda _p: HttpDeliverer(HttpTransport("test-hospital", {url!r})))
    """
)


@pytest.mark.parametrize("point", ["after-enqueue", "after-send"])
def test_process_killed_then_restarted_delivers_once(fhir: Any, tmp_path: Path, point: str) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    code = SCRIPT.format(
        support=str(Path(__file__).parents[1]), db=db, url=fhir.base_url, point=f"outbox.{point}"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    with Archive.create(db) as a:
        box = Outbox(a, lease_seconds=0.2)
        (item,) = box.items()
        if point == "after-enqueue":
            assert item.status == "pending"
            assert tasks(fhir, "K-1") == []
        else:
            assert item.status == "sending"  # answered, but the answer was not recorded
            assert len(tasks(fhir, "K-1")) == 1
            time.sleep(0.3)  # the dead worker's lease runs out
        box.run(lambda _p: deliverer(fhir))
        assert box.get(item.id).status == "delivered"
    assert len(tasks(fhir, "K-1")) == 1


def test_two_workers_on_postgresql_deliver_each_item_once(fhir: Any, pg_url: str) -> None:
    n = 60
    with Archive.create(pg_url) as a:
        box = Outbox(a)
        ids = [enqueue(box, f"PG-{i}").id for i in range(n)]
    results: dict[str, Any] = {}

    def work(name: str) -> None:
        with Archive.create(pg_url) as a:
            results[name] = Outbox(a).run(lambda _p: deliverer(fhir), worker=name, batch=3)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(s.delivered for s in results.values()) == n
    assert all(s.delivered > 0 for s in results.values()), results  # both took a share
    with Archive.create(pg_url) as a:
        a_ = tables.outbox_attempts.c
        with a.engine.connect() as conn:
            rows = conn.execute(sa.select(a_.item_id, a_.outcome, a_.worker)).all()
        assert sorted(r[0] for r in rows) == sorted(ids)  # one attempt per item, no more
        assert {r[1] for r in rows} == {"delivered"}
        assert {box_item.status for box_item in Outbox(a).items()} == {"delivered"}
    assert fhir.counters()["by_route"]["POST /"] == n
    assert len(fhir.search(f"Task?_count=1000&identifier={TEST_SYSTEM}|PG-7")) == 1
