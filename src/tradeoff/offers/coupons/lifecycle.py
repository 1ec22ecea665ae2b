"""The coupon lifecycle the POS side drives, as a pure state machine (storage is the caller's job).

::

               reserve(txn)               redeem(txn)
    issued ───────────────▶ reserved ───────────────▶ redeemed
      ▲ ▲  release(txn), hold lapses │                    │
      │ └────────────────────────────┘                    │
      └──────────── roll_back(txn): refund / cancel ──────┘
    issued ── redeem(txn) ──▶ redeemed (a direct redemption reserves implicitly)
    issued / reserved ── void ──▶ voided;   issued ── window ends ──▶ expired

Promotion engines learned this the hard way (see docs/offers-coupons.md): reserve at checkout, redeem
on payment, release on abandonment, with a hold that lapses on its own so a crashed till cannot lock
a coupon forever. Every command names the POS transaction, which makes repeats idempotent: redeeming
twice with the same transaction is a no-op, with another one a ``CouponConflict`` "already redeemed".
Each function returns a ``Transition``: the new coupon, and whether anything changed (nothing to store
when it did not). ``version`` grows by one per change, for optimistic locking where it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from tradeoff.core.errors import Conflict, InvalidInput

DEFAULT_HOLD = timedelta(minutes=15)


class CouponState(StrEnum):
    ISSUED = "issued"
    RESERVED = "reserved"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOIDED = "voided"


ALLOWED: dict[CouponState, frozenset[CouponState]] = {
    CouponState.ISSUED: frozenset(
        {CouponState.RESERVED, CouponState.REDEEMED, CouponState.EXPIRED, CouponState.VOIDED}
    ),
    CouponState.RESERVED: frozenset({CouponState.ISSUED, CouponState.REDEEMED, CouponState.VOIDED}),
    CouponState.REDEEMED: frozenset({CouponState.ISSUED}),  # roll_back after a refund
    CouponState.EXPIRED: frozenset(),
    CouponState.VOIDED: frozenset(),
}
"""Which state may follow which; every change the functions below make is one of these."""


@dataclass(frozen=True, slots=True)
class Coupon:
    """One coupon as the lifecycle sees it; immutable, so every command returns a new one to store."""

    serial: int
    valid_from: datetime
    valid_until: datetime
    state: CouponState = CouponState.ISSUED
    transaction_id: str | None = None  # the POS transaction holding the reservation or that redeemed it
    hold_until: datetime | None = None  # when an unredeemed reservation lapses by itself
    rolled_back_by: str | None = None  # the last redeeming transaction that was refunded
    void_reason: str | None = None
    changed_at: datetime | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    """A command's result; ``changed`` is False for an idempotent repeat (nothing to write)."""

    coupon: Coupon
    changed: bool


class CouponConflict(Conflict):
    """The command cannot apply to the coupon as it is; ``reason`` is a stable machine code."""

    def __init__(self, reason: str, message: str, coupon: Coupon) -> None:
        details = {"reason": reason, "state": coupon.state.value, "serial": coupon.serial}
        super().__init__(message, details=details)
        self.reason = reason


def _aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, "must be a timezone-aware datetime")
    return value


def _txn(transaction_id: str) -> str:
    if not isinstance(transaction_id, str) or not transaction_id.strip():
        raise InvalidInput("transaction_id", "must name the POS transaction (non-empty text)")
    return transaction_id


def issue(*, serial: int, valid_from: datetime, valid_until: datetime) -> Coupon:
    """A new coupon, valid from ``valid_from`` (inclusive) until ``valid_until`` (exclusive)."""
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise InvalidInput("serial", f"must be a non-negative integer, got {serial!r}")
    if _aware("valid_until", valid_until) <= _aware("valid_from", valid_from):
        raise InvalidInput("valid_until", "must be after valid_from")
    return Coupon(serial=serial, valid_from=valid_from, valid_until=valid_until)


def _move(coupon: Coupon, state: CouponState, at: datetime, **changes: object) -> Coupon:
    assert state in ALLOWED[coupon.state], f"{coupon.state} → {state} is not a lifecycle transition"
    return replace(coupon, state=state, changed_at=at, version=coupon.version + 1, **changes)  # type: ignore[arg-type]


def _settle(coupon: Coupon, at: datetime) -> Coupon:
    """Apply what time alone does: a lapsed hold is released; an unused coupon past its window expires."""
    if coupon.state is CouponState.RESERVED and coupon.hold_until is not None and at >= coupon.hold_until:
        coupon = _move(coupon, CouponState.ISSUED, at, transaction_id=None, hold_until=None)
    if coupon.state is CouponState.ISSUED and at >= coupon.valid_until:
        coupon = _move(coupon, CouponState.EXPIRED, at)
    return coupon


def effective_state(coupon: Coupon, *, at: datetime) -> CouponState:
    """The state at ``at``, counting lapsed holds and ended windows that were not stored yet."""
    return _settle(coupon, _aware("at", at)).state


