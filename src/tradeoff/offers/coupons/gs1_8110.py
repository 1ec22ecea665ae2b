"""AI (8110): the North American Coupon Code carried in GS1 DataBar Expanded — validate and decode.

The rules and their order follow gs1/gs1-syntax-dictionary ``src/lint_couponcode.c`` (itself the JICC
"North American Coupon Application Guideline Using GS1 DataBar Expanded Symbols"), so a failure names
the same ``GS1_LINTER_…`` error the reference linter reports. Layout (VLI = 1-digit length indicator):

required: GCP VLI 0–6 + company prefix (VLI+6 digits) | offer code (6) | save value VLI 1–5 + value |
primary purchase requirement VLI 1–5 + value | purchase requirement code (0–4, 9) | family code (3)
optional, in this order, each after its indicator digit:
``1`` additional rules code 0–3, 2nd purchase requirement VLI/value/code/family, 2nd GCP VLI 0–6 or 9
(9 = no prefix: the primary one applies) | ``2`` the same for a 3rd purchase (no rules code) |
``3`` expiration YYMMDD | ``4`` start YYMMDD (not after the expiration) | ``5`` serial VLI 0–9 + serial
(VLI+6 digits) | ``6`` retailer GCP/GLN VLI 1–7 + value (VLI+6 digits) | ``9`` save value code
(0–2, 5, 6), applies-to-item (0–2), store coupon flag (any digit), don't-multiply flag (0–1).
"""

from __future__ import annotations

from tradeoff.offers.coupons.gs1_scan import (
    Cursor,
    GcpLookup,
    LintFailure,
    check_gcp,
    require_digits,
    yymmdd,
)

_E = "GS1_LINTER_COUPON_"
_REQUIREMENT_CODES = "012349"


def _purchase(cur: Cursor, fields: dict[str, str], *, nth: str, keys: tuple[str, str, str, str]) -> None:
    """A purchase requirement (VLI + value), its code and its family code: the 1st, 2nd or 3rd one."""
    vli_key, value_key, code_key, family_key = keys
    what = f"{nth.lower()} purchase requirement"
    vli = cur.digit(
        missing=f"{_E}MISSING_{nth}_PURCHASE_REQUIREMENT_VLI",
        invalid=f"{_E}INVALID_{nth}_PURCHASE_REQUIREMENT_LENGTH",
        allowed="12345",
        what=f"{what} length indicator",
    )
    fields[vli_key] = vli
    fields[value_key] = cur.take(int(vli), truncated=f"{_E}TRUNCATED_{nth}_PURCHASE_REQUIREMENT", what=what)
    fields[code_key] = cur.digit(
        missing=f"{_E}MISSING_{nth}_PURCHASE_REQUIREMENT_CODE",
        invalid=f"{_E}INVALID_{nth}_PURCHASE_REQUIREMENT_CODE",
        allowed=_REQUIREMENT_CODES,
        what=f"{what} code",
    )
    fields[family_key] = cur.take(3, truncated=f"{_E}TRUNCATED_{nth}_PURCHASE_FAMILY_CODE", what=f"{what} family code")


def _extra_gcp(cur: Cursor, fields: dict[str, str], *, nth: str, prefix: str, lookup: GcpLookup | None) -> None:
    """The company prefix of a 2nd/3rd purchase: VLI 0–6 (VLI+6 digits) or 9 for "same as primary"."""
    vli = cur.digit(
        missing=f"{_E}MISSING_{nth}_PURCHASE_GCP_VLI",
        invalid=f"{_E}INVALID_{nth}_PURCHASE_GCP_LENGTH",
        allowed="01234569",
        what=f"{nth.lower()} purchase company prefix length indicator",
    )
    fields[f"{prefix}_gcp_vli"] = vli
    if vli == "9":
        return
    start = cur.pos
    gcp = cur.take(
        int(vli) + 6, truncated=f"{_E}TRUNCATED_{nth}_PURCHASE_GCP", what=f"{nth.lower()} purchase company prefix"
    )
    check_gcp(gcp, start, lookup)
    fields[f"{prefix}_gcp"] = gcp


def _date(cur: Cursor, fields: dict[str, str], *, key: str, too_short: str, invalid: str, what: str) -> str:
    """A YYMMDD field that must be a real date; stored both as printed and in ISO form."""
    start = cur.pos
    text = cur.take(6, truncated=too_short, what=what)
    parsed = yymmdd(text)
    if parsed is None:
        raise LintFailure(invalid, start, f"the {what} {text} is not a real YYMMDD date")
    fields[f"{key}_yymmdd"] = text
    fields[f"{key}_date"] = parsed.isoformat()
    return text


