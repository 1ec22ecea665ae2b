"""The retry schedule: exponential, capped, jittered within bounds, then exhausted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeoff.offers.delivery.retry import RetryPolicy


def test_the_default_schedule_doubles_and_gives_up_after_eight_attempts() -> None:
    policy = RetryPolicy()
    assert [int(d.total_seconds()) for d in policy.schedule()] == [5, 10, 20, 40, 80, 160, 320]
    assert not policy.exhausted(7) and policy.exhausted(8)
    assert policy.nominal(30) == policy.cap


@given(attempts=st.integers(min_value=1, max_value=40), rand=st.floats(min_value=0, max_value=1))
def test_jitter_stays_between_half_and_the_full_nominal_wait(attempts: int, rand: float) -> None:
    policy = RetryPolicy()
    delay = policy.delay(attempts, rand=lambda: rand)
    assert policy.nominal(attempts) / 2 <= delay <= policy.nominal(attempts)


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base=timedelta(0))
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)
