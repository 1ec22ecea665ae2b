from tradeoff.vending.planning.trim import TrimItem, trim_to_capacity


def test_nothing_changes_when_it_fits() -> None:
    items = [TrimItem(10, 1, 5, 2, False), TrimItem(4, 1, 0, 1, True)]
    assert trim_to_capacity(items, 20) == [10, 4]


def test_the_emptiest_column_is_served_first_and_the_truck_is_filled() -> None:
    fast = TrimItem(wanted=30, step=1, on_hand=2, rate=10, low=True)  # 0.2 days of cover
    slow = TrimItem(wanted=30, step=1, on_hand=10, rate=1, low=False)  # 10 days of cover
    fast_q, slow_q = trim_to_capacity([fast, slow], 30)
    assert fast_q + slow_q == 30
    assert fast_q == 30  # even all of it leaves the fast column at 3.2 days, below the slow one's 10


def test_steps_are_kept_and_low_columns_keep_one_step() -> None:
    items = [TrimItem(24, 12, 0, 5, True), TrimItem(24, 12, 0, 5, True), TrimItem(24, 12, 30, 1, False)]
    result = trim_to_capacity(items, 30)
    assert all(q % 12 == 0 for q in result) and sum(result) <= 30
    assert result[0] >= 12 and result[1] >= 12
