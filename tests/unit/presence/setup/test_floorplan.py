"""Floor plan validation: sizes, simple polygons inside the plan, unique names, zone lookup."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.setup.floorplan import (
    parse_plan,
    parse_points,
    self_intersection,
    stored_plan,
)
from tradeoff.sim.world import FloorPlan, Zone

SQUARE = [[0, 0], [4, 0], [4, 4], [0, 4]]


def plan(*zones: dict[str, object], width: float = 10, height: float = 8) -> dict[str, object]:
    return {"width_m": width, "height_m": height, "zones": list(zones)}


def field_of(data: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(data)
    return caught.value.field


def test_the_simulators_plans_are_valid_and_round_trip() -> None:
    sim = FloorPlan(20, 12, (Zone.rect("entrance", "Entrance", 0, 0, 4, 12), Zone.rect("dairy", "Dairy", 4, 0, 8, 6)))
    parsed = parse_plan(sim.to_json())
    assert parsed.to_json() == sim.to_json()
    assert (
        parsed.zone_at((2, 2)) == "entrance" and parsed.zone_at((5, 1)) == "dairy" and parsed.zone_at((15, 9)) is None
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("a plan", "floor_plan"),
        (plan(width=0), "width_m"),
        (plan(height=-1), "height_m"),
        (plan(width=math.inf), "width_m"),
        (plan(width=True), "width_m"),
        ({**plan(), "origin": "top-left"}, "origin"),
        ({**plan(), "zones": {}}, "zones"),
        (plan("zone"), "zones[0]"),
        (plan({"name": "", "polygon": SQUARE}), "zones[0].name"),
        (plan({"name": "Dairy", "polygon": SQUARE}), "zones[0].name"),
        (plan({"name": "a", "label": "x" * 101, "polygon": SQUARE}), "zones[0].label"),
        (plan({"name": "a", "polygon": SQUARE[:2]}), "zones[0].polygon"),
        (plan({"name": "a", "polygon": [[0, 0], [1, 0], "x"]}), "zones[0].polygon[2]"),
        (plan({"name": "a", "polygon": [[0, 0], [1, "0"], [1, 1]]}), "zones[0].polygon[1]"),
        (plan({"name": "a", "polygon": [[0, 0], [11, 0], [1, 1]]}), "zones[0].polygon[1]"),
        (plan({"name": "a", "polygon": [[0, 0], [1, 1], [2, 2]]}), "zones[0].polygon"),  # no area
        (plan({"name": "a", "polygon": [[0, 0], [4, 4], [4, 0], [0, 4]]}), "zones[0].polygon"),  # bow tie
        (plan({"name": "a", "polygon": SQUARE}, {"name": "a", "polygon": SQUARE}), "zones[1].name"),
    ],
)
def test_bad_plans_name_their_field(data: object, field: str) -> None:
    assert field_of(data) == field


@pytest.mark.parametrize(
    "polygon",
    [
        [[0, 0], [4, 0], [4, 4], [2, 0]],  # an edge runs back along another
        [[0, 0], [4, 0], [2, 0], [2, 3]],  # folds back onto the previous edge
        [[0, 0], [4, 0], [4, 4], [0, 4], [4, 0]],  # repeats a corner
        [[0, 0], [4, 0], [4, 4], [2, 0], [0, 4]],  # touches another edge at a vertex
    ],
)
def test_polygons_that_touch_or_fold_are_not_simple(polygon: list[list[float]]) -> None:
    assert self_intersection([(x, y) for x, y in polygon]) is not None


def test_closed_rings_concave_shapes_and_overlapping_zones_are_fine() -> None:
    l_shape = [[0, 0], [6, 0], [6, 2], [2, 2], [2, 6], [0, 6], [0, 0]]
    parsed = parse_plan(plan({"name": "l", "polygon": l_shape}, {"name": "near", "label": " Near ", "polygon": SQUARE}))
    assert len(parsed.zones[0].polygon) == 6 and parsed.zones[1].label == "Near"
    assert parsed.zone_at((1, 5)) == "l" and parsed.zone_at((3, 3)) == "near" and parsed.zone_at((5, 5)) is None
    assert parsed.zones[0].label == "l"  # the name when no label is given


@given(
    st.lists(st.tuples(st.floats(0, 10, allow_nan=False), st.floats(0, 8, allow_nan=False)), min_size=3, max_size=12)
)
def test_anything_accepted_is_simple_and_inside(points: list[tuple[float, float]]) -> None:
    try:
        parsed = parse_plan(plan({"name": "z", "polygon": [list(p) for p in points]}))
    except InvalidInput:
        return
    polygon = parsed.zones[0].polygon
    assert self_intersection(polygon) is None
    assert all(0 <= x <= 10 and 0 <= y <= 8 for x, y in polygon)


def test_regular_polygons_are_simple() -> None:
    for n in range(3, 40):
        ring = [(5 + 3 * math.cos(2 * math.pi * i / n), 4 + 3 * math.sin(2 * math.pi * i / n)) for i in range(n)]
        assert self_intersection(ring) is None


def test_stored_plans_without_size_are_no_plan() -> None:
    assert stored_plan({"width_m": 0, "height_m": 0, "zones": []}) is None
    assert stored_plan(None) is None
    assert stored_plan(plan()) is not None


def test_form_points() -> None:
    assert parse_points(" 0,0 4,0;4,4\n0,4 ") == [[0, 0], [4, 0], [4, 4], [0, 4]]
    assert parse_points("") == []
    with pytest.raises(InvalidInput) as caught:
        parse_points("0,0 4;0")
    assert caught.value.field == "points[1]"