def _refuse(coupon: Coupon) -> CouponConflict:
    """The conflict for a coupon that is in a state the command cannot leave."""
    if coupon.state is CouponState.REDEEMED:
        return CouponConflict("already_redeemed", f"coupon {coupon.serial} is already redeemed", coupon)
    if coupon.state is CouponState.RESERVED:
        message = f"coupon {coupon.serial} is reserved by another transaction until {coupon.hold_until}"
        return CouponConflict("reserved_elsewhere", message, coupon)
    if coupon.state is CouponState.EXPIRED:
        return CouponConflict("expired", f"coupon {coupon.serial} expired at {coupon.valid_until}", coupon)
    if coupon.state is CouponState.VOIDED:
        return CouponConflict("voided", f"coupon {coupon.serial} was voided: {coupon.void_reason}", coupon)
    return CouponConflict("not_redeemed", f"coupon {coupon.serial} is {coupon.state.value}, not redeemed", coupon)


def _check_usable_by(coupon: Coupon, txn: str, at: datetime) -> None:
    """A free coupon may be taken unless its window has not begun or this transaction was refunded."""
    if coupon.rolled_back_by == txn:
        message = f"transaction {txn} was refunded; its use of coupon {coupon.serial} was rolled back"
        raise CouponConflict("rolled_back", message, coupon)
    if at < coupon.valid_from:
        raise CouponConflict("not_yet_valid", f"coupon {coupon.serial} is valid from {coupon.valid_from}", coupon)


def reserve(coupon: Coupon, *, transaction_id: str, at: datetime, hold: timedelta = DEFAULT_HOLD) -> Transition:
    """Hold the coupon for one POS transaction (checkout started) for ``hold``."""
    txn, now = _txn(transaction_id), _aware("at", at)
    if hold <= timedelta(0):
        raise InvalidInput("hold", "must be positive")
    current = _settle(coupon, now)
    if current.state in (CouponState.RESERVED, CouponState.REDEEMED) and current.transaction_id == txn:
        return Transition(current, changed=current is not coupon)
    if current.state is not CouponState.ISSUED:
        raise _refuse(current)
    _check_usable_by(current, txn, now)
    return Transition(_move(current, CouponState.RESERVED, now, transaction_id=txn, hold_until=now + hold), True)


def redeem(coupon: Coupon, *, transaction_id: str, at: datetime) -> Transition:
    """Consume the coupon for the transaction that reserved it (or directly, if it is free)."""
    txn, now = _txn(transaction_id), _aware("at", at)
    current = _settle(coupon, now)
    if current.state is CouponState.REDEEMED and current.transaction_id == txn:
        return Transition(current, changed=current is not coupon)
    if current.state is CouponState.RESERVED and current.transaction_id == txn:
        # A reservation made inside the window may be redeemed while its hold lasts, even just after the end.
        return Transition(_move(current, CouponState.REDEEMED, now, hold_until=None), True)
    if current.state is not CouponState.ISSUED:
        raise _refuse(current)
    _check_usable_by(current, txn, now)
    return Transition(_move(current, CouponState.REDEEMED, now, transaction_id=txn, hold_until=None), True)


def release(coupon: Coupon, *, transaction_id: str, at: datetime) -> Transition:
    """Give a reservation back (checkout abandoned); releasing what is not held is a no-op."""
    txn, now = _txn(transaction_id), _aware("at", at)
    current = _settle(coupon, now)
    if current.state is CouponState.RESERVED:
        if current.transaction_id != txn:
            raise _refuse(current)
        return Transition(
            _settle(_move(current, CouponState.ISSUED, now, transaction_id=None, hold_until=None), now), True
        )
    if current.state is CouponState.REDEEMED:
        raise _refuse(current)
    return Transition(current, changed=current is not coupon)


def roll_back(coupon: Coupon, *, transaction_id: str, at: datetime) -> Transition:
    """Undo a redemption whose POS transaction was refunded or cancelled; the coupon is usable again."""
    txn, now = _txn(transaction_id), _aware("at", at)
    current = _settle(coupon, now)
    if current.state is not CouponState.REDEEMED or current.transaction_id != txn:
        if current.rolled_back_by == txn:  # a repeat, even if someone else has redeemed it since
            return Transition(current, changed=current is not coupon)
        if current.state is CouponState.REDEEMED:
            message = f"coupon {current.serial} was redeemed by another transaction"
            raise CouponConflict("redeemed_elsewhere", message, current)
        raise CouponConflict("not_redeemed", f"coupon {current.serial} is {current.state.value}, not redeemed", current)
    back = _move(current, CouponState.ISSUED, now, transaction_id=None, rolled_back_by=txn)
    return Transition(_settle(back, now), True)


def void(coupon: Coupon, *, at: datetime, reason: str) -> Transition:
    """Withdraw an unused coupon (merchant decision, fraud); voiding twice is a no-op."""
    now = _aware("at", at)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", "say why the coupon is voided")
    current = _settle(coupon, now)
    if current.state is CouponState.VOIDED:
        return Transition(current, changed=current is not coupon)
    if current.state not in (CouponState.ISSUED, CouponState.RESERVED):
        raise _refuse(current)
    return Transition(
        _move(current, CouponState.VOIDED, now, transaction_id=None, hold_until=None, void_reason=reason), True
    )


def expire(coupon: Coupon, *, at: datetime) -> Transition:
    """The periodic sweep: store what time did (lapsed holds, ended windows); unchanged when nothing is due."""
    current = _settle(coupon, _aware("at", at))
    return Transition(current, changed=current is not coupon)
