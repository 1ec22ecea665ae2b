"""Campaign validation: every bad setting is refused with the field that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from tests.unit.offers.factories import T0, spec
from tradeoff.core.errors import InvalidInput
from tradeoff.offers.campaigns import QuietHours, parse_spec


def body(**overrides: Any) -> dict[str, Any]:
    return {**spec().model_dump(mode="json"), **overrides}


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"ends_at": (T0 - timedelta(days=2)).isoformat()}, "campaign", "ends_at must be after starts_at"),
        ({"ends_at": (T0 + timedelta(days=400)).isoformat()}, "campaign", "at most 366 days"),
        ({"starts_at": "2026-11-30T08:00:00"}, "starts_at", "timezone"),
        ({"holdout": 0.6}, "holdout", "0.5"),
        ({"holdout": -0.1}, "holdout", "0"),
        ({"audience": {"min_tier": 1}}, "audience.min_tier", "personalization consent"),
        ({"audience": {"min_tier": 4}}, "audience.min_tier", "2 or 3"),
        ({"caps": {"per_day": 3, "per_week": 2}}, "caps", "per_day (3) cannot exceed per_week (2)"),
        ({"caps": {"per_day": 0}}, "caps.per_day", "greater than or equal to 1"),
        ({"budget": {"max_issued": 10, "max_redemptions": 20}}, "budget", "cannot exceed max_issued"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"quiet_hours": [{"start": "22:00", "end": "22:00"}]}, "quiet_hours.0", "equal"),
        ({"quiet_hours": [{"start": "25:00", "end": "07:00"}]}, "quiet_hours.0.start", "HH:MM"),
        ({"trigger": {"kind": "enter_zone"}}, "trigger", "needs a zone"),
        ({"trigger": {"kind": "dwell", "zone": "dairy"}}, "trigger", "dwell_s is required"),
        ({"trigger": {"kind": "enter_store", "zone": "dairy"}}, "trigger", "takes no zone"),
        ({"trigger": {"kind": "near_beacon"}}, "trigger", "beacon is required"),
        ({"offer": {"kind": "amount", "amount_off_minor": 200, "title": "2 off"}}, "offer", "currency"),
        ({"offer": {"kind": "percent", "title": "x"}}, "offer", "percent_off"),
        ({"offer": {"kind": "percent", "percent_off": 101, "title": "x"}}, "offer.percent_off", "100"),
        ({"offer": {"kind": "percent", "percent_off": 5, "title": "x", "scope": "products"}}, "offer", "products"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_bad_settings_name_the_field(overrides: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_spec(body(**overrides))
    assert caught.value.field == field
    assert words in caught.value.reason


def test_a_good_campaign_round_trips_through_json() -> None:
    good = spec(
        trigger={"kind": "dwell", "zone": "wine", "dwell_s": 120},
        offer={"kind": "amount", "amount_off_minor": 300, "currency": "EUR", "title": "3 € off wine",
               "scope": "categories", "categories": ["wine"], "min_basket_minor": 2000},
        audience={"min_tier": 3, "segments": ["wine-lovers"]},
        budget={"max_issued": 500, "max_redemptions": 200},
        caps={"per_day": 1, "per_week": 2, "per_campaign": 3},
        quiet_hours=[{"start": "21:00", "end": "08:00"}],
        holdout=0.5,
        timezone="Europe/Paris",
    )  # fmt: skip
    assert parse_spec(good.model_dump(mode="json")) == good


def test_quiet_hours_may_span_midnight() -> None:
    night = QuietHours(start="21:30", end="07:00")
    assert night.contains(time(23, 0)) and night.contains(time(0, 0)) and night.contains(time(6, 59))
    assert not night.contains(time(7, 0)) and not night.contains(time(21, 29))
    lunch = QuietHours(start="12:00", end="13:00")
    assert lunch.contains(time(12, 30)) and not lunch.contains(time(13, 0))


def test_quiet_hours_are_local_to_the_campaign() -> None:
    paris = spec(timezone="Europe/Paris", quiet_hours=[{"start": "21:00", "end": "08:00"}])
    assert paris.quiet_at(datetime(2026, 11, 30, 6, 30, tzinfo=UTC))  # 07:30 in Paris
    assert not paris.quiet_at(datetime(2026, 11, 30, 7, 30, tzinfo=UTC))  # 08:30 in Paris


def test_live_only_when_active_and_inside_the_window() -> None:
    assert spec().live_at(T0)
    assert not spec(status="paused").live_at(T0)
    assert not spec().live_at(T0 + timedelta(days=31))
    assert not spec().live_at(T0 - timedelta(days=2))
