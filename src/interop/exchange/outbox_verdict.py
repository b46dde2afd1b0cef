"""What one attempt's answer makes of a delivery: delivered, retried later, uncertain or dead.

The schedule of the outbox (D-40): a retryable failure waits the partner's
backoff (:class:`~interop.exchange.retry.RetryPolicy`) while attempts are left,
then the delivery is dead-lettered; an answer after which the partner may have
processed the request is ``uncertain`` and is reconciled after the backoff,
never dead-lettered, however many attempts it took (D-35). Nothing is written
here: the result is the row's new values.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import Any

import orjson

from interop.exchange.http import HttpResult
from interop.exchange.retry import RetryPolicy
from interop.store.outbox import OutboxItem

__all__ = ["Verdict", "receipt", "verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The row's new values and the attempt's outcome (as logged)."""

    values: dict[str, Any]
    outcome: str  # delivered | reconciled | uncertain | retry | dead

    @property
    def status(self) -> str:
        return str(self.values["status"])


def verdict(
    item: OutboxItem,
    result: HttpResult,
    *,
    policy: RetryPolicy,
    now: float,
    rng: random.Random,
    reconciled: bool = False,
) -> Verdict:
    """The delivery after ``result`` (its attempt number: ``item.attempts + 1``)."""
    attempt = item.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempt,
        "last_status": result.status,
        "lease_until": None,
        "claimed_by": None,
    }
    if result.verdict == "delivered":
        values.update(status="delivered", delivered_at=now, last_error=None,
                      receipt=receipt(result, reconciled=reconciled))  # fmt: skip
        return Verdict(values, "reconciled" if reconciled else "delivered")
    if result.verdict == "uncertain":
        wait = policy.delay(min(attempt, item.max_attempts), rng, result.retry_after)
        values.update(status="uncertain", next_attempt_at=now + wait, last_error=result.error)
        return Verdict(values, "uncertain")
    if result.verdict == "retry" and attempt < item.max_attempts:
        wait = policy.delay(attempt, rng, result.retry_after)
        values.update(status="pending", next_attempt_at=now + wait, last_error=result.error)
        return Verdict(values, "retry")
    reason = result.error or "refused"
    if result.verdict == "retry":
        reason = f"gave up after {attempt} attempts; last: {reason}"
    values.update(status="dead", last_error=reason)
    return Verdict(values, "dead")


def receipt(result: HttpResult, *, reconciled: bool = False) -> str:
    """What to keep of a 2xx answer: status, Location, ETag and a FHIR body if small."""
    keep: dict[str, Any] = {"status": result.status}
    if reconciled:
        keep["reconciled"] = True
    for h in ("location", "etag", "last-modified"):
        if h in result.headers:
            keep[h] = result.headers[h]
    if result.body and len(result.body) <= 1_000_000:
        with contextlib.suppress(ValueError):
            keep["body"] = orjson.loads(result.body)
    return orjson.dumps(keep).decode()
