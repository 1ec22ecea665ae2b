"""Element-string forms, field decoding beyond the vectors, and our own (8112) builder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeoff.core.errors import InvalidInput
from tradeoff.offers.coupons.gs1 import build_8112, check_element_string, check_value
from tradeoff.offers.coupons.gs1_8112 import build_8112_value
from tradeoff.offers.coupons.gs1_scan import GcpStatus

VALID_8112 = "061234567890121234569123456789012345"


@pytest.mark.parametrize(
    "text",
    [
        f"(8112){VALID_8112}",
        f"  (8112){VALID_8112}\n",
        f"8112{VALID_8112}",  # as a scanner sends it
        f"]e08112{VALID_8112}",  # after a symbology identifier
        f"]Q3(8112){VALID_8112}",
    ],
)
def test_accepted_spellings(text: str) -> None:
    result = check_element_string(text)
    assert result.valid and result.ai == "8112" and result.value == VALID_8112


def test_bare_value_with_named_ai() -> None:
    assert check_element_string(VALID_8112, ai="8112").valid
    assert check_element_string(f"(8112){VALID_8112}", ai="8112").valid


def test_8112_fields() -> None:
    fields = check_element_string(f"(8112){VALID_8112}").fields
    assert fields == {
        "format_code": "0",
        "funder_vli": "6",
        "funder_id": "123456789012",
        "offer_code": "123456",
        "serial_vli": "9",
        "serial_number": "123456789012345",
    }


@pytest.mark.parametrize(
    ("text", "ai", "error"),
    [
        (VALID_8112, None, "ELEMENT_STRING_SYNTAX"),  # bare value, AI unknown
        (f"(8110){VALID_8112}", "8112", "ELEMENT_STRING_SYNTAX"),  # AI named twice, differently
        (f"(8112){VALID_8112}(8112){VALID_8112}", None, "ELEMENT_STRING_SYNTAX"),
        (f"8112{VALID_8112}\x1d8112{VALID_8112}", None, "ELEMENT_STRING_SYNTAX"),
        (f"(01){VALID_8112}", None, "UNSUPPORTED_AI"),
        ("(8110)" + "1" * 71, None, "VALUE_TOO_LONG"),
        ("", None, "ELEMENT_STRING_SYNTAX"),
    ],
)
def test_rejected_spellings_say_why(text: str, ai: str | None, error: str) -> None:
    result = check_element_string(text, ai=ai)
    assert not result.valid and result.error == error and result.reason and result.reason.startswith(error)
    assert result.to_json()["valid"] is False and result.to_json()["reason"] == result.reason


def test_json_shape() -> None:
    valid = check_element_string(f"(8112){VALID_8112}").to_json()
    assert valid["valid"] is True and valid["reason"] is None and valid["fields"]["serial_vli"] == "9"
    invalid = check_element_string("(8112)0012345612345601234567").to_json()
    assert invalid == {
        "valid": False,
        "reason": invalid["reason"],
        "ai": "8112",
        "value": "0012345612345601234567",
        "error": "GS1_LINTER_COUPON_EXCESS_DATA",
        "position": 21,
    }


def test_8110_all_optional_fields_decode() -> None:
    # Guideline example from lint_couponcode.c: 2nd and 3rd purchase, expiry, misc.
    value = "106141411234562891101201212085010048000214025610048000310123191000"
    fields = check_value("8110", value).fields
    assert fields["gcp"] == "0614141" and fields["offer_code"] == "123456"
    assert fields["save_value"] == "89" and fields["primary_purchase_requirement"] == "1"
    assert fields["opt1_additional_rules_code"] == "2"
    assert fields["primary_purchase_family_code"] == "120"
    assert fields["opt1_2nd_purchase_requirement"] == "2" and fields["opt1_2nd_family_code"] == "850"
    assert fields["opt1_2nd_gcp"] == "0048000"
    assert fields["opt2_3rd_purchase_requirement"] == "4" and fields["opt2_3rd_family_code"] == "256"
    assert fields["opt2_3rd_gcp"] == "0048000"
    assert fields["opt3_expiration_date"] == "2010-12-31"
    assert fields["opt9_save_value_code"] == "1" and fields["opt9_dont_multiply_flag"] == "0"


def test_8110_start_serial_and_retailer_decode() -> None:
    value = "0123456123456111101233500606" + "4450606" + "50123456" + "611234567"
    fields = check_value("8110", value).fields
    assert fields["opt3_expiration_date"] == "2050-06-06" and fields["opt4_start_date"] == "2045-06-06"
    assert fields["opt5_serial_number"] == "123456" and fields["opt5_serial_vli"] == "0"
    assert fields["opt6_retailer_gcp_or_gln"] == "1234567"


def test_second_gcp_nine_means_same_as_primary() -> None:
    fields = check_value("8110", "012345612345611110123101101239").fields
    assert fields["opt1_2nd_gcp_vli"] == "9" and "opt1_2nd_gcp" not in fields


def test_gcp_lookup_is_asked_about_every_prefix() -> None:
    asked: list[str] = []

    def lookup(gcp: str) -> GcpStatus:
        asked.append(gcp)
        return GcpStatus.VALID

    value = "0123456123456111101231011012311234567" + "2110123" + "0654321" + "611234567"
    assert check_value("8110", value, gcp_lookup=lookup).valid
    assert asked == ["123456", "1234567", "654321", "1234567"]


def test_build_8112_for_our_coupon() -> None:
    assert build_8112(funder_id="4012345", offer_code=42, serial=1001) == "(8112)0140123450000420001001"
    result = check_element_string(build_8112(funder_id=123456789012, offer_code="999999", serial=10**14, format_code=1))
    assert result.valid and result.fields["funder_vli"] == "6" and result.fields["serial_vli"] == "9"


@given(
    funder=st.from_regex(r"[0-9]{6,12}", fullmatch=True),
    offer=st.integers(0, 999_999),
    serial=st.integers(0, 10**15 - 1),
    format_code=st.sampled_from([0, 1]),
)
def test_built_strings_pass_our_validator_and_round_trip(
    funder: str, offer: int, serial: int, format_code: int
) -> None:
    result = check_element_string(
        build_8112(funder_id=funder, offer_code=offer, serial=serial, format_code=format_code)
    )
    assert result.valid
    assert result.fields["funder_id"] == funder
    assert int(result.fields["offer_code"]) == offer
    assert int(result.fields["serial_number"]) == serial
    assert result.fields["format_code"] == str(format_code)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"funder_id": "12345"}, "funder_id"),
        ({"funder_id": "1234567890123"}, "funder_id"),
        ({"funder_id": "12345a"}, "funder_id"),
        ({"offer_code": 1_000_000}, "offer_code"),
        ({"offer_code": -1}, "offer_code"),
        ({"serial": 10**15}, "serial"),
        ({"serial": "12345"}, "serial"),
        ({"format_code": 2}, "format_code"),
        ({"serial": True}, "serial"),
    ],
)
def test_builder_rejects_what_cannot_be_encoded(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"funder_id": "123456", "offer_code": 1, "serial": 1, **kwargs}
    with pytest.raises(InvalidInput) as excinfo:
        build_8112_value(**args)  # type: ignore[arg-type]
    assert excinfo.value.field == field


@given(text=st.text(max_size=80))
def test_any_text_gets_a_verdict_not_an_exception(text: str) -> None:
    result = check_element_string(text)
    assert result.valid or (result.error and result.reason and result.reason.startswith(result.error))


@given(ai=st.sampled_from(["8110", "8112"]), value=st.from_regex(r"[0-9]{0,70}", fullmatch=True))
def test_digit_values_fail_only_with_linter_errors(ai: str, value: str) -> None:
    result = check_value(ai, value)
    assert result.valid or (result.error or "").startswith("GS1_LINTER_COUPON_")
    if result.valid:
        assert len(result.fields) >= 6
