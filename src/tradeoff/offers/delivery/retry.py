"""The retry schedule of webhook deliveries: exponential backoff with jitter, then dead.

Attempt ``n`` failed → wait ``min(cap, base · 2^(n-1))``, of which the last ``jitter`` fraction is random
("equal jitter"), so endpoints that failed together (an app backend restarting) are not hit together
again. Offers are about a shopper who is in the store now, so the default gives up after about 10 minutes (8 attempts)
(the coupon stays in the app's pull list until it expires).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=10)
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("base must be positive and cap at least base")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction from 0 to 1")

    def nominal(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` failed attempts, before jitter."""
        factor: int = 2 ** max(0, attempts - 1)
        return min(self.cap, self.base * factor)

    def delay(self, attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
        """The wait after ``attempts`` failed attempts: between ``(1 - jitter)`` and 1 times the nominal."""
        nominal = self.nominal(attempts)
        return nominal * (1 - self.jitter) + nominal * (self.jitter * rand())

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def schedule(self) -> list[timedelta]:
        """The nominal waits between the attempts (``max_attempts - 1`` of them)."""
        return [self.nominal(n) for n in range(1, self.max_attempts)]
