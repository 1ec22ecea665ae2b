"""The demo world as plain data: a tenant, its sites (a store with a floor plan, a vending site) and devices.

Nothing here does I/O; ``tradeoff.sim.seed`` writes a world to the database and ``tradeoff.sim.provision``
creates it through the HTTP API. Capabilities read the same world to place shoppers, beacons and machines.

Floor plans are stored in ``sites.floor_plan`` as JSON::

    {"width_m": 40, "height_m": 25, "origin": "bottom-left",
     "zones": [{"name": "produce", "label": "Produce", "polygon": [[x, y], ...]}, ...]}

Coordinates are metres from the bottom-left corner of the building; polygons are listed counter-clockwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

Point = tuple[float, float]
Link = Literal["ethernet", "wifi", "cellular"]
Power = Literal["mains", "battery"]


@dataclass(frozen=True, slots=True)
class Zone:
    """A named area of the floor; rectangles cover the demo, any simple polygon is allowed."""

    name: str
    label: str
    polygon: tuple[Point, ...]

    @classmethod
    def rect(cls, name: str, label: str, x: float, y: float, width: float, height: float) -> Zone:
        corners = ((x, y), (x + width, y), (x + width, y + height), (x, y + height))
        return cls(name=name, label=label, polygon=corners)

    @property
    def centroid(self) -> Point:
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return (sum(xs) / len(xs), sum(ys) / len(ys))

    def contains(self, point: Point) -> bool:
        """Ray casting; points on the boundary may fall either way."""
        x, y = point
        inside = False
        n = len(self.polygon)
        for i in range(n):
            (x1, y1), (x2, y2) = self.polygon[i], self.polygon[(i + 1) % n]
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside


@dataclass(frozen=True, slots=True)
class FloorPlan:
    width_m: float
    height_m: float
    zones: tuple[Zone, ...] = ()

    def zone(self, name: str) -> Zone:
        for zone in self.zones:
            if zone.name == name:
                return zone
        raise KeyError(f"no zone {name!r}")

    def zone_at(self, point: Point) -> Zone | None:
        return next((zone for zone in self.zones if zone.contains(point)), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "width_m": self.width_m,
            "height_m": self.height_m,
            "origin": "bottom-left",
            "zones": [{"name": z.name, "label": z.label, "polygon": [list(p) for p in z.polygon]} for z in self.zones],
        }


@dataclass(frozen=True, slots=True)
class SiteSpec:
    key: str  # stable handle inside the world (devices refer to it)
    name: str
    kind: str  # tenancy.SITE_KINDS
    timezone: str
    floor_plan: FloorPlan | None = None
    open_hour: int = 0  # local opening hours drive traffic curves; 0-24 means always open
    close_hour: int = 24


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    external_id: str
    kind: str  # tenancy.DEVICE_KINDS
    name: str
    site: str  # SiteSpec.key
    zone: str | None = None
    position: Point | None = None
    firmware: str = "1.0.0"
    link: Link = "ethernet"
    power: Power = "mains"


@dataclass(frozen=True, slots=True)
class World:
    tenant_slug: str
    tenant_name: str
    tenant_kind: str
    sites: tuple[SiteSpec, ...]
    devices: tuple[DeviceSpec, ...]

    def site(self, key: str) -> SiteSpec:
        for site in self.sites:
            if site.key == key:
                return site
        raise KeyError(f"no site {key!r}")

    def device(self, external_id: str) -> DeviceSpec:
        for device in self.devices:
            if device.external_id == external_id:
                return device
        raise KeyError(f"no device {external_id!r}")

    def devices_of(self, kind: str) -> tuple[DeviceSpec, ...]:
        return tuple(d for d in self.devices if d.kind == kind)

    def with_slug(self, slug: str) -> World:
        return replace(self, tenant_slug=slug)


STORE_ZONES = (
    Zone.rect("entrance", "Entrance", 0, 0, 8, 6),
    Zone.rect("checkout", "Checkout", 8, 0, 14, 6),
    Zone.rect("bakery", "Bakery", 22, 0, 18, 6),
    Zone.rect("produce", "Produce", 0, 6, 12, 19),
    Zone.rect("grocery", "Grocery aisles", 12, 6, 16, 19),
    Zone.rect("dairy", "Dairy", 28, 6, 12, 10),
    Zone.rect("frozen", "Frozen", 28, 16, 12, 9),
)
STORE_PLAN = FloorPlan(width_m=40, height_m=25, zones=STORE_ZONES)


def _gateway(zone: Zone) -> DeviceSpec:
    return DeviceSpec(
        external_id=f"gw-{zone.name}",
        kind="gateway",
        name=f"BLE gateway — {zone.label}",
        site="store",
        zone=zone.name,
        position=zone.centroid,
        firmware="2.4.1",
        link="wifi",
    )


def demo_world(slug: str = "demo") -> World:
    """A small grocer: one store with seven zones, and two vending machines at a station hall."""
    store = SiteSpec(
        key="store",
        name="Main Street store",
        kind="store",
        timezone="Europe/Berlin",
        floor_plan=STORE_PLAN,
        open_hour=8,
        close_hour=21,
    )
    vending = SiteSpec(key="station", name="Station hall vending", kind="vending_site", timezone="Europe/Berlin")
    devices = (
        *(_gateway(zone) for zone in STORE_ZONES),
        DeviceSpec(
            "cam-entrance", "camera", "People counter — entrance", "store", "entrance", (4.0, 0.5), firmware="5.1.0"
        ),
        DeviceSpec("pos-1", "pos", "Till 1", "store", "checkout", (12.0, 3.0), firmware="3.2.0"),
        DeviceSpec(
            "sign-entrance", "signage", "Welcome screen", "store", "entrance", (6.0, 5.5), firmware="1.8.2", link="wifi"
        ),
        DeviceSpec(
            "sensor-dairy",
            "sensor",
            "Dairy cooler probe",
            "store",
            "dairy",
            (39.0, 11.0),
            firmware="0.9.4",
            link="wifi",
            power="battery",
        ),
        DeviceSpec("vm-1", "vending_machine", "Snack & drink machine 1", "station", firmware="4.0.3", link="cellular"),
        DeviceSpec("vm-2", "vending_machine", "Snack & drink machine 2", "station", firmware="4.0.3", link="cellular"),
    )
    return World(
        tenant_slug=slug,
        tenant_name="Demo Grocer",
        tenant_kind="merchant",
        sites=(store, vending),
        devices=devices,
    )
