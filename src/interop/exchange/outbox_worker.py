"""A worker of the outbox (``interop outbox run``): claim, hold the lease, deliver, record.

A worker claims one due row at a time (or a small batch), crisis rows first,
under a short lease; one heartbeat thread per run renews the lease of the row
in flight once a third of it has passed (D-36), so a fast delivery costs no
renewal and a slow one keeps its row. A row whose partner was paused after the
claim is given back untried. Each attempt's answer is recorded in one
transaction with its history row (:mod:`interop.exchange.outbox_verdict` says
what it makes of the delivery).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from interop import faults
from interop._errors import InteropError
from interop.exchange.http import HttpResult
from interop.exchange.transport import Transport
from interop.store.archive import StoreError
from interop.store.outbox import OutboxItem, iso

if TYPE_CHECKING:
    from interop.exchange.retry import RetryPolicy
    from interop.store.outbox import OutboxRows

__all__ = ["Deliverer", "Heartbeat", "Reconciler", "RunSummary", "crash_point", "run"]

log = logging.getLogger(__name__)


class Queue(Protocol):
    """What a worker asks of the outbox (:class:`interop.exchange.outbox.Outbox`): named
    here so that the queue imports its worker and not the other way round."""

    lease_seconds: float
    rows: OutboxRows

    def clock(self) -> float: ...

    def claim(
        self,
        *,
        worker: str,
        limit: int = 1,
        partner: str | None = None,
        exclude: list[str] | None = None,
        ids: list[str] | None = None,
    ) -> list[OutboxItem]: ...

    def renew(self, item: OutboxItem, worker: str) -> bool: ...

    def held(self, partner: str | None = None) -> tuple[int, float | None]: ...

    def release(self, item: OutboxItem, worker: str) -> None: ...

    def is_paused(self, partner: str) -> bool: ...

    def record(
        self,
        item: OutboxItem,
        result: HttpResult,
        *,
        worker: str,
        policy: RetryPolicy,
        started: float,
        reconciled: bool = False,
    ) -> str: ...


#: What the outbox needs of a partner: one attempt, its retry policy, close
#: (the plugin contract :class:`interop.exchange.transport.Transport`).
Deliverer = Transport


@runtime_checkable
class Reconciler(Protocol):
    """A deliverer that can tell whether an uncertain delivery reached the partner."""

    def reconcile(self, item: OutboxItem) -> HttpResult | None:
        """``delivered`` (found: the receipt names what the partner holds), ``uncertain``
        (the partner could not be asked) or None (not there: send it again)."""
        ...


@dataclass(slots=True)
class RunSummary:
    """What one ``run`` did."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    released: int = 0
    uncertain: int = 0
    reconciled: int = 0
    #: Due rows another worker holds under a live lease when the run ended, and until when.
    held: int = 0
    held_until: str | None = None
    skipped_partners: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def crash_point(point: str) -> None:
    """A fault point ``outbox.<point>`` (a crash test may stop the process here)."""
    faults.reached(f"outbox.{point}")


class Heartbeat:
    """Renews the lease of the row in flight, from one thread for the whole run.

    The thread wakes every sixth of the lease and renews a row held for a third
    of it or more since its claim or last renewal: the lease never has less than
    half of its length left, and a delivery shorter than a third of it is never
    renewed (a transaction saved per delivery, and no thread started per row).
    """

    def __init__(self, box: Queue, worker: str) -> None:
        self.box = box
        self.worker = worker
        self._lock = threading.Lock()
        self._item: OutboxItem | None = None
        self._since = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, item: OutboxItem | None) -> None:
        """Start (``item``) or stop (None) keeping a row's lease."""
        with self._lock:
            self._item, self._since = item, self.box.clock()
        if item is not None and self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="outbox-lease", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        third = self.box.lease_seconds / 3
        while not self._stop.wait(third / 2):
            with self._lock:
                item, since = self._item, self._since
            if item is None or self.box.clock() - since < third:
                continue
            try:
                kept = self.box.renew(item, self.worker)
            except StoreError as exc:  # the next beat tries again
                log.warning("lease of delivery %s not renewed: %s", item.id, exc.message)
                continue
            with self._lock:
                if self._item is item:
                    # A lost lease is not renewed again: another worker owns the row.
                    self._item, self._since = (item, self.box.clock()) if kept else (None, 0.0)


def run(
    box: Queue,
    resolve: Callable[[str], Deliverer],
    *,
    worker: str,
    partner: str | None,
    ids: list[str] | None,
    batch: int,
    wait: float,
) -> RunSummary:
    """Deliver what is due (see :meth:`interop.exchange.outbox.Outbox.run`)."""
    summary = RunSummary()
    deliverers: dict[str, Deliverer] = {}
    stop_at = box.clock() + wait
    beat = Heartbeat(box, worker)
    try:
        while True:
            items = box.claim(
                worker=worker,
                limit=batch,
                partner=partner,
                exclude=summary.skipped_partners,
                ids=ids,
            )
            if not items:
                next_due = box.rows.next_due(partner, summary.skipped_partners, ids)
                if next_due is None or next_due > stop_at:
                    break
                time.sleep(max(0.0, min(next_due, stop_at) - box.clock()) + 0.001)
                continue
            for n, item in enumerate(items):
                d = deliverers.get(item.partner)
                if d is None and item.partner not in summary.skipped_partners:
                    d = _resolve(resolve, item.partner, summary)
                    if d is not None:
                        deliverers[item.partner] = d
                # The claim itself excluded paused partners; a row claimed earlier in the
                # batch is checked again (the partner may have been paused meanwhile).
                if d is None or (n > 0 and box.is_paused(item.partner)):
                    box.release(item, worker)
                    summary.released += 1
                    continue
                _deliver_one(box, beat, item, d, worker, summary)
    finally:
        beat.close()
        for d in deliverers.values():
            d.close()
    summary.held, until = box.held(partner)
    summary.held_until = iso(until)
    return summary


def _deliver_one(
    box: Queue, beat: Heartbeat, item: OutboxItem, d: Deliverer, worker: str, summary: RunSummary
) -> None:
    started = box.clock()
    reconciled = False
    beat.hold(item)
    try:
        result: HttpResult | None = None
        if item.status == "uncertain" and isinstance(d, Reconciler):
            result = d.reconcile(item)
            reconciled = result is not None and result.verdict == "delivered"
        if result is None:
            result = d.attempt(item)
        crash_point("after-send")
    finally:
        beat.hold(None)
    status = box.record(
        item, result, worker=worker, policy=d.retry, started=started, reconciled=reconciled
    )
    if status == "delivered":
        summary.delivered += 1
        summary.reconciled += reconciled
    elif status == "dead":
        summary.dead += 1
    elif status == "uncertain":
        summary.uncertain += 1
    elif status == "pending":
        summary.retrying += 1


def _resolve(
    resolve: Callable[[str], Deliverer], partner: str, summary: RunSummary
) -> Deliverer | None:
    try:
        return resolve(partner)
    except InteropError as exc:
        log.error("deliveries to %s skipped: %s", partner, exc.message)
        summary.skipped_partners.append(partner)
        return None
