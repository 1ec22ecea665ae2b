"""The coupon lifecycle: allowed transitions, idempotent repeats, conflicts, holds and windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.core.errors import Conflict, InvalidInput
from tradeoff.offers.coupons.lifecycle import (
    ALLOWED,
    DEFAULT_HOLD,
    Coupon,
    CouponConflict,
    CouponState,
    Transition,
    effective_state,
    expire,
    issue,
    redeem,
    release,
    reserve,
    roll_back,
    void,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
S = CouponState


def fresh() -> Coupon:
    return issue(serial=7, valid_from=START, valid_until=END)


def reserved(txn: str = "T1", at: datetime = NOW) -> Coupon:
    return reserve(fresh(), transaction_id=txn, at=at).coupon


def redeemed(txn: str = "T1", at: datetime = NOW) -> Coupon:
    return redeem(fresh(), transaction_id=txn, at=at).coupon


def conflict(reason: str, call: Callable[[], Transition]) -> CouponConflict:
    with pytest.raises(CouponConflict) as excinfo:
        call()
    assert excinfo.value.reason == reason and isinstance(excinfo.value, Conflict)
    assert excinfo.value.details["reason"] == reason
    return excinfo.value


def test_happy_path_reserve_then_redeem() -> None:
    r = reserve(fresh(), transaction_id="T1", at=NOW)
    assert r.changed and r.coupon.state is S.RESERVED and r.coupon.hold_until == NOW + DEFAULT_HOLD
    d = redeem(r.coupon, transaction_id="T1", at=NOW + timedelta(minutes=2))
    assert d.changed and d.coupon.state is S.REDEEMED and d.coupon.transaction_id == "T1"
    assert d.coupon.version == 2 and d.coupon.changed_at == NOW + timedelta(minutes=2) and d.coupon.hold_until is None


def test_direct_redemption_of_a_free_coupon() -> None:
    d = redeem(fresh(), transaction_id="T1", at=NOW)
    assert d.changed and d.coupon.state is S.REDEEMED


def test_redeeming_twice_with_the_same_transaction_is_a_no_op() -> None:
    once = redeemed()
    again = redeem(once, transaction_id="T1", at=NOW + timedelta(hours=1))
    assert again == Transition(once, changed=False)


def test_redeeming_with_another_transaction_is_already_redeemed() -> None:
    error = conflict("already_redeemed", lambda: redeem(redeemed(), transaction_id="T2", at=NOW))
    assert "already redeemed" in error.message and error.status == 409


def test_reserve_repeats_and_conflicts() -> None:
    held = reserved()
    assert reserve(held, transaction_id="T1", at=NOW + timedelta(minutes=1)) == Transition(held, changed=False)
    conflict("reserved_elsewhere", lambda: reserve(held, transaction_id="T2", at=NOW))
    conflict("reserved_elsewhere", lambda: redeem(held, transaction_id="T2", at=NOW))
    conflict("reserved_elsewhere", lambda: release(held, transaction_id="T2", at=NOW))
    assert reserve(redeemed(), transaction_id="T1", at=NOW).changed is False  # late retry of the reserve
    conflict("already_redeemed", lambda: reserve(redeemed(), transaction_id="T2", at=NOW))


def test_release_returns_the_coupon_and_repeats_are_no_ops() -> None:
    back = release(reserved(), transaction_id="T1", at=NOW)
    assert back.changed and back.coupon.state is S.ISSUED and back.coupon.transaction_id is None
    assert release(back.coupon, transaction_id="T1", at=NOW) == Transition(back.coupon, changed=False)
    assert reserve(back.coupon, transaction_id="T2", at=NOW).coupon.transaction_id == "T2"
    conflict("already_redeemed", lambda: release(redeemed(), transaction_id="T1", at=NOW))


def test_a_lapsed_hold_frees_the_coupon_for_others() -> None:
    held = reserved()
    later = NOW + DEFAULT_HOLD
    assert effective_state(held, at=later - timedelta(seconds=1)) is S.RESERVED
    assert effective_state(held, at=later) is S.ISSUED
    taken = reserve(held, transaction_id="T2", at=later)
    assert taken.coupon.state is S.RESERVED and taken.coupon.transaction_id == "T2"
    assert expire(held, at=later).coupon.state is S.ISSUED  # the sweep stores the lapse


def test_window_ends_expire_unused_coupons() -> None:
    assert effective_state(fresh(), at=END - timedelta(microseconds=1)) is S.ISSUED
    swept = expire(fresh(), at=END)
    assert swept.changed and swept.coupon.state is S.EXPIRED
    assert expire(swept.coupon, at=END + timedelta(days=1)) == Transition(swept.coupon, changed=False)
    assert expire(fresh(), at=NOW) == Transition(fresh(), changed=False)
    conflict("expired", lambda: redeem(fresh(), transaction_id="T1", at=END))
    conflict("expired", lambda: reserve(swept.coupon, transaction_id="T1", at=NOW))
    conflict("expired", lambda: void(swept.coupon, at=END, reason="cleanup"))


def test_not_yet_valid() -> None:
    conflict("not_yet_valid", lambda: reserve(fresh(), transaction_id="T1", at=START - timedelta(seconds=1)))
    conflict("not_yet_valid", lambda: redeem(fresh(), transaction_id="T1", at=START - timedelta(seconds=1)))
    assert redeem(fresh(), transaction_id="T1", at=START).changed


def test_a_reservation_made_in_time_may_be_redeemed_just_after_the_end() -> None:
    held = reserved(at=END - timedelta(minutes=1))
    done = redeem(held, transaction_id="T1", at=END + timedelta(minutes=5))
    assert done.coupon.state is S.REDEEMED
    # Released after the end, it does not come back to life.
    assert release(held, transaction_id="T1", at=END + timedelta(minutes=5)).coupon.state is S.EXPIRED
    # Lapsed after the end, it expires.
    assert effective_state(held, at=END + DEFAULT_HOLD) is S.EXPIRED


def test_void() -> None:
    gone = void(reserved(), at=NOW, reason="fraud report")
    assert gone.changed and gone.coupon.state is S.VOIDED and gone.coupon.void_reason == "fraud report"
    assert void(gone.coupon, at=NOW, reason="again") == Transition(gone.coupon, changed=False)
    conflict("voided", lambda: redeem(gone.coupon, transaction_id="T1", at=NOW))
    conflict("voided", lambda: reserve(gone.coupon, transaction_id="T1", at=NOW))
    conflict("already_redeemed", lambda: void(redeemed(), at=NOW, reason="too late"))
    assert release(gone.coupon, transaction_id="T1", at=NOW).changed is False


def test_roll_back_after_a_refund() -> None:
    back = roll_back(redeemed(), transaction_id="T1", at=NOW)
    assert back.changed and back.coupon.state is S.ISSUED and back.coupon.rolled_back_by == "T1"
    assert roll_back(back.coupon, transaction_id="T1", at=NOW) == Transition(back.coupon, changed=False)
    again = redeem(back.coupon, transaction_id="T9", at=NOW).coupon
    assert again.state is S.REDEEMED
    # A late duplicate of T1's rollback is still a no-op, not a rollback of T9's redemption.
    assert roll_back(again, transaction_id="T1", at=NOW) == Transition(again, changed=False)
    # The refunded transaction cannot take the coupon again (a late retry of its redeem/reserve).
    conflict("rolled_back", lambda: redeem(back.coupon, transaction_id="T1", at=NOW))
    conflict("rolled_back", lambda: reserve(back.coupon, transaction_id="T1", at=NOW))
    conflict("redeemed_elsewhere", lambda: roll_back(redeemed(), transaction_id="T2", at=NOW))
    conflict("not_redeemed", lambda: roll_back(fresh(), transaction_id="T1", at=NOW))
    assert roll_back(redeemed(), transaction_id="T1", at=END).coupon.state is S.EXPIRED


def test_every_change_is_an_allowed_transition() -> None:
    """Walk every command from every reachable state and check each change against ``ALLOWED``."""
    states = {
        S.ISSUED: fresh(),
        S.RESERVED: reserved(),
        S.REDEEMED: redeemed(),
        S.EXPIRED: expire(fresh(), at=END).coupon,
        S.VOIDED: void(fresh(), at=NOW, reason="x").coupon,
    }
    commands: list[Callable[[Coupon], Transition]] = [
        lambda c: reserve(c, transaction_id="T1", at=NOW),
        lambda c: reserve(c, transaction_id="T2", at=NOW),
        lambda c: redeem(c, transaction_id="T1", at=NOW),
        lambda c: redeem(c, transaction_id="T2", at=NOW),
        lambda c: release(c, transaction_id="T1", at=NOW),
        lambda c: roll_back(c, transaction_id="T1", at=NOW),
        lambda c: void(c, at=NOW, reason="x"),
    ]
    seen: set[tuple[S, S]] = set()
    for state, coupon in states.items():
        assert coupon.state is state
        for command in commands:
            try:
                result = command(coupon)
            except CouponConflict:
                continue
            if result.changed:
                assert result.coupon.state in ALLOWED[state], (state, result.coupon.state)
                seen.add((state, result.coupon.state))
            else:
                assert result.coupon == coupon
    assert ALLOWED[S.EXPIRED] == ALLOWED[S.VOIDED] == frozenset()
    assert {(S.ISSUED, S.RESERVED), (S.RESERVED, S.REDEEMED), (S.RESERVED, S.ISSUED), (S.REDEEMED, S.ISSUED)} <= seen


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: issue(serial=1, valid_from=END, valid_until=START), "valid_until"),
        (lambda: issue(serial=-1, valid_from=START, valid_until=END), "serial"),
        (lambda: issue(serial=1, valid_from=datetime(2026, 1, 1), valid_until=END), "valid_from"),
        (lambda: reserve(fresh(), transaction_id="", at=NOW), "transaction_id"),
        (lambda: reserve(fresh(), transaction_id="T1", at=NOW, hold=timedelta(0)), "hold"),
        (lambda: redeem(fresh(), transaction_id="T1", at=datetime(2026, 11, 15)), "at"),
        (lambda: void(fresh(), at=NOW, reason=" "), "reason"),
    ],
)
def test_bad_arguments_name_the_field(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        call()
    assert excinfo.value.field == field
