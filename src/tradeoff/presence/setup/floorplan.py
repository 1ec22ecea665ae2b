"""Floor plans as the merchant draws them: validated before they are stored, so every reader (zone
estimation, the simulator, the dashboard) can trust the shape.

A plan is ``{"width_m", "height_m", "origin": "bottom-left", "zones": [{"name", "label", "polygon"}]}``
(the shape ``sim.world.FloorPlan.to_json`` writes). Zones must be simple polygons (no edge crosses
another) inside the plan, with unique slug names; zones may overlap each other (a beacon can sit in a
"near" and a "far" zone, as in Estimote's tags). Nothing here does I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from tradeoff.core.errors import InvalidInput

Point = tuple[float, float]

MAX_SIDE_M = 1000.0  # a hypermarket is ~300 m across; more is a unit mistake (cm, mm)
MAX_ZONES = 100
MAX_POINTS = 100
ZONE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class ZoneShape:
    name: str
    label: str
    polygon: tuple[Point, ...]

    def contains(self, point: Point) -> bool:
        """Ray casting; a point on the boundary may fall either way."""
        x, y = point
        inside = False
        n = len(self.polygon)
        for i in range(n):
            (x1, y1), (x2, y2) = self.polygon[i], self.polygon[(i + 1) % n]
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside

    @property
    def centroid(self) -> Point:
        xs, ys = zip(*self.polygon, strict=True)
        return (sum(xs) / len(xs), sum(ys) / len(ys))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "polygon": [[x, y] for x, y in self.polygon]}


@dataclass(frozen=True, slots=True)
class Plan:
    width_m: float
    height_m: float
    zones: tuple[ZoneShape, ...] = ()

    def zone(self, name: str) -> ZoneShape | None:
        return next((zone for zone in self.zones if zone.name == name), None)

    def zone_at(self, point: Point) -> str | None:
        """The first zone (in drawing order) containing the point."""
        return next((zone.name for zone in self.zones if zone.contains(point)), None)

    def inside(self, point: Point) -> bool:
        return 0 <= point[0] <= self.width_m and 0 <= point[1] <= self.height_m

    def to_json(self) -> dict[str, Any]:
        return {
            "width_m": self.width_m,
            "height_m": self.height_m,
            "origin": "bottom-left",
            "zones": [zone.to_json() for zone in self.zones],
        }


def parse_plan(data: Any) -> Plan:
    """A plan from JSON, or ``InvalidInput`` naming the field (``zones[1].polygon[3]``) and the reason."""
    if not isinstance(data, dict):
        raise InvalidInput("floor_plan", "must be an object")
    if data.get("origin", "bottom-left") != "bottom-left":
        raise InvalidInput("origin", "only 'bottom-left' (y grows upwards, metres) is supported")
    width = _length(data.get("width_m"), "width_m")
    height = _length(data.get("height_m"), "height_m")
    raw_zones = data.get("zones", [])
    if not isinstance(raw_zones, list):
        raise InvalidInput("zones", "must be a list")
    if len(raw_zones) > MAX_ZONES:
        raise InvalidInput("zones", f"at most {MAX_ZONES} zones")
    zones: list[ZoneShape] = []
    for index, raw in enumerate(raw_zones):
        zone = parse_zone(raw, field=f"zones[{index}]", width_m=width, height_m=height)
        if any(existing.name == zone.name for existing in zones):
            raise InvalidInput(f"zones[{index}].name", f"{zone.name!r} is used by another zone")
        zones.append(zone)
    return Plan(width, height, tuple(zones))


def parse_zone(data: Any, *, field: str, width_m: float, height_m: float) -> ZoneShape:
    if not isinstance(data, dict):
        raise InvalidInput(field, "must be an object with name, label and polygon")
    name = data.get("name")
    if not isinstance(name, str) or not ZONE_NAME.match(name):
        raise InvalidInput(f"{field}.name", "1-48 chars of a-z, 0-9, '_' and '-', starting with a letter or digit")
    label = data.get("label") or name
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        raise InvalidInput(f"{field}.label", "must be text of 1-100 chars")
    polygon = parse_polygon(data.get("polygon"), field=f"{field}.polygon", width_m=width_m, height_m=height_m)
    return ZoneShape(name=name, label=label.strip(), polygon=polygon)


def parse_polygon(data: Any, *, field: str, width_m: float, height_m: float) -> tuple[Point, ...]:
    if not isinstance(data, list) or not 3 <= len(data) <= MAX_POINTS:
        raise InvalidInput(field, f"must be a list of 3-{MAX_POINTS} [x, y] points")
    points: list[Point] = []
    for index, raw in enumerate(data):
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise InvalidInput(f"{field}[{index}]", "must be [x, y] in metres")
        x, y = (_number(value, f"{field}[{index}]") for value in raw)
        if not (0 <= x <= width_m and 0 <= y <= height_m):
            raise InvalidInput(f"{field}[{index}]", f"({x:g}, {y:g}) is outside the {width_m:g} × {height_m:g} m plan")
        points.append((x, y))
    if len(points) > 3 and _same(points[0], points[-1]):
        points.pop()  # a closed ring (first point repeated): accept it, store it open
    crossing = self_intersection(points)
    if crossing is not None:
        raise InvalidInput(field, f"edges {crossing[0]} and {crossing[1]} cross or overlap: draw a simple polygon")
    if abs(signed_area(points)) < 1e-6:
        raise InvalidInput(field, "has no area (all points on one line?)")
    return tuple(points)


def signed_area(points: list[Point] | tuple[Point, ...]) -> float:
    n = len(points)
    return sum(points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1] for i in range(n)) / 2


def self_intersection(points: list[Point] | tuple[Point, ...]) -> tuple[int, int] | None:
    """The first pair of edges (edge i joins point i to i+1) that cross, touch or overlap, else None.
    Adjacent edges share a point by construction; they fail only when they fold back onto each other."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i, (a, b) in enumerate(edges):
        if _same(a, b):
            return (i, i)
        for j in range(i + 1, n):
            c, d = edges[j]
            if j == i + 1 or (i == 0 and j == n - 1):
                shared, other_i, other_j = (b, a, d) if j == i + 1 else (a, b, c)
                if _orient(shared, other_i, other_j) == 0 and _dot(shared, other_i, other_j) > 0:
                    return (i, j)
            elif _segments_meet(a, b, c, d):
                return (i, j)
    return None


