"""Path-loss zones: the score is 0.5 at the zone radius, rises inside, falls outside; unknown receivers
are ignored unless rooms are zones."""

from __future__ import annotations

import pytest

from tradeoff.presence.tracking import PathLossZones, Receiver, best_zone, distance_m
from tradeoff.presence.tracking.zones import rssi_at


def test_log_distance_model_round_trips() -> None:
    assert distance_m(-59, -59, 3.0) == pytest.approx(1.0)
    assert distance_m(rssi_at(6.58, -59, 3.5), -59, 3.5) == pytest.approx(6.58)
    assert distance_m(-80, -59, 2.0) == pytest.approx(10 ** (21 / 20))


def test_scores() -> None:
    zones = PathLossZones(
        {"gw-a": Receiver("a", radius_m=3), "gw-a2": Receiver("a", radius_m=1), "gw-b": Receiver("b")}
    )
    edge = rssi_at(3, -59, 3.0)
    scores = zones.scores({"gw-a": edge, "gw-a2": -100, "gw-b": edge - 10, "gw-x": -40})
    assert scores["a"] == pytest.approx(0.5)  # the better of a's two receivers
    assert scores["b"] < 0.05 and "gw-x" not in scores and set(scores) == {"a", "b"}
    assert zones.scores({"gw-a": edge + 6})["a"] > 0.85


def test_rooms_as_zones() -> None:
    zones = PathLossZones(rooms_as_zones=True)
    assert set(zones.scores({"office": -60, "hall": -90})) == {"office", "hall"}


def test_best_zone_is_deterministic() -> None:
    assert best_zone({}) == (None, 0.0)
    assert best_zone({"b": 0.7, "a": 0.7, "c": 0.1}) == ("a", 0.7)
