"""The one place that talks to OpenDP: calibrated Laplace noise on integer vectors and on key→count maps.

OpenDP samples from the discrete Laplace distribution on integers with its own CSPRNG (no floating-point
attacks, not seedable). Each mechanism is built for the exact input it gets and its privacy map is
checked against the ε being spent, so a wrong scale cannot slip through.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import opendp.prelude as dp

dp.enable_features("contrib")

_INT = "i64"


class NoiseCalibrationError(RuntimeError):
    """OpenDP's privacy map disagrees with the calibration: a bug, never something to ignore."""


def laplace_scale(*, sensitivity: float, epsilon: float) -> float:
    """Scale b of the Laplace mechanism for an L1 sensitivity: b = Δ₁ / ε (variance 2b²)."""
    if sensitivity <= 0 or epsilon <= 0 or not math.isfinite(sensitivity) or not math.isfinite(epsilon):
        raise ValueError("sensitivity and epsilon must be positive and finite")
    return sensitivity / epsilon


def _calibrated(scale: float, fits: Callable[[float], bool]) -> float:
    """The smallest float ≥ ``scale`` (within a few ulps) that OpenDP's privacy map accepts: Δ/ε can land
    one rounding step below the scale the map needs (3 / 50 → ε = 50.00000000000001)."""
    for _ in range(64):
        if fits(scale):
            return scale
        scale = math.nextafter(scale, math.inf)
    raise NoiseCalibrationError(f"no scale near {scale} satisfies the privacy map")


def _vector_laplace(size: int, scale: float) -> Any:
    domain = dp.vector_domain(dp.atom_domain(T=_INT), size=size)
    return dp.m.make_laplace(domain, dp.l1_distance(T=_INT), scale=scale)


def noisy_vector(values: Sequence[int], *, sensitivity: int, epsilon: float) -> list[int]:
    """``values`` + discrete Laplace(Δ₁/ε) noise, ε-DP when one subject moves the vector by at most
    ``sensitivity`` in L1."""
    if not values:
        return []
    scale = _calibrated(
        laplace_scale(sensitivity=sensitivity, epsilon=epsilon),
        lambda b: bool(_vector_laplace(len(values), b).check(sensitivity, epsilon)),
    )
    measurement = _vector_laplace(len(values), scale)
    return [int(v) for v in cast(list[int], measurement([int(v) for v in values]))]


@dataclass(frozen=True, slots=True)
class ThresholdMechanism:
    """Laplace noise on the counts of keys that are not public, releasing only noisy counts ≥ threshold
    (OpenDP ``make_laplace_threshold``, (ε, δ)-DP). ``l0``: keys one subject touches at most; ``linf``: the
    most it adds to one key; ``l1``: the most it adds over all keys."""

    scale: float
    threshold: int
    l0: int
    l1: int
    linf: int

    def _measurement(self) -> Any:
        domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=_INT))
        metric = dp.l01inf_distance(dp.absolute_distance(T=_INT))
        return dp.m.make_laplace_threshold(domain, metric, scale=self.scale, threshold=self.threshold)

    def loss(self) -> tuple[float, float]:
        epsilon, delta = self._measurement().map((self.l0, self.l1, self.linf))
        return float(epsilon), float(delta)

    def release(self, counts: Mapping[str, int]) -> dict[str, int]:
        noisy = cast(dict[str, int], self._measurement()({k: int(v) for k, v in counts.items()}))
        return {str(k): int(v) for k, v in noisy.items()}


def threshold_mechanism(
    *, l0: int, l1: int, linf: int, epsilon: float, delta: float, min_threshold: int
) -> ThresholdMechanism:
    """The mechanism spending ``epsilon`` with the smallest integer threshold ≥ ``min_threshold`` whose δ
    (as OpenDP computes it) is at most ``delta``."""
    if not 0 < delta < 1:
        raise ValueError("delta must be in (0, 1)")
    low = max(1, min_threshold, linf)  # OpenDP: the threshold may not be below the per-key sensitivity
    scale = _calibrated(
        laplace_scale(sensitivity=l1, epsilon=epsilon),
        lambda b: ThresholdMechanism(scale=b, threshold=low, l0=l0, l1=l1, linf=linf).loss()[0] <= epsilon,
    )

    def make(threshold: int) -> ThresholdMechanism:
        return ThresholdMechanism(scale=scale, threshold=threshold, l0=l0, l1=l1, linf=linf)

    if make(low).loss()[1] <= delta:
        return _checked(make(low), epsilon, delta)
    high = low * 2
    while make(high).loss()[1] > delta:
        low, high = high, high * 2
        if high > 1 << 40:
            raise NoiseCalibrationError("no threshold reaches the requested delta")
    while high - low > 1:  # invariant: δ(low) > delta ≥ δ(high)
        middle = (low + high) // 2
        if make(middle).loss()[1] <= delta:
            high = middle
        else:
            low = middle
    return _checked(make(high), epsilon, delta)


def _checked(mechanism: ThresholdMechanism, epsilon: float, delta: float) -> ThresholdMechanism:
    spent_epsilon, spent_delta = mechanism.loss()
    if spent_epsilon > epsilon or spent_delta > delta:
        raise NoiseCalibrationError(
            f"threshold mechanism costs ({spent_epsilon}, {spent_delta}), not ({epsilon}, {delta})"
        )
    return mechanism