def _segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return (
        (o1 == 0 and _on(a, b, c))
        or (o2 == 0 and _on(a, b, d))
        or (o3 == 0 and _on(c, d, a))
        or (o4 == 0 and _on(c, d, b))
    )


def _orient(a: Point, b: Point, c: Point) -> int:
    cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return 0 if abs(cross) <= _EPS else (1 if cross > 0 else -1)


def _on(a: Point, b: Point, p: Point) -> bool:
    """p (collinear with a-b) lies on the segment a-b."""
    return min(a[0], b[0]) - _EPS <= p[0] <= max(a[0], b[0]) + _EPS and (
        min(a[1], b[1]) - _EPS <= p[1] <= max(a[1], b[1]) + _EPS
    )


def _dot(origin: Point, p: Point, q: Point) -> float:
    return (p[0] - origin[0]) * (q[0] - origin[0]) + (p[1] - origin[1]) * (q[1] - origin[1])


def _same(p: Point, q: Point) -> bool:
    return abs(p[0] - q[0]) <= _EPS and abs(p[1] - q[1]) <= _EPS


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, f"{value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field, "must be a finite number")
    return number


def _length(value: Any, field: str) -> float:
    number = _number(value, field)
    if not 0 < number <= MAX_SIDE_M:
        raise InvalidInput(field, f"must be more than 0 and at most {MAX_SIDE_M:g} metres")
    return number


def stored_plan(data: Any) -> Plan | None:
    """The plan a site holds, or None when it has none yet (sites start as ``width_m: 0``)."""
    if not isinstance(data, dict) or not data.get("width_m") or not data.get("height_m"):
        return None
    return parse_plan(data)


def parse_points(text: str, *, field: str = "points") -> list[list[float]]:
    """``"1,2 3,4 5,6"`` (or ``;``/newline separated) → ``[[1, 2], [3, 4], [5, 6]]`` for form input."""
    pairs = [part for part in re.split(r"[\s;]+", text.strip()) if part]
    out: list[list[float]] = []
    for index, pair in enumerate(pairs):
        parts = pair.split(",")
        try:
            x, y = (float(part) for part in parts)
        except ValueError:
            raise InvalidInput(f"{field}[{index}]", f"{pair!r} is not 'x,y'") from None
        out.append([x, y])
    return out
