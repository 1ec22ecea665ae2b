"""Beacon identities as the merchant types them, product lists, and the health colour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.setup.beacons import (
    BeaconStatus,
    check_power,
    check_products,
    health,
    identity_from_parts,
    identity_of,
    split_list,
)

UUID = "426c7565-4368-6172-6d42-6561636f6e73"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "text", "key"),
    [
        ("ibeacon", f"{UUID}/3838/4949", f"ibeacon:{UUID}/3838/4949"),
        ("ibeacon", f"{UUID.replace('-', '').upper()} 3838, 4949", f"ibeacon:{UUID}/3838/4949"),
        ("eddystone", "12345678901234678901 000000000001", "eddystone:12345678901234678901/000000000001"),
        ("altbeacon", f"{UUID}/1/2", f"altbeacon:{UUID}/1/2"),
    ],
)
def test_identities_match_what_sightings_carry(kind: str, text: str, key: str) -> None:
    assert identity_of(kind, text).key == key


@pytest.mark.parametrize(
    ("kind", "text", "field"),
    [
        ("ibeacon", UUID, "id"),
        ("ibeacon", f"{UUID}/70000/1", "major"),
        ("ibeacon", "nope/1/2", "uuid"),
        ("eddystone", "1234/0001", "namespace"),
        ("device", "aa:bb:cc:dd:ee:ff", "kind"),
    ],
)
def test_bad_identities(kind: str, text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        identity_of(kind, text)
    assert caught.value.field == field


def test_identity_from_separate_fields() -> None:
    assert identity_from_parts("ibeacon", {"uuid": UUID, "major": 1, "minor": 0}).id == f"{UUID}/1/0"
    with pytest.raises(InvalidInput) as caught:
        identity_from_parts("eddystone", {"namespace": "12345678901234678901"})
    assert caught.value.field == "instance"


def test_products_and_power() -> None:
    assert check_products([" a ", "b", "a"], field="skus", limit=5) == ["a", "b"]
    assert split_list("milk-1l, bread\n ,eggs") == ["milk-1l", "bread", "eggs"]
    with pytest.raises(InvalidInput) as caught:
        check_products(["ok", "not ok"], field="skus", limit=5)
    assert caught.value.field == "skus[1]"
    with pytest.raises(InvalidInput):
        check_products(list("abcdef"), field="categories", limit=5)
    assert check_power(-59) == -59 and check_power(None) is None
    with pytest.raises(InvalidInput):
        check_power(26)  # the nRF51822 battery byte is not a power


def status(age: timedelta, battery_mv: int | None = None, battery_pct: float | None = None) -> BeaconStatus:
    return BeaconStatus(NOW - age, -70.0, "gw", None, battery_mv, battery_pct, None, None, 1)


def test_health() -> None:
    assert health(None, NOW) == "never"
    assert health(status(timedelta(minutes=1), 2950), NOW) == "fresh"
    assert health(status(timedelta(hours=2), 2950), NOW) == "stale"
    assert health(status(timedelta(minutes=1), 2400), NOW) == "low-battery"
    assert health(status(timedelta(hours=2), None, 10), NOW) == "low-battery"
