from dataclasses import replace

import numpy as np

from tradeoff.bench.fleet import FleetOptions, build_world, fixed_every, report, run_fleet_bench, simulate

TINY = FleetOptions(machines=6, weeks=1, seconds=0.02, fixed_every=(1, 2), warmup_days=0)


def test_the_world_is_seeded() -> None:
    a, b = build_world(TINY), build_world(TINY)
    assert (a.hourly == b.hourly).all() and a.locations == b.locations
    assert not (build_world(replace(TINY, seed=1)).hourly == a.hourly).all()
    assert (a.threshold < a.capacity).all() and (a.initial <= a.capacity).all()


def test_fixed_schedule_visits_each_machine_every_k_working_days() -> None:
    world = build_world(TINY)
    outcome = simulate(world, "fixed-1", fixed_every(1))
    assert outcome.visits == 6 * 5  # Monday to Friday, every machine
    assert outcome.km > 0 and outcome.units_delivered > 0


def test_run_reports_every_policy_and_a_verdict() -> None:
    result = run_fleet_bench(TINY)
    names = [row["policy"] for row in result["policies"]]
    assert names == ["ours", "threshold", "fixed-1", "fixed-2"]
    assert result["reference_fixed"] in {"fixed-1", "fixed-2"}
    assert set(result["target"]) == {
        "km_reduction_wanted",
        "km_reduction",
        "stockouts_not_more",
        "met",
        "stockout_noise_2sigma",
    }
    for row in result["policies"]:
        assert row["stockout_column_hours"] >= 0 and row["visits"] >= 0
    world = build_world(TINY)
    assert np.isfinite(world.weights).all()


def test_reference_is_the_smallest_k_with_stockouts_not_below_ours() -> None:
    rows = [_row("ours", 60.0, 50), _row("fixed-1", 100.0, 10), _row("fixed-2", 90.0, 80), _row("fixed-3", 50.0, 300)]
    result = report(rows, options=TINY, seconds=1.0)
    assert result["reference_fixed"] == "fixed-2" and result["fixed_with_fewer_stockouts"] == "fixed-1"
    assert result["target"]["km_reduction"] == round(1 - 60 / 90, 3) and result["target"]["met"]
    assert result["target"]["stockout_noise_2sigma"] == round(2 * (50 + 80) ** 0.5, 1)


def _row(policy: str, km: float, stockouts: int) -> dict[str, object]:
    return {
        "policy": policy,
        "km": km,
        "visits": 1,
        "units_delivered": 1,
        "stockout_column_hours": stockouts,
        "lost_units": 1,
    }
