"""Coupons, pure: unforgeable typed codes, QR images, GS1 (8110)/(8112) element strings, the lifecycle.

No storage here: the campaign side persists coupons and calls these functions (see docs/offers-coupons.md).
"""

from tradeoff.offers.coupons.codes import (
    COMPACT_FORMAT,
    DEFAULT_FORMAT,
    CodeFormat,
    InvalidCode,
    make_code,
    normalize_code,
    read_code,
)
from tradeoff.offers.coupons.gs1 import Gs1Check, bracketed, build_8112, check_element_string, check_value
from tradeoff.offers.coupons.gs1_8110_build import Purchase, build_8110_value
from tradeoff.offers.coupons.gs1_scan import GcpLookup, GcpStatus
from tradeoff.offers.coupons.keyring import coupon_key
from tradeoff.offers.coupons.lifecycle import (
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
from tradeoff.offers.coupons.qr import qr_bytes, qr_symbol

__all__ = [
    "COMPACT_FORMAT",
    "DEFAULT_FORMAT",
    "CodeFormat",
    "Coupon",
    "CouponConflict",
    "CouponState",
    "GcpLookup",
    "GcpStatus",
    "Gs1Check",
    "InvalidCode",
    "Purchase",
    "Transition",
    "bracketed",
    "build_8110_value",
    "build_8112",
    "check_element_string",
    "check_value",
    "coupon_key",
    "effective_state",
    "expire",
    "issue",
    "make_code",
    "normalize_code",
    "qr_bytes",
    "qr_symbol",
    "read_code",
    "redeem",
    "release",
    "reserve",
    "roll_back",
    "void",
]
