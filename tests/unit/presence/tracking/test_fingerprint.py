"""The calibrated fingerprint model as a live zone estimator: scores are probabilities per zone, the
surveyed zone wins, silence and strangers score nothing, and path-loss keeps the receivers no model covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tradeoff.presence.gateways.sighting import Sighting, ibeacon
from tradeoff.presence.model import calibration
from tradeoff.presence.model.calibration import StoreModel
from tradeoff.presence.tracking import (
    CombinedZones,
    FingerprintZones,
    LiveTracker,
    PathLossZones,
    Receiver,
    ZoneEntered,
    best_zone,
)
from tradeoff.presence.tracking.fingerprint import class_zones

BEACONS = ("b1", "b2", "b3")
BEACON_XY = np.array([[2.0, 5.0], [10.0, 5.0], [18.0, 5.0]])  # metres, a 20 × 10 m store
HEARING_FLOOR = -90.0


def rssi_at(xy: np.ndarray, rng: np.random.Generator, noise_db: float = 2.0) -> np.ndarray:
    metres = np.maximum(np.linalg.norm(BEACON_XY - xy, axis=1), 0.5)
    levels = np.round(-59 - 25 * np.log10(metres) + rng.normal(0, noise_db, len(BEACON_XY)))
    return np.where(levels < HEARING_FLOOR, -200.0, levels)  # not heard


def zone_of(x: float) -> str:
    return "dairy" if x < 10 else "bakery"


def survey(*, grid: bool, seed: int = 0, scans: int = 4) -> StoreModel:
    """A walk-through every 2 m; labels are zones, or grid cells ("A01"…) with ``grid``."""
    rng = np.random.default_rng(seed)
    matrix, labels = [], []
    for column, x in enumerate(np.arange(1.0, 20.0, 2.0)):
        for row, y in enumerate(np.arange(1.0, 10.0, 2.0), start=1):
            for _ in range(scans):
                matrix.append(rssi_at(np.array([x, y]), rng))
                labels.append(f"{chr(ord('A') + column)}{row:02d}" if grid else zone_of(x))
    return calibration.calibrate(np.array(matrix), np.array(labels), BEACONS)


def reading(xy: tuple[float, float], seed: int, keys: tuple[str, ...] = BEACONS) -> dict[str, float]:
    levels = rssi_at(np.array(xy), np.random.default_rng(seed), noise_db=1.0)
    return {key: float(level) for key, level in zip(keys, levels, strict=True) if level > -150}


@pytest.fixture(scope="module")
def zones_model() -> StoreModel:
    return survey(grid=False)


@pytest.fixture(scope="module")
def grid_model() -> StoreModel:
    return survey(grid=True, seed=1)


def test_scores_are_probabilities_and_the_surveyed_zone_wins(zones_model: StoreModel) -> None:
    estimator = FingerprintZones(zones_model)
    assert estimator.zone_names == ("bakery", "dairy")
    right = 0
    spots = [(x, y) for x in (2.5, 4.0, 6.5, 13.5, 16.0, 17.5) for y in (2.0, 5.0, 8.0)]
    for n, (x, y) in enumerate(spots):
        scores = estimator.scores(reading((x, y), seed=n))
        assert set(scores) == {"dairy", "bakery"}
        assert all(0.0 <= score <= 1.0 for score in scores.values())
        assert sum(scores.values()) == pytest.approx(1.0)
        right += best_zone(scores)[0] == zone_of(x)
    assert right >= len(spots) - 1
    deep = estimator.scores(reading((3.0, 5.0), seed=99))
    assert deep["dairy"] > 0.9, "well inside a zone the posterior is confident"


def test_grid_cells_become_blocks_or_the_zones_they_are_mapped_to(grid_model: StoreModel) -> None:
    blocks = class_zones(grid_model)
    assert blocks["A01"] == blocks["C03"] == "Z-A01" and blocks["D01"] == "Z-D01"
    plan = {label: zone_of(2.0 * (ord(label[0]) - ord("A")) + 1) for label in blocks}
    estimator = FingerprintZones(grid_model, zones=plan)
    scores = estimator.scores(reading((3.0, 5.0), seed=3))
    assert best_zone(scores)[0] == "dairy" and sum(scores.values()) == pytest.approx(1.0)
    # Classes left out of a map are in no zone: their probability goes nowhere.
    aisle = {label: zone for label, zone in plan.items() if zone == "bakery"}
    partial = FingerprintZones(grid_model, zones=aisle)
    left_out = partial.scores(reading((3.0, 5.0), seed=3))
    assert set(left_out) == {"bakery"} and left_out["bakery"] < 0.2


def test_missing_unknown_and_too_weak_receivers(zones_model: StoreModel) -> None:
    estimator = FingerprintZones(zones_model)
    assert estimator.scores({}) == {}
    assert estimator.scores({"gw-elsewhere": -40.0}) == {}, "receivers the model does not know are not evidence"
    one = estimator.scores({"b1": -62.0})  # only one beacon heard: the others are "not heard", as surveyed
    assert best_zone(one)[0] == "dairy"
    assert estimator.scores({"b1": -120.0, "b3": -118.0}) == {}, "weaker than anything surveyed: outside"
    assert estimator.scores({"b1": -62.0, "stranger": -30.0}) == one


def test_receivers_are_renamed_to_live_keys(zones_model: StoreModel) -> None:
    keys = tuple(f"ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e/1/{n}" for n in (1, 2, 3))
    estimator = FingerprintZones(zones_model, receivers=dict(zip(BEACONS, keys, strict=True)))
    assert estimator.covered == frozenset(keys)
    assert best_zone(estimator.scores(reading((16.0, 5.0), seed=5, keys=keys)))[0] == "bakery"
    assert estimator.scores(reading((16.0, 5.0), seed=5)) == {}, "the column names are not live keys any more"
    with pytest.raises(ValueError, match="not among the model's beacons"):
        FingerprintZones(zones_model, receivers={"b9": "x"})
    with pytest.raises(ValueError, match="same receiver"):
        FingerprintZones(zones_model, receivers={"b1": "b2"})


def test_repeated_snapshots_are_answered_from_the_cache_unchanged(zones_model: StoreModel) -> None:
    estimator = FingerprintZones(zones_model)
    first = estimator.scores({"b1": -70.0, "b2": -65.0})
    first["dairy"] = 5.0  # the caller's copy
    again = estimator.scores({"b1": -70.0, "b2": -65.0})
    assert again == estimator.scores({"b1": -70.05, "b2": -64.95}) and 0 <= again["dairy"] <= 1


def test_combined_path_loss_keeps_what_no_model_covers(zones_model: StoreModel) -> None:
    fingerprint = FingerprintZones(zones_model)
    path_loss = PathLossZones({"gw-entrance": Receiver("entrance"), "b1": Receiver("till")})
    combined = CombinedZones([fingerprint], fallback=path_loss)
    inside = reading((16.0, 5.0), seed=7)
    assert combined.scores(inside) == fingerprint.scores(inside), "the model owns b1: path-loss 'till' is not asked"
    assert combined.scores({"gw-entrance": -55.0}) == path_loss.scores({"gw-entrance": -55.0})
    both = combined.scores({**inside, "gw-entrance": -90.0})
    assert best_zone(both)[0] == "bakery" and 0 < both["entrance"] < 0.1
    assert CombinedZones([fingerprint]).scores({"gw-entrance": -55.0}) == {}


def test_a_live_tracker_enters_the_zone_the_model_says(zones_model: StoreModel) -> None:
    """Path-loss with b2 (the middle beacon) in the dairy would put a phone by the bakery counter there."""
    t0 = datetime(2026, 11, 30, 9, tzinfo=UTC)
    tracker = LiveTracker(FingerprintZones(zones_model, receivers={b: f"ibeacon:{_uuid()}/1/{i}" for i, b in
                                                                  enumerate(BEACONS, start=1)}))  # fmt: skip
    path_loss = PathLossZones({f"ibeacon:{_uuid()}/1/{i}": Receiver(zone) for i, zone in
                               enumerate(("dairy", "dairy", "bakery"), start=1)})  # fmt: skip
    events = []
    rng = np.random.default_rng(11)
    spot = np.array([12.5, 5.0])  # bakery, 2.5 m from b2 and 5.5 m from b3
    for second in range(40):
        levels = rssi_at(spot, rng, noise_db=1.5)
        for index, level in enumerate(levels, start=1):
            sighting = Sighting("app", "app", ibeacon(_uuid(), 1, index), t0 + timedelta(seconds=second), float(level),
                                subject="ps_" + "a" * 26)  # fmt: skip
            events += tracker.observe(sighting)
    entered = [event for event in events if isinstance(event, ZoneEntered)]
    assert [event.zone for event in entered] == ["bakery"]
    snapshot = tracker.bank.snapshot("subject:ps_" + "a" * 26, t0 + timedelta(seconds=39))
    assert best_zone(path_loss.scores(snapshot))[0] == "dairy"


def _uuid() -> str:
    return "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
