"""The one retry policy and the one carrier: partner keys, in-process retries, bad settings."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from interop._errors import InputError
from interop.exchange.carrier import BundleCarrier
from interop.exchange.http import HttpResult
from interop.exchange.retry import RetryPolicy, with_retries
from interop.exchange.transport import Transport


def test_both_spellings_of_the_schedule_mean_the_same() -> None:
    new = RetryPolicy.from_settings({"max_attempts": 3, "retry_base": 0.5})
    old = RetryPolicy.from_settings({"retries": 2, "backoff": 0.5})
    assert new == old == RetryPolicy(max_attempts=3, base=0.5)
    assert RetryPolicy.from_settings({}, RetryPolicy(4, 1.0)) == RetryPolicy(4, 1.0)
    with pytest.raises(InputError, match="not both") as err:
        RetryPolicy.from_settings({"retries": 2, "max_attempts": 3})
    assert err.value.code == "E165"
    with pytest.raises(InputError, match="must be numbers"):
        RetryPolicy.from_settings({"max_attempts": "many"})


def test_delays_grow_within_their_jitter_and_honour_retry_after() -> None:
    policy = RetryPolicy(max_attempts=5, base=2.0, cap=10.0)
    rng = random.Random(1)
    for attempt, ceiling in ((1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0)):
        assert ceiling / 2 <= policy.delay(attempt, rng) <= ceiling
    assert policy.delay(1, rng, retry_after=7.0) == 7.0


def test_with_retries_stops_at_the_first_answer_that_is_not_retry() -> None:
    answers = [HttpResult("retry", error="503"), HttpResult("retry"), HttpResult("delivered", 200)]
    waits: list[float] = []
    result, tries = with_retries(
        lambda: answers.pop(0), RetryPolicy(max_attempts=5, base=0), sleep=waits.append
    )
    assert (result.verdict, tries, waits) == ("delivered", 3, [0.0, 0.0])
    fatal, tries = with_retries(
        lambda: HttpResult("fatal", 400), RetryPolicy(max_attempts=5), sleep=waits.append
    )
    assert (fatal.verdict, tries) == ("fatal", 1)
    gave_up, tries = with_retries(
        lambda: HttpResult("retry"), RetryPolicy(max_attempts=2, base=0), sleep=waits.append
    )
    assert (gave_up.verdict, tries) == ("retry", 2)


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"url": "http://127.0.0.1:9/x", "colour": "red"}, "unknown key 'colour'"),
        ({}, "exactly one of"),
        ({"url": "http://127.0.0.1:9/x", "out_dir": "o"}, "exactly one of"),
        ({"url": "http://127.0.0.1:9/x", "timeout": "slow"}, "positive numbers"),
    ],
)
def test_carrier_settings_are_checked_before_anything_is_queued(
    settings: dict[str, object], problem: str
) -> None:
    with pytest.raises(InputError, match=problem) as err:
        BundleCarrier("school-x", "school", settings)
    assert err.value.code == "E611"


def test_a_carrier_is_a_transport(tmp_path: Path) -> None:
    carrier: Transport = BundleCarrier("s", "school", {"out_dir": str(tmp_path), "retries": 0})
    assert carrier.retry.max_attempts == 1
    carrier.close()
