"""AI (8112): the paperless (positive offer file) coupon — validate, decode and build our own.

An 8112 value names one serialized coupon; the offer's rules live in the positive offer file the POS or
clearing house looks up, not in the barcode — which is why it suits our server-validated, single-use
coupons. Rules and their order follow gs1/gs1-syntax-dictionary ``src/lint_couponposoffer.c``:

format code 0–1 | funder VLI 0–6 + funder id (VLI+6 digits) | offer code (6) |
serial VLI 0–9 + serial number (VLI+6 digits) | nothing after.
"""

from __future__ import annotations

from tradeoff.core.errors import InvalidInput
from tradeoff.offers.coupons.gs1_scan import Cursor, LintFailure, digit_field, require_digits

_E = "GS1_LINTER_COUPON_"


def decode_8112(value: str) -> dict[str, str]:
    """The fields of a valid AI (8112) value, in order; raises ``LintFailure`` at the first broken rule."""
    require_digits(value)
    cur = Cursor(value)
    fields: dict[str, str] = {}
    fields["format_code"] = cur.digit(
        missing=f"{_E}MISSING_FORMAT_CODE", invalid=f"{_E}INVALID_FORMAT_CODE", allowed="01", what="format code"
    )
    vli = cur.digit(
        missing=f"{_E}MISSING_FUNDER_VLI",
        invalid=f"{_E}INVALID_FUNDER_LENGTH",
        allowed="0123456",
        what="funder id length indicator",
    )
    fields["funder_vli"] = vli
    fields["funder_id"] = cur.take(int(vli) + 6, truncated=f"{_E}TRUNCATED_FUNDER", what="funder id")
    fields["offer_code"] = cur.take(6, truncated=f"{_E}TRUNCATED_OFFER_CODE", what="offer code")
    vli = cur.digit(missing=f"{_E}MISSING_SERIAL_NUMBER_VLI", what="serial number length indicator")
    fields["serial_vli"] = vli
    fields["serial_number"] = cur.take(int(vli) + 6, truncated=f"{_E}TRUNCATED_SERIAL_NUMBER", what="serial number")
    if cur.remaining:
        raise LintFailure(f"{_E}EXCESS_DATA", cur.pos, f"{cur.remaining} digit(s) after the serial number")
    return fields


def build_8112_value(*, funder_id: str | int, offer_code: str | int, serial: str | int, format_code: int = 0) -> str:
    """The AI (8112) value for one of our serialized coupons (without the ``(8112)`` prefix).

    ``funder_id`` is the merchant's number (its GS1 company prefix when it has one): 6–12 digits;
    ``offer_code`` the campaign number (0–999999, 6 digits); ``serial`` the coupon serial (6–15 digits,
    an int is zero-padded to 6). The result passes ``decode_8112``.
    """
    if format_code not in (0, 1):
        raise InvalidInput("format_code", f"must be 0 or 1, got {format_code!r}")
    funder = digit_field("funder_id", funder_id, minimum=6, maximum=12)
    offer = digit_field("offer_code", offer_code, minimum=6, maximum=6)
    serial_text = digit_field("serial", serial, minimum=6, maximum=15)
    value = f"{format_code}{len(funder) - 6}{funder}{offer}{len(serial_text) - 6}{serial_text}"
    decode_8112(value)  # our builder must never emit what our validator rejects
    return value
