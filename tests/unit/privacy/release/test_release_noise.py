"""The noise OpenDP adds has the configured scale: mean ≈ 0, variance ≈ 2b² (statistical, robust)."""

from __future__ import annotations

import math
import statistics

import pytest

from tradeoff.privacy.release.noise import laplace_scale, noisy_vector, threshold_mechanism

DRAWS = 20_000


def _discrete_laplace_variance(scale: float) -> float:
    """Exact variance of OpenDP's discrete Laplace with scale b: 2t/(1-t)² with t = e^(-1/b) (→ 2b²)."""
    t = math.exp(-1 / scale)
    return 2 * t / (1 - t) ** 2


@pytest.mark.parametrize(("sensitivity", "epsilon"), [(1, 0.2), (3, 1.0), (1, 0.05)])
def test_laplace_noise_has_the_configured_scale(sensitivity: int, epsilon: float) -> None:
    scale = laplace_scale(sensitivity=sensitivity, epsilon=epsilon)
    assert scale == sensitivity / epsilon
    true_value = 1000
    noise = [v - true_value for v in noisy_vector([true_value] * DRAWS, sensitivity=sensitivity, epsilon=epsilon)]
    variance = statistics.pvariance(noise)
    expected = _discrete_laplace_variance(scale)
    assert expected == pytest.approx(2 * scale**2, rel=0.05)  # the discrete variant matches 2b² closely
    # Sample variance of Laplace noise has relative sd ≈ sqrt(5/n) ≈ 1.6 % at n = 20,000: ±15 % is > 9 sd.
    assert variance == pytest.approx(expected, rel=0.15)
    # Mean: sd = sqrt(2b²/n); allow 6 sd.
    assert abs(statistics.fmean(noise)) < 6 * math.sqrt(expected / DRAWS)
    # Laplace: P(|X| > b·ln 20) = 5 %; check the tail mass lands in a generous band.
    tail = sum(abs(x) > scale * math.log(20) for x in noise) / DRAWS
    assert 0.035 < tail < 0.065


def test_the_noise_is_fresh_each_time() -> None:
    first = noisy_vector([0] * 50, sensitivity=1, epsilon=0.5)
    second = noisy_vector([0] * 50, sensitivity=1, epsilon=0.5)
    assert first != second


def test_threshold_mechanism_meets_the_requested_delta_with_the_smallest_threshold() -> None:
    mechanism = threshold_mechanism(l0=2, l1=2, linf=1, epsilon=0.5, delta=1e-6, min_threshold=10)
    epsilon, delta = mechanism.loss()
    assert epsilon == pytest.approx(0.5)
    assert delta <= 1e-6
    smaller = threshold_mechanism(l0=2, l1=2, linf=1, epsilon=0.5, delta=1e-6, min_threshold=1)
    assert smaller.threshold == mechanism.threshold  # k=10 is below what δ needs: τ is set by δ
    from tradeoff.privacy.release.noise import ThresholdMechanism

    assert ThresholdMechanism(mechanism.scale, mechanism.threshold - 1, 2, 2, 1).loss()[1] > 1e-6
    high_k = threshold_mechanism(l0=1, l1=1, linf=1, epsilon=5.0, delta=1e-6, min_threshold=50)
    assert high_k.threshold == 50  # when k alone is enough, the floor stays at k


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        laplace_scale(sensitivity=1, epsilon=0)
    with pytest.raises(ValueError):
        laplace_scale(sensitivity=1, epsilon=math.inf)
    with pytest.raises(ValueError):
        threshold_mechanism(l0=1, l1=1, linf=1, epsilon=1.0, delta=0.0, min_threshold=1)
    assert noisy_vector([], sensitivity=1, epsilon=1.0) == []
