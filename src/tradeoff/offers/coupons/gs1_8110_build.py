"""Build AI (8110) values for merchants that own a GS1 Company Prefix (DataBar coupons).

Most of our coupons are 8112 (serialized, rules in the positive offer file). A merchant with its own
GCP that wants a coupon any DataBar-capable POS can apply offline gets an 8110 value instead: the
rules (save value, purchase requirements, dates) travel in the barcode. Field order and ranges are
those ``gs1_8110.decode_8110`` checks; every built value is run through it before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tradeoff.core.errors import InvalidInput
from tradeoff.offers.coupons.gs1_8110 import decode_8110
from tradeoff.offers.coupons.gs1_scan import MAX_VALUE_LENGTH, LintFailure, digit_field


@dataclass(frozen=True, slots=True)
class Purchase:
    """A purchase requirement: a quantity or amount (1–5 digits), its code (0–4, 9), a family code."""

    requirement: int | str = 1
    code: int = 0
    family_code: int | str = 0


def _choice(field: str, value: int, allowed: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or str(value) not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _purchase(field: str, purchase: Purchase) -> str:
    requirement = digit_field(f"{field}.requirement", purchase.requirement, minimum=1, maximum=5)
    code = _choice(f"{field}.code", purchase.code, "012349")
    family = digit_field(f"{field}.family_code", purchase.family_code, minimum=3, maximum=3)
    return f"{len(requirement)}{requirement}{code}{family}"


def _gcp(field: str, value: str | None, *, optional: bool) -> str:
    if value is None and optional:
        return "9"  # the guideline's "same company prefix as the primary purchase"
    text = digit_field(field, value if value is not None else "", minimum=6, maximum=12)
    return f"{len(text) - 6}{text}"


def _yymmdd(field: str, value: date) -> str:
    if not isinstance(value, date) or not 2000 <= value.year <= 2099:
        raise InvalidInput(field, "must be a date in 2000–2099 (coupons carry YYMMDD)")
    return value.strftime("%y%m%d")


def build_8110_value(
    *,
    gcp: str,
    offer_code: str | int,
    save_value: str | int,
    primary: Purchase | None = None,
    second: Purchase | None = None,
    rules_code: int = 1,
    second_gcp: str | None = None,
    third: Purchase | None = None,
    third_gcp: str | None = None,
    expires: date | None = None,
    starts: date | None = None,
    serial: str | int | None = None,
    retailer: str | None = None,
    save_value_code: int | None = None,
    applies_to_item: int = 0,
    store_coupon: bool = False,
    dont_multiply: bool = False,
) -> str:
    """The AI (8110) value (without ``(8110)``); ``primary`` defaults to "buy 1 of family 000".

    ``second``/``third`` add purchase requirements (their GCP defaults to the primary one);
    ``rules_code`` (0–3) is the guideline's additional purchase rules code; ``serial`` 6–15 digits;
    ``retailer`` a GCP or GLN of 7–13 digits. Field 9 is written when any misc value is given.
    """
    parts = [_gcp("gcp", gcp, optional=False)]
    parts.append(digit_field("offer_code", offer_code, minimum=6, maximum=6))
    save = digit_field("save_value", save_value, minimum=1, maximum=5)
    parts.append(f"{len(save)}{save}{_purchase('primary', primary or Purchase())}")
    if second is not None:
        rules = _choice("rules_code", rules_code, "0123")
        parts.append(f"1{rules}{_purchase('second', second)}{_gcp('second_gcp', second_gcp, optional=True)}")
    if third is not None:
        parts.append(f"2{_purchase('third', third)}{_gcp('third_gcp', third_gcp, optional=True)}")
    if expires is not None:
        parts.append(f"3{_yymmdd('expires', expires)}")
    if starts is not None:
        if expires is not None and starts > expires:
            raise InvalidInput("starts", f"must not be after the expiration date {expires.isoformat()}")
        parts.append(f"4{_yymmdd('starts', starts)}")
    if serial is not None:
        serial_text = digit_field("serial", serial, minimum=6, maximum=15)
        parts.append(f"5{len(serial_text) - 6}{serial_text}")
    if retailer is not None:
        retailer_text = digit_field("retailer", retailer, minimum=7, maximum=13)
        parts.append(f"6{len(retailer_text) - 6}{retailer_text}")
    if save_value_code is not None or applies_to_item or store_coupon or dont_multiply:
        code = _choice("save_value_code", save_value_code or 0, "01256")
        item = _choice("applies_to_item", applies_to_item, "012")
        parts.append(f"9{code}{item}{int(store_coupon)}{int(dont_multiply)}")
    value = "".join(parts)
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidInput("value", f"AI (8110) holds {MAX_VALUE_LENGTH} digits; these fields need {len(value)}")
    try:
        decode_8110(value)
    except LintFailure as failure:  # pragma: no cover - the builder and the validator disagree: a bug
        raise AssertionError(f"built an invalid 8110 value {value}: {failure}") from failure
    return value
