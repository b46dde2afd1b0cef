"""The one retry policy of every partner: bounded attempts, exponential backoff with jitter.

Deliveries are retried by the outbox on this schedule, durably (the next
attempt's time is stored in the archive, so a crash or a pause loses
nothing); reads that are not queued (a partner's list feed) use the same
policy in process through :func:`with_retries`. See docs/decisions.md D-40.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from interop._errors import InputError
from interop.exchange.http import HttpResult
from interop.i18n import N_

__all__ = ["DEFAULT_MAX_ATTEMPTS", "RetryPolicy", "with_retries"]

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8

#: What an operator reads when the retry keys of a partner are wrong.
MSG_NOT_NUMBERS = N_("max_attempts, retry_base and retry_cap must be numbers")
MSG_BOTH_SPELLINGS = N_(
    "give either 'max_attempts'/'retry_base' or the older 'retries'/'backoff', not both"
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded attempts with exponential backoff and jitter.

    The n-th failed attempt waits a random time between half and all of
    ``min(cap, base * factor ** (n - 1))`` seconds ("equal jitter": delays keep
    growing, yet workers that failed together do not retry together). A
    partner's ``Retry-After`` is honoured when it asks for longer.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base: float = 2.0
    factor: float = 2.0
    cap: float = 3600.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * self.factor ** max(0, attempt - 1))
        wait = rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], default: RetryPolicy | None = None
    ) -> RetryPolicy:
        """``max_attempts``, ``retry_base``, ``retry_cap`` of a partner's configuration.

        The older spelling ``retries`` (further attempts after the first) and
        ``backoff`` (the first wait) means the same schedule.
        """
        d = default or cls()
        new = {"max_attempts", "retry_base"} & set(settings)
        old = {"retries", "backoff"} & set(settings)
        if new and old:
            raise InputError(MSG_BOTH_SPELLINGS, code="E165")
        try:
            if old:
                attempts = int(settings.get("retries", d.max_attempts - 1)) + 1
                base = float(settings.get("backoff", d.base))
            else:
                attempts = int(settings.get("max_attempts", d.max_attempts))
                base = float(settings.get("retry_base", d.base))
            return cls(
                max_attempts=max(1, attempts),
                base=max(0.0, base),
                cap=float(settings.get("retry_cap", d.cap)),
            )
        except (TypeError, ValueError):
            raise InputError(MSG_NOT_NUMBERS, code="E165") from None


def with_retries(
    attempt: Callable[[], HttpResult],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    rng: random.Random | None = None,
    what: str = "request",
) -> tuple[HttpResult, int]:
    """Call ``attempt`` until it is not a ``retry`` or the attempts are used up.

    Returns the last result and the number of attempts made. For reads that
    are not queued in the outbox; deliveries are retried by the outbox.
    """
    rng = rng or random.Random()
    n = 0
    while True:
        n += 1
        result = attempt()
        if result.verdict != "retry" or n >= policy.max_attempts:
            return result, n
        log.warning("%s: %s (try %d of %d)", what, result.error, n, policy.max_attempts)
        sleep(policy.delay(n, rng, result.retry_after))
