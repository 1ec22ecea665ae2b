from datetime import timedelta

import pytest

from tests.unit.vending.planning.fixtures import NOW, column, machine
from tradeoff.vending.planning.model import CasePolicy
from tradeoff.vending.planning.picks import column_pick, increment, machine_picks, round_quantity

ETA = NOW + timedelta(hours=6)


@pytest.mark.parametrize(("policy", "expected"), [("unit", 26), ("half_case", 24), ("case", 24)])
def test_pick_is_par_minus_forecast_on_hand_at_eta_rounded(policy: CasePolicy, expected: int) -> None:
    col = column(on_hand=20, rate=24, capacity=40, case_size=12)  # 14 expected at the ETA: 26 to par
    assert column_pick(col, now=NOW, eta=ETA, policy=policy) == expected


def test_rounding_goes_to_the_nearest_step_that_fits() -> None:
    assert round_quantity(20, headroom=30, step=6, below_threshold=False) == 18
    assert round_quantity(22, headroom=30, step=6, below_threshold=False) == 24
    col = column(on_hand=20, rate=4, capacity=40, case_size=12)  # 19 at the ETA: 21 to par, 24 would overfill
    assert column_pick(col, now=NOW, eta=ETA, policy="half_case") == 18


def test_never_over_capacity() -> None:
    assert round_quantity(27, headroom=27, step=12, below_threshold=False) == 24
    assert round_quantity(30, headroom=26.5, step=1, below_threshold=False) == 26


def test_a_low_column_always_gets_something() -> None:
    col = column(on_hand=8, rate=0.0, capacity=10, threshold=8, case_size=12)  # a case never fits
    assert column_pick(col, now=NOW, eta=ETA, policy="case") == 2
    assert round_quantity(0.2, headroom=5, step=1, below_threshold=True) == 1


def test_full_columns_are_left_out_of_the_pick_list() -> None:
    m = machine("m", east_m=0, columns=(column("10", on_hand=40, rate=0.1), column("11", on_hand=10, rate=0.0)))
    picks = machine_picks(m, now=NOW, eta=ETA, policy="unit")
    assert [(p.selection, p.quantity) for p in picks] == [("11", 30)]


def test_increments() -> None:
    assert (increment("unit", 12), increment("half_case", 12), increment("case", 12)) == (1, 6, 12)
    assert increment("half_case", 1) == 1
