"""Fleet field checks: each failure names the field and says why."""

from typing import Any

import pytest

from tradeoff.core.errors import InvalidInput
from tradeoff.vending import validate


def test_opening_hours_are_cleaned_and_sorted() -> None:
    hours = {"tue": [("13:00", "24:00"), ["07:00", "12:00"]]}
    assert validate.opening_hours(hours) == {"tue": [["07:00", "12:00"], ["13:00", "24:00"]]}
    assert validate.opening_hours({}) == {}


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"monday": []}, "opening_hours"),
        ({"mon": "07:00-19:00"}, "opening_hours.mon"),
        ({"mon": [["7am", "19:00"]]}, "opening_hours.mon"),
        ({"mon": [["19:00", "07:00"]]}, "opening_hours.mon"),
        ({"mon": [["07:00"]]}, "opening_hours.mon"),
        ({"mon": [["24:30", "25:00"]]}, "opening_hours.mon"),
    ],
)
def test_bad_opening_hours(hours: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate.opening_hours(hours)
    assert caught.value.field == field


def test_other_checks() -> None:
    assert validate.name("name", "  Lobby ") == "Lobby"
    assert validate.selection("A1") == "A1"
    assert validate.minutes_of("24:00") == 1440
    for call, field in (
        (lambda: validate.name("name", "  "), "name"),
        (lambda: validate.coordinates(0, 181), "lon"),
        (lambda: validate.timezone("Nowhere/Land"), "timezone"),
        (lambda: validate.selection("12 b"), "selection"),
        (lambda: validate.positive("case_size", 0), "case_size"),
        (lambda: validate.positive("capacity_units", None), "capacity_units"),
    ):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert caught.value.field == field
    validate.positive("capacity_units", None, allow_none=True)
    validate.positive("service_minutes", 0, allow_zero=True)
