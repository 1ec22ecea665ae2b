"""The simulated vending operator as plain data: machines around a city centre, a depot, trucks, products.

Pure (no I/O). ``sim_seed`` writes a ``FleetSpec`` through the fleet services; ``sim`` drives it. Demand comes
from ``vending.demand.FleetDemand`` (local time = UTC there), so machines, depot and trucks use UTC too and a
site's opening hours are hours of the UTC day, exactly where the demand model sells.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date

from tradeoff.sim.world import DeviceSpec, SiteSpec, World
from tradeoff.vending.demand import ColumnDemand, DemandClass, FleetDemand, SiteProfile

FLEET_SLUG = "demo-vending"
FLEET_NAME = "Demo Vending Co"
FLEET_USERNAME = "vending"  # dashboard login for the local demo only (password: sim.seed.DEMO_PASSWORD)
CENTRE = (52.5200, 13.4050)  # Berlin Mitte
DEMAND_START = date(2026, 1, 5)  # the demand model's reference day (trends count from it)

CAPACITY: dict[DemandClass, int] = {"fast": 40, "medium": 24, "intermittent": 12}
PRICE: dict[DemandClass, int] = {"fast": 150, "medium": 180, "intermittent": 350}  # cents
CASE_SIZE: dict[str, int] = {
    "cola-330": 24, "water-500": 24, "coffee-cup": 50, "chocolate-bar": 36, "crisps-salted": 30,
    "energy-250": 24, "juice-orange": 12, "cereal-bar": 24, "crisps-paprika": 30, "iced-tea": 12,
    "gum-mint": 20, "nuts-mix": 20, "cookies": 16, "sandwich": 6, "protein-shake": 12, "salad-bowl": 6,
    "batteries": 10, "umbrella": 5, "phone-cable": 10, "tissues": 24,
}  # fmt: skip
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    selection: str
    sku: str
    capacity: int
    par: int
    threshold_pct: float
    price: int
    demand: ColumnDemand


@dataclass(frozen=True, slots=True)
class MachineSpec:
    name: str
    device: str  # platform device external id (MQTT topic source)
    serial: str  # DEX ID101
    site_kind: str
    lat: float
    lon: float
    opening_hours: dict[str, list[list[str]]]  # empty: always open
    columns: tuple[ColumnSpec, ...]
    initial_fill: tuple[float, ...]  # share of par each column holds on the very first seeding


@dataclass(frozen=True, slots=True)
class TruckSpec:
    name: str
    capacity_units: int
    shift_start: str
    shift_end: str


@dataclass(frozen=True, slots=True)
class FleetSpec:
    slug: str
    name: str
    depot_name: str
    depot: tuple[float, float]
    trucks: tuple[TruckSpec, ...]
    products: dict[str, int]  # sku -> case size
    machines: tuple[MachineSpec, ...]
    threshold_pct: float

    def machine_by_serial(self, serial: str) -> MachineSpec:
        for machine in self.machines:
            if machine.serial == serial:
                return machine
        raise KeyError(f"no machine with serial {serial!r}")


def opening_hours(site: SiteProfile) -> dict[str, list[list[str]]]:
    """The fleet service's weekly hours for a demand site type (24 h every day: always open)."""
    close = "23:59" if site.close_hour >= 24 else f"{site.close_hour:02d}:00"
    hours = {day: [[f"{site.open_hour:02d}:00", close]] for day, m in zip(DAYS, site.weekday, strict=True) if m > 0}
    if len(hours) == 7 and site.open_hour == 0 and site.close_hour >= 24:
        return {}
    return hours


def _place(rng: random.Random, radius_km: float) -> tuple[float, float]:
    """A point within ``radius_km`` of the centre (uniform over the disc)."""
    distance = radius_km * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    lat = CENTRE[0] + distance * math.cos(angle) / 111.32
    lon = CENTRE[1] + distance * math.sin(angle) / (111.32 * math.cos(math.radians(CENTRE[0])))
    return round(lat, 6), round(lon, 6)


def fleet_spec(
    *, seed: int = 11, machines: int = 16, columns: int = 8, slug: str = FLEET_SLUG, threshold_pct: float = 25.0
) -> FleetSpec:
    """The same arguments always give the same fleet (layout, planograms, demand)."""
    demand = FleetDemand.generate(seed, machines, columns, DEMAND_START)
    rng = random.Random(f"fleet:{seed}")
    built = []
    for index, machine in enumerate(demand.machines, start=1):
        lat, lon = _place(rng, 6.0)
        cols = tuple(
            ColumnSpec(
                selection=c.selection,
                sku=c.product,
                capacity=CAPACITY[c.demand_class],
                par=CAPACITY[c.demand_class],
                threshold_pct=threshold_pct,
                price=PRICE[c.demand_class],
                demand=c,
            )
            for c in machine.columns
        )
        built.append(
            MachineSpec(
                name=f"VM {index:02d} ({machine.site.kind})",
                device=f"fleet-vm-{index:02d}",
                serial=f"SIMV{seed:03d}M{index:03d}",
                site_kind=machine.site.kind,
                lat=lat,
                lon=lon,
                opening_hours=opening_hours(machine.site),
                columns=cols,
                initial_fill=tuple(round(rng.uniform(0.35, 1.0), 2) for _ in cols),
            )
        )
    skus = sorted({c.sku for m in built for c in m.columns})
    return FleetSpec(
        slug=slug,
        name=FLEET_NAME,
        depot_name="Central depot",
        depot=(CENTRE[0] - 0.02, CENTRE[1] + 0.03),
        trucks=(TruckSpec("Van 1", 600, "06:00", "14:00"), TruckSpec("Van 2", 600, "06:00", "14:00")),
        products={sku: CASE_SIZE.get(sku, 12) for sku in skus},
        machines=tuple(built),
        threshold_pct=threshold_pct,
    )


def fleet_world(spec: FleetSpec) -> World:
    """The operator as a platform tenant: one vending site, one cellular device per machine."""
    site = SiteSpec(key="fleet", name="Vending fleet", kind="vending_site", timezone="UTC")
    devices = tuple(
        DeviceSpec(m.device, "vending_machine", m.name, "fleet", firmware="4.0.3", link="cellular")
        for m in spec.machines
    )
    return World(
        tenant_slug=spec.slug, tenant_name=spec.name, tenant_kind="vending_operator", sites=(site,), devices=devices
    )
