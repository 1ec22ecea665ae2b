"""Building AI (8110) values: the published examples come out digit for digit, and every build validates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeoff.core.errors import InvalidInput
from tradeoff.offers.coupons.gs1 import bracketed, check_element_string, check_value
from tradeoff.offers.coupons.gs1_8110_build import Purchase, build_8110_value


def test_rebuilds_the_worked_examples() -> None:
    first = build_8110_value(
        gcp="0614141", offer_code=654321, save_value=500, expires=date(2010, 12, 31), save_value_code=6
    )
    assert bracketed("8110", first) == "(8110)106141416543213500110000310123196000"
    second = build_8110_value(
        gcp="0614141", offer_code="654321", save_value=250, primary=Purchase(1, 0, 120), expires=date(2014, 1, 31)
    )
    assert second == "1061414165432132501101203140131"


def test_rebuilds_the_guideline_example_with_three_purchases() -> None:
    value = build_8110_value(
        gcp="0614141",
        offer_code=123456,
        save_value=89,
        primary=Purchase(1, 0, 120),
        second=Purchase(2, 0, 850),
        rules_code=2,
        second_gcp="0048000",
        third=Purchase(4, 0, 256),
        third_gcp="0048000",
        expires=date(2010, 12, 31),
        save_value_code=1,
    )
    assert value == "106141411234562891101201212085010048000214025610048000310123191000"


def test_second_purchase_defaults_to_the_primary_gcp() -> None:
    value = build_8110_value(gcp="123456", offer_code=1, save_value=1, second=Purchase(1, 1, 1))
    fields = check_value("8110", value).fields
    assert fields["opt1_2nd_gcp_vli"] == "9" and fields["opt1_additional_rules_code"] == "1"


@given(
    gcp=st.from_regex(r"[0-9]{6,12}", fullmatch=True),
    offer=st.integers(0, 999_999),
    save=st.integers(0, 99_999),
    requirement=st.integers(0, 99_999),
    code=st.sampled_from([0, 1, 2, 3, 4, 9]),
    family=st.integers(0, 999),
    expires=st.none() | st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    serial=st.none() | st.integers(0, 10**15 - 1),
    dont_multiply=st.booleans(),
)
def test_every_build_validates_and_round_trips(
    gcp: str,
    offer: int,
    save: int,
    requirement: int,
    code: int,
    family: int,
    expires: date | None,
    serial: int | None,
    dont_multiply: bool,
) -> None:
    value = build_8110_value(
        gcp=gcp,
        offer_code=offer,
        save_value=save,
        primary=Purchase(requirement, code, family),
        expires=expires,
        serial=serial,
        dont_multiply=dont_multiply,
    )
    result = check_element_string(bracketed("8110", value))
    assert result.valid, result.reason
    fields = result.fields
    assert fields["gcp"] == gcp and int(fields["offer_code"]) == offer and int(fields["save_value"]) == save
    assert int(fields["primary_purchase_requirement"]) == requirement and fields["ppr_code"] == str(code)
    assert int(fields["primary_purchase_family_code"]) == family
    assert fields.get("opt3_expiration_date") == (expires.isoformat() if expires else None)
    assert (int(fields["opt5_serial_number"]) if "opt5_serial_number" in fields else None) == serial
    assert fields.get("opt9_dont_multiply_flag") == ("1" if dont_multiply else None)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gcp": "12345"}, "gcp"),
        ({"offer_code": 1_000_000}, "offer_code"),
        ({"save_value": 100_000}, "save_value"),
        ({"primary": Purchase(1, 5, 0)}, "primary.code"),
        ({"primary": Purchase(1, 0, 1000)}, "primary.family_code"),
        ({"second": Purchase(), "rules_code": 4}, "rules_code"),
        ({"expires": date(2101, 1, 1)}, "expires"),
        ({"expires": date(2026, 1, 1), "starts": date(2026, 2, 1)}, "starts"),
        ({"retailer": "123456"}, "retailer"),
        ({"save_value_code": 3}, "save_value_code"),
        ({"applies_to_item": 3}, "applies_to_item"),
        (
            {
                "gcp": "123456789012",
                "second": Purchase(99999, 0, 0),
                "second_gcp": "123456789012",
                "third": Purchase(99999, 0, 0),
                "third_gcp": "123456789012",
                "serial": 10**14,
            },
            "value",
        ),
    ],
)
def test_refuses_what_cannot_be_encoded(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"gcp": "123456", "offer_code": 1, "save_value": 1, **kwargs}
    with pytest.raises(InvalidInput) as excinfo:
        build_8110_value(**args)  # type: ignore[arg-type]
    assert excinfo.value.field == field