def _optional_fields(cur: Cursor, fields: dict[str, str], lookup: GcpLookup | None) -> None:
    if cur.next_is("1"):
        cur.skip()
        fields["opt1_additional_rules_code"] = cur.digit(
            missing=f"{_E}MISSING_ADDITIONAL_PURCHASE_RULES_CODE",
            invalid=f"{_E}INVALID_ADDITIONAL_PURCHASE_RULES_CODE",
            allowed="0123",
            what="additional purchase rules code",
        )
        keys = ("opt1_2nd_ppr_vli", "opt1_2nd_purchase_requirement", "opt1_2nd_ppr_code", "opt1_2nd_family_code")
        _purchase(cur, fields, nth="2ND", keys=keys)
        _extra_gcp(cur, fields, nth="2ND", prefix="opt1_2nd", lookup=lookup)
    if cur.next_is("2"):
        cur.skip()
        keys = ("opt2_3rd_ppr_vli", "opt2_3rd_purchase_requirement", "opt2_3rd_ppr_code", "opt2_3rd_family_code")
        _purchase(cur, fields, nth="3RD", keys=keys)
        _extra_gcp(cur, fields, nth="3RD", prefix="opt2_3rd", lookup=lookup)
    expiry = None
    if cur.next_is("3"):
        cur.skip()
        expiry = _date(
            cur,
            fields,
            key="opt3_expiration",
            too_short=f"{_E}TOO_SHORT_FOR_EXPIRATION_DATE",
            invalid=f"{_E}INVALID_EXIPIRATION_DATE",  # sic: the linter's spelling
            what="expiration date",
        )
    if cur.next_is("4"):
        cur.skip()
        start_pos = cur.pos
        start = _date(
            cur,
            fields,
            key="opt4_start",
            too_short=f"{_E}TOO_SHORT_FOR_START_DATE",
            invalid=f"{_E}INVALID_START_DATE",
            what="start date",
        )
        if expiry is not None and start > expiry:
            raise LintFailure(
                f"{_E}EXPIRATION_BEFORE_START", start_pos - 8, f"expires {expiry}, before it starts {start}"
            )
    if cur.next_is("5"):
        cur.skip()
        vli = cur.digit(missing=f"{_E}MISSING_SERIAL_NUMBER_VLI", what="serial number length indicator")
        fields["opt5_serial_vli"] = vli
        fields["opt5_serial_number"] = cur.take(
            int(vli) + 6, truncated=f"{_E}TRUNCATED_SERIAL_NUMBER", what="serial number"
        )
    if cur.next_is("6"):
        cur.skip()
        vli = cur.digit(
            missing=f"{_E}MISSING_RETAILER_GCP_OR_GLN_VLI",
            invalid=f"{_E}INVALID_RETAILER_GCP_OR_GLN_LENGTH",
            allowed="1234567",
            what="retailer GCP/GLN length indicator",
        )
        fields["opt6_retailer_vli"] = vli
        start_pos = cur.pos
        retailer = cur.take(int(vli) + 6, truncated=f"{_E}TRUNCATED_RETAILER_GCP_OR_GLN", what="retailer GCP/GLN")
        check_gcp(retailer, start_pos, lookup)
        fields["opt6_retailer_gcp_or_gln"] = retailer
    if cur.next_is("9"):
        cur.skip()
        fields["opt9_save_value_code"] = cur.digit(
            missing=f"{_E}MISSING_SAVE_VALUE_CODE",
            invalid=f"{_E}INVALID_SAVE_VALUE_CODE",
            allowed="01256",
            what="save value code",
        )
        fields["opt9_applies_to_item"] = cur.digit(
            missing=f"{_E}MISSING_SAVE_VALUE_APPLIES_TO_ITEM",
            invalid=f"{_E}INVALID_SAVE_VALUE_APPLIES_TO_ITEM",
            allowed="012",
            what="save value applies-to-item",
        )
        fields["opt9_store_coupon_flag"] = cur.digit(missing=f"{_E}MISSING_STORE_COUPON_FLAG", what="store coupon flag")
        fields["opt9_dont_multiply_flag"] = cur.digit(
            missing=f"{_E}MISSING_DONT_MULTIPLY_FLAG",
            invalid=f"{_E}INVALID_DONT_MULTIPLY_FLAG",
            allowed="01",
            what="don't-multiply flag",
        )


def decode_8110(value: str, *, gcp_lookup: GcpLookup | None = None) -> dict[str, str]:
    """The fields of a valid AI (8110) value, in order; raises ``LintFailure`` at the first broken rule."""
    require_digits(value)
    cur = Cursor(value)
    fields: dict[str, str] = {}
    vli = cur.digit(
        missing=f"{_E}MISSING_GCP_VLI",
        invalid=f"{_E}INVALID_GCP_LENGTH",
        allowed="0123456",
        what="company prefix length indicator",
    )
    fields["gcp_vli"] = vli
    start = cur.pos
    gcp = cur.take(int(vli) + 6, truncated=f"{_E}TRUNCATED_GCP", what="company prefix")
    check_gcp(gcp, start, gcp_lookup)
    fields["gcp"] = gcp
    fields["offer_code"] = cur.take(6, truncated=f"{_E}TRUNCATED_OFFER_CODE", what="offer code")
    vli = cur.digit(
        missing=f"{_E}MISSING_SAVE_VALUE_VLI",
        invalid=f"{_E}INVALID_SAVE_VALUE_LENGTH",
        allowed="12345",
        what="save value length indicator",
    )
    fields["save_value_vli"] = vli
    fields["save_value"] = cur.take(int(vli), truncated=f"{_E}TRUNCATED_SAVE_VALUE", what="save value")
    keys = ("ppr_vli", "primary_purchase_requirement", "ppr_code", "primary_purchase_family_code")
    _purchase(cur, fields, nth="1ST", keys=keys)
    _optional_fields(cur, fields, gcp_lookup)
    if cur.remaining:
        raise LintFailure(f"{_E}EXCESS_DATA", cur.pos, f"{cur.remaining} digit(s) after the last field")
    return fields
