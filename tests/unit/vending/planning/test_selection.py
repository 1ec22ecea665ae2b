from datetime import timedelta

import numpy as np
import pytest

from tests.unit.vending.planning.fixtures import NOW, column, machine
from tradeoff.vending.planning.selection import JoinTuning, local_visit_m, need, prize, round_trip_m, soon


def test_need_is_the_most_depleted_columns_share_of_its_usable_range() -> None:
    m = machine("m", east_m=0, columns=(column("10", on_hand=24, rate=0), column("11", on_hand=40, rate=0)))
    assert need(m, now=NOW, at=NOW + timedelta(hours=1)) == pytest.approx(0.5)  # (40 - 24) / (40 - 8)


def test_prize_formula() -> None:
    tuning = JoinTuning(min_need=0.4, minute_cost_m=100, trip_share=0.5)
    local = {"local_m": 5000, "trip_m": 4000, "service_minutes": 10, "tuning": tuning}
    assert prize(need=0.8, soon=0.0, **local) == 4000 - 200  # type: ignore[arg-type]
    assert prize(need=0.8, soon=1.0, **local) == 4000 - 200  # type: ignore[arg-type]  # max(4000, 2000)
    assert prize(need=0.5, soon=1.0, local_m=500, trip_m=20_000, service_minutes=10, tuning=tuning) == 10_000 - 500
    assert prize(need=0.3, soon=1.0, **local) == 0  # type: ignore[arg-type]
    assert prize(need=0.5, soon=0.0, local_m=500, trip_m=0, service_minutes=10, tuning=tuning) == 0


def test_soon_is_one_until_the_horizon_then_falls() -> None:
    opp = NOW + timedelta(days=1)
    assert soon(opp + timedelta(hours=12), next_opportunity=opp, soon_days=1.0) == 1.0
    assert soon(opp + timedelta(days=1.5), next_opportunity=opp, soon_days=1.0) == pytest.approx(0.5)
    assert soon(opp + timedelta(days=5), next_opportunity=opp, soon_days=1.0) == 0.0


def test_local_visit_uses_the_neighbourhood_and_round_trip_the_depot() -> None:
    distance = np.array(
        [[0, 5000, 5100, 20000], [5000, 0, 100, 15000], [5100, 100, 0, 15000], [20000, 15000, 15000, 0]]
    )
    assert local_visit_m(distance, location=1, depots=1, neighbours=1) == 200
    assert local_visit_m(distance, location=1, depots=1, neighbours=2) == 15100
    assert round_trip_m(distance, location=3, depots=1) == 40000
    alone = np.array([[0, 3000], [3000, 0]])
    assert local_visit_m(alone, location=1, depots=1, neighbours=4) == 6000
