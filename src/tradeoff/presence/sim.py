"""Simulated store visitors for presence: shoppers walking the floor plan, heard by ESPresense gateways
and, for app users, reporting the store's beacons to ``POST /v1/me/presence``.

Generator ``store-visitors``. Shoppers arrive by a Poisson process following the store's daily traffic
curve; each walks entrance → a few zones (dwelling) → checkout → exit. Every ``scan_s`` each gateway
hears the phones (a random private MAC that rotates) and beacons around it — log-distance path loss, a
wall penalty across zones, Gaussian noise, drop-outs — and publishes one ESPresense message (format
``espresense``, a JSON array of ``{"topic", "payload"}`` items). App users' phones hear the beacons and
post ``AppReport``s through an ``AppOutlet`` (silent until ``attach_app``). What really happened (who was
in which zone when) is kept in ``GroundTruth``. Deterministic for a seed while no cap bites.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import httpx
import orjson

from tradeoff.presence.tracking.zones import rssi_at
from tradeoff.sim.base import EventDict, GeneratorContext, iso
from tradeoff.sim.generators import register_generator
from tradeoff.sim.models import poisson, traffic_rate
from tradeoff.sim.planted import PlantedValues
from tradeoff.sim.probe_io import POLICY_VERSION, Enrollment
from tradeoff.sim.world import FloorPlan, Point, SiteSpec, Zone

if TYPE_CHECKING:
    from tradeoff.sim.runner import Simulator
    from tradeoff.sim.seed import Credentials

NAME = "store-visitors"
FORMAT = "espresense"
BEACON_UUID = "5f2dd896-b886-4549-ae01-e41acd7a354a"  # the demo store's iBeacon UUID (made up)
TierMix = tuple[tuple[int | None, float], ...]
DEFAULT_MIX: TierMix = ((None, 0.55), (0, 0.08), (1, 0.15), (2, 0.14), (3, 0.08))  # None: no app
MAX_REPORT_ITEMS = 200  # AppReport's limit
TYPICAL_VISIT_S = 540.0  # plan_path's mean visit (5–15 min, 90 % of them)


@dataclass(frozen=True, slots=True)
class Beacon:
    zone: str
    position: Point
    major: int
    minor: int
    mac: str  # beacons are store infrastructure: a fixed address
    uuid: str = BEACON_UUID
    measured_power: int = -59

    @property
    def espresense_id(self) -> str:
        return f"iBeacon:{self.uuid}-{self.major}-{self.minor}"


def demo_beacons(plan: FloorPlan, *, major: int = 1) -> tuple[Beacon, ...]:
    """One iBeacon per zone, 1.5 m from the zone's centre (where its gateway hangs)."""
    return tuple(
        Beacon(zone.name, (zone.centroid[0] + 1.5, zone.centroid[1]), major, index + 1, f"c0ffee00{index + 1:04x}")
        for index, zone in enumerate(plan.zones)
    )


@dataclass(frozen=True, slots=True)
class VisitorConfig:
    """Every knob of the simulation; defaults give a plausible small grocer at real-time speed."""

    mix: TierMix = DEFAULT_MIX
    rate_scale: float = 1.0  # × the daily traffic curve (shoppers per minute)
    scan_s: float = 2.0  # gateways and phones scan; a gateway publishes one message per scan
    app_report_s: float = 6.0
    beacon_report_s: float = 10.0  # gateways report the store's fixed beacons less often than phones
    mac_rotation_s: float = 900.0  # phones rotate their private address about every 15 min
    exponent: float = 3.0
    phone_power: float = -62.0  # dBm at 1 m of a phone heard by a gateway
    wall_db: float = 3.0  # extra loss when emitter and receiver are in different zones
    noise_db: float = 4.0
    gateway_sensitivity: float = -92.0
    phone_sensitivity: float = -95.0
    dropout: float = 0.1  # a reading missed although in range
    zones_per_visit: tuple[int, int] = (2, 4)
    dwell_mean_s: float = 90.0
    max_in_store: int = 150
    max_messages_per_step: int = 70  # gateway scans × gateways per simulator step (accelerated clocks)
    max_items_per_message: int = 60  # the strongest readings of one scan
    max_reports_per_step: int = 20  # app reports posted per step; the rest wait (and grow) in the app
    prefill: bool = True  # start with the shoppers already inside at the start time


# -- paths -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Leg:
    start: float  # seconds since arrival
    end: float
    origin: Point
    to: Point


def _point_in(rng: random.Random, zone: Zone, margin: float = 0.8) -> Point:
    xs, ys = [p[0] for p in zone.polygon], [p[1] for p in zone.polygon]
    return (rng.uniform(min(xs) + margin, max(xs) - margin), rng.uniform(min(ys) + margin, max(ys) - margin))


def plan_path(rng: random.Random, plan: FloorPlan, config: VisitorConfig) -> list[Leg]:
    """Door → entrance → ``zones_per_visit`` zones (1–3 stops each) → checkout → door, walking 0.7–1.3 m/s."""
    names = [zone.name for zone in plan.zones]
    entrance = plan.zone("entrance") if "entrance" in names else plan.zones[0]
    checkout = plan.zone("checkout") if "checkout" in names else plan.zones[-1]
    aisles = [zone for zone in plan.zones if zone.name not in (entrance.name, checkout.name)]
    low, high = config.zones_per_visit
    chosen = rng.sample(aisles, min(len(aisles), rng.randint(low, high)))
    door = (entrance.centroid[0], min(p[1] for p in entrance.polygon) + 0.3)
    stops: list[tuple[Point, float]] = [(door, 0.0), (_point_in(rng, entrance), rng.uniform(5, 15))]
    for zone in chosen:
        dwell = min(600.0, max(20.0, rng.expovariate(1 / config.dwell_mean_s)))
        parts = rng.randint(1, 3)
        stops.extend((_point_in(rng, zone), dwell / parts) for _ in range(parts))
    stops.append((_point_in(rng, checkout), rng.uniform(60, 240)))
    stops.extend([(_point_in(rng, entrance), rng.uniform(2, 6)), (door, 0.0)])
    speed = rng.uniform(0.7, 1.3)
    legs: list[Leg] = []
    t, here = 0.0, door
    for point, dwell in stops[1:]:
        walk = math.dist(here, point) / speed
        legs.append(Leg(t, t + walk, here, point))
        t += walk
        if dwell:
            legs.append(Leg(t, t + dwell, point, point))
            t += dwell
        here = point
    return legs


def position(legs: Sequence[Leg], seconds: float) -> Point:
    ends = [leg.end for leg in legs]
    leg = legs[min(bisect.bisect_left(ends, seconds), len(legs) - 1)]
    span = leg.end - leg.start
    f = 1.0 if span <= 0 else min(1.0, max(0.0, (seconds - leg.start) / span))
    if f == 1.0:
        return leg.to
    return (leg.origin[0] + (leg.to[0] - leg.origin[0]) * f, leg.origin[1] + (leg.to[1] - leg.origin[1]) * f)


# -- radio -----------------------------------------------------------------------------------------------
def heard(
    rng: random.Random, *, distance: float, power: float, config: VisitorConfig, walls: bool, sensitivity: float
) -> float | None:
    """One reading in dBm, or ``None`` when below ``sensitivity`` or dropped."""
    level = rssi_at(max(distance, 0.3), power, config.exponent) - (config.wall_db if walls else 0.0)
    level += rng.gauss(0.0, config.noise_db)
    if rng.random() < config.dropout or level < sensitivity:
        return None
    return round(min(level, -20.0), 2)


def random_mac(rng: random.Random) -> str:
    """A resolvable private address (top bits 01), as phones advertise: 12 lower-case hex digits."""
    first = (rng.getrandbits(8) & 0x3F) | 0x40
    return f"{first:02x}" + "".join(f"{rng.getrandbits(8):02x}" for _ in range(5))


def colon(mac: str) -> str:
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


def espresense_item(
    *, ident: str, mac: str, room: str, rssi: float, power: float, noise: float, interval: int
) -> dict[str, Any]:
    """One sighting as ESPresense publishes it (``BleFingerprint::fill``), with the topic it uses."""
    payload = {
        "mac": mac,
        "id": ident,
        "rssi@1m": round(power),
        "rssi": rssi,
        "rxAdj": 0,
        "rssiVar": round(noise * noise, 2),
        "distance": round(10 ** ((power - rssi) / 35.0), 2),  # ESPresense's default absorption 3.5
        "var": 0.5,
        "int": interval,
    }
    return {"topic": f"espresense/devices/{ident}/{room}", "payload": payload}


# -- ground truth ----------------------------------------------------------------------------------------
@dataclass(slots=True)
class TruthVisit:
    shopper: str
    zone: str
    entered: datetime
    left: datetime | None = None


@dataclass(slots=True)
class GroundTruth:
    """Who was where when, for comparing presence output (zones, dwell, visits) against reality."""

    shoppers: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → tier, subject, macs, times
    visits: list[TruthVisit] = field(default_factory=list)

    def zone_of(self, shopper: str, at: datetime) -> str | None:
        for visit in self.visits:
            if visit.shopper == shopper and visit.entered <= at and (visit.left is None or at < visit.left):
                return visit.zone
        return None

    def to_json(self) -> dict[str, Any]:
        visits = [
            {"shopper": v.shopper, "zone": v.zone, "entered": iso(v.entered), "left": v.left and iso(v.left)}
            for v in self.visits
        ]
        return {"shoppers": self.shoppers, "visits": visits}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2))


# -- the app's way out -----------------------------------------------------------------------------------
class AppOutlet(Protocol):
    def enroll(self, *, tier: int) -> Enrollment | None: ...

    def post_report(self, token: str, report: dict[str, Any]) -> dict[str, Any] | None:
        """The platform's answer to ``POST /v1/me/presence`` (None when it did not answer 200)."""
        ...

    def close(self) -> None: ...


class HttpAppOutlet:
    """``/v1/me/register`` with the app backend's key, then ``/v1/me/presence`` with each app token."""

    def __init__(self, base_url: str, *, register_key: str, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(base_url=base_url, timeout=httpx.Timeout(30.0, connect=5.0))
        self._owns_client = client is None
        self.register_key = register_key

    def _post(self, path: str, token: str, body: Any) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            return self.client.post(path, content=orjson.dumps(body), headers=headers)
        except httpx.HTTPError:
            return None

    def enroll(self, *, tier: int) -> Enrollment | None:
        consent = {"tier": tier, "policy_version": POLICY_VERSION, "source": "app"}
        response = self._post("/v1/me/register", self.register_key, {"consent": consent})
        if response is None or response.status_code != 201:
            return None
        doc = response.json()
        return Enrollment(subject_id=str(doc["subject_id"]), app_token=str(doc["app_token"]))

    def post_report(self, token: str, report: dict[str, Any]) -> dict[str, Any] | None:
        response = self._post("/v1/me/presence", token, report)
        if response is None or response.status_code != 200:
            return None
        doc: dict[str, Any] = response.json()
        return doc

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


# -- the generator ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class AppUser:
    key: str
    tier: int
    enrollment: Enrollment | None = None
    inside: bool = False


@dataclass(slots=True)
class Visitor:
    key: str
    arrived: datetime
    legs: list[Leg]
    apple: bool
    mac: str
    mac_until: datetime
    app: AppUser | None = None
    zone: TruthVisit | None = None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    next_report: datetime | None = None
    reports: int = 0

    @property
    def leaves(self) -> datetime:
        return self.arrived + timedelta(seconds=self.legs[-1].end)

    def at(self, t: datetime) -> Point:
        return position(self.legs, (t - self.arrived).total_seconds())


class StoreVisitors:
    name = NAME

    def __init__(self, ctx: GeneratorContext, config: VisitorConfig | None = None) -> None:
        self.ctx, self.config = ctx, config or VisitorConfig()
        site = next((s for s in ctx.world.sites if s.floor_plan is not None), None)
        if site is None or site.floor_plan is None:
            raise ValueError("store-visitors needs a site with a floor plan")
        self.site: SiteSpec = site
        self.plan: FloorPlan = site.floor_plan
        self.local = ZoneInfo(site.timezone)
        self.gateways = [d for d in ctx.world.devices_of("gateway") if d.site == site.key and d.position]
        self.beacons = demo_beacons(self.plan)
        self.rng = ctx.rng(f"{NAME}:people")  # arrivals and paths
        self.radio = ctx.rng(f"{NAME}:gateways")  # what gateways hear
        self.phones = ctx.rng(f"{NAME}:phones")  # what the app users' phones hear
        self.inside: list[Visitor] = []
        self.app_users: list[AppUser] = []
        self.truth = GroundTruth()
        self.planted = PlantedValues()  # every phone MAC sent, for the breach drill
        self.stats: dict[str, int] = {}
        self.outlet: AppOutlet | None = None
        self.truth_path: Path | None = None
        self.planted_path: Path | None = None
        self._next_scan = self._next_beacons = ctx.start
        self._visitors = 0
        self._due_reports: list[Visitor] = []
        self._prefilled = not self.config.prefill

    def attach(self, outlet: AppOutlet, *, truth_path: Path | None = None, planted_path: Path | None = None) -> None:
        self.outlet, self.truth_path, self.planted_path = outlet, truth_path, planted_path

    def close(self) -> None:
        if self.truth_path is not None:
            self.truth.save(self.truth_path)
        if self.planted_path is not None:
            self.planted.save(self.planted_path)
        if self.outlet is not None:
            self.outlet.close()

    def summary(self) -> dict[str, Any]:
        return {"stats": dict(sorted(self.stats.items())), "in_store": len(self.inside)}

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def rate_per_s(self, t: datetime) -> float:
        local = t.astimezone(self.local)
        per_min = traffic_rate(local, open_hour=self.site.open_hour, close_hour=self.site.close_hour)
        return per_min * self.config.rate_scale / 60.0

    # -- people ----------------------------------------------------------------------------------------
    def _arrive(self, arrived: datetime, now: datetime) -> None:
        if len(self.inside) >= self.config.max_in_store:
            self._count("turned_away")
            return
        tier = self.rng.choices([t for t, _ in self.config.mix], [w for _, w in self.config.mix])[0]
        legs = plan_path(self.rng, self.plan, self.config)
        self._visitors += 1
        visitor = Visitor(
            key=f"v{self._visitors:05d}",
            arrived=arrived,
            legs=legs,
            apple=self.rng.random() < 0.55,
            mac=random_mac(self.rng),
            mac_until=now + timedelta(seconds=self.rng.uniform(0.2, 1.0) * self.config.mac_rotation_s),
        )
        if tier is not None:
            visitor.app = self._app_user(tier)
            visitor.next_report = now + timedelta(seconds=self.config.app_report_s)
        self.inside.append(visitor)
        self.planted.add("mac", visitor.mac, colon(visitor.mac))
        self.truth.shoppers[visitor.key] = {
            "arrived": iso(arrived),
            "tier": tier,
            "app_user": visitor.app.key if visitor.app else None,
            "macs": [visitor.mac],
        }
        self._count("arrivals")

    def _app_user(self, tier: int) -> AppUser:
        """A returning app user with this tier who is not inside already, else a new one."""
        free = [user for user in self.app_users if user.tier == tier and not user.inside]
        user = self.rng.choice(free) if free else AppUser(key=f"app{len(self.app_users) + 1:04d}", tier=tier)
        if not free:
            self.app_users.append(user)
        user.inside = True
        return user

    def _move(self, visitor: Visitor, t: datetime) -> None:
        """Ground truth and MAC rotation at ``t``."""
        if t >= visitor.mac_until:
            visitor.mac = random_mac(self.rng)
            visitor.mac_until = t + timedelta(seconds=self.config.mac_rotation_s * self.rng.uniform(0.8, 1.2))
            self.planted.add("mac", visitor.mac, colon(visitor.mac))
            self.truth.shoppers[visitor.key]["macs"].append(visitor.mac)
        zone = self.plan.zone_at(visitor.at(t))
        name = zone.name if zone else None
        if visitor.zone is not None and visitor.zone.zone != name:
            visitor.zone.left = t
            visitor.zone = None
        if visitor.zone is None and name is not None:
            visitor.zone = TruthVisit(visitor.key, name, t)
            self.truth.visits.append(visitor.zone)

    def _leave(self, visitor: Visitor, t: datetime) -> None:
        if visitor.zone is not None:
            visitor.zone.left = t
        if visitor.app is not None:
            visitor.app.inside = False
            if visitor.buffer and visitor not in self._due_reports:
                self._due_reports.append(visitor)
        self.truth.shoppers[visitor.key]["left"] = iso(t)
        self._count("exits")

    # -- radio -----------------------------------------------------------------------------------------
    def _gateway_scan(self, t: datetime) -> list[tuple[str, list[dict[str, Any]]]]:
        out: list[tuple[str, list[dict[str, Any]]]] = []
        cfg = self.config
        with_beacons = t >= self._next_beacons
        if with_beacons:
            self._next_beacons = t + timedelta(seconds=cfg.beacon_report_s)
        for gateway in self.gateways:
            assert gateway.position is not None
            room = gateway.zone or gateway.external_id
            items: list[tuple[float, dict[str, Any]]] = []
            for visitor in self.inside:
                where = visitor.at(t)
                walls = visitor.zone is None or visitor.zone.zone != gateway.zone
                level = heard(
                    self.radio, distance=math.dist(where, gateway.position), power=cfg.phone_power, config=cfg,
                    walls=walls, sensitivity=cfg.gateway_sensitivity,
                )  # fmt: skip
                if level is not None:
                    ident = "apple:1005:9-26" if visitor.apple else visitor.mac
                    item = espresense_item(
                        ident=ident, mac=visitor.mac, room=room, rssi=level, power=cfg.phone_power,
                        noise=cfg.noise_db, interval=200 if visitor.apple else 1000,
                    )  # fmt: skip
                    items.append((level, item))
            for beacon in self.beacons if with_beacons else ():
                level = heard(
                    self.radio, distance=math.dist(beacon.position, gateway.position), power=beacon.measured_power,
                    config=cfg, walls=beacon.zone != gateway.zone, sensitivity=cfg.gateway_sensitivity,
                )  # fmt: skip
                if level is not None:
                    item = espresense_item(
                        ident=beacon.espresense_id, mac=beacon.mac, room=room, rssi=level,
                        power=beacon.measured_power, noise=cfg.noise_db, interval=300,
                    )  # fmt: skip
                    items.append((level, item))
            if items:
                items.sort(key=lambda pair: -pair[0])
                out.append((gateway.external_id, [item for _, item in items[: cfg.max_items_per_message]]))
        return out

    def _phone_scan(self, visitor: Visitor, t: datetime) -> None:
        where = visitor.at(t)
        for beacon in self.beacons:
            level = heard(
                self.phones, distance=math.dist(where, beacon.position), power=beacon.measured_power,
                config=self.config, walls=visitor.zone is None or visitor.zone.zone != beacon.zone,
                sensitivity=self.config.phone_sensitivity,
            )  # fmt: skip
            if level is not None:
                visitor.buffer.append(
                    {"at": iso(t), "rssi": round(level, 1), "kind": "ibeacon", "uuid": beacon.uuid,
                     "major": beacon.major, "minor": beacon.minor, "measured_power": beacon.measured_power}
                )  # fmt: skip
        del visitor.buffer[:-MAX_REPORT_ITEMS]  # an app that could not send keeps only the newest
        if visitor.next_report is not None and t >= visitor.next_report:
            visitor.next_report = t + timedelta(seconds=self.config.app_report_s)
            if visitor.buffer and visitor not in self._due_reports:
                self._due_reports.append(visitor)

    # -- the tick --------------------------------------------------------------------------------------
    def _prefill(self, now: datetime) -> None:
        """The shoppers already inside at ``now``: expected count = arrival rate × a typical visit."""
        self._prefilled = True
        expected = self.rate_per_s(now) * TYPICAL_VISIT_S
        for _ in range(poisson(self.rng, expected)):
            arrived = now - timedelta(seconds=self.rng.uniform(0, TYPICAL_VISIT_S))
            self._arrive(arrived, now)
        for visitor in list(self.inside):
            if visitor.leaves <= now:  # a short visit already over
                self.inside.remove(visitor)
                self._leave(visitor, now)

    def _second(self, t: datetime, *, publish: bool) -> list[tuple[str, list[dict[str, Any]]]]:
        for _ in range(poisson(self.rng, self.rate_per_s(t) * self.config.scan_s)):
            self._arrive(t, t)
        for visitor in list(self.inside):
            if visitor.leaves <= t:
                self.inside.remove(visitor)
                self._leave(visitor, t)
            else:
                self._move(visitor, t)
        for visitor in self.inside:
            if visitor.app is not None:
                self._phone_scan(visitor, t)
        return self._gateway_scan(t) if publish else []

    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]:
        if not self._prefilled:
            self._prefill(self._next_scan)
        step = timedelta(seconds=self.config.scan_s)
        due = 0 if now < self._next_scan else (now - self._next_scan) // step + 1
        cap = self.config.max_messages_per_step // max(1, len(self.gateways))
        # An accelerated clock: keep evenly spread gateway scans, never flood the broker. People, phones
        # and the ground truth draw from their own streams, so they stay the same whatever is skipped.
        keep = set(range(due)) if due <= cap else {i * due // cap for i in range(cap)}
        self._count("throttled_scans", due - len(keep))
        scans: list[tuple[str, list[dict[str, Any]]]] = []
        for index in range(due):
            scans.extend(self._second(self._next_scan, publish=index in keep))
            self._next_scan += step
        events = [
            self.ctx.events.raw(source=gw, format=FORMAT, body=orjson.dumps(items), type="presence.espresense")
            for gw, items in scans
        ]
        self._count("messages", len(events))
        self._count("readings", sum(len(items) for _, items in scans))
        self._send_reports()
        return events

    def _send_reports(self) -> None:
        due, self._due_reports = self._due_reports, []
        for index, visitor in enumerate(due):
            if index >= self.config.max_reports_per_step:
                self._due_reports.append(visitor)  # later, with more in it
                self._count("app_reports_deferred")
                continue
            self._post(visitor)

    def _post(self, visitor: Visitor) -> None:
        assert visitor.app is not None
        items, visitor.buffer = visitor.buffer, []
        visitor.reports += 1
        if self.outlet is None:
            self._count("app_reports_unsent")
            return
        user = visitor.app
        if user.enrollment is None:
            user.enrollment = self.outlet.enroll(tier=user.tier)
            self._count("app_enrolled" if user.enrollment else "app_enroll_failed")
            if user.enrollment is None:
                return
            self.truth.shoppers[visitor.key]["subject_id"] = user.enrollment.subject_id
        report = {"report_id": f"{self.ctx.run_id}-{visitor.key}-{visitor.reports}", "sightings": items}
        answer = self.outlet.post_report(user.enrollment.app_token, report)
        self._count("app_reports")
        if answer is None:
            self._count("app_reports_failed")
            return
        self._count("app_sightings_accepted", int(answer.get("accepted", 0)))
        self._count("app_sightings_dropped", int(answer.get("dropped", 0)))


def visitors_of(simulator: Simulator) -> list[StoreVisitors]:
    return [g for g in simulator.generators if isinstance(g, StoreVisitors)]


def attach_app(
    simulator: Simulator,
    credentials: Credentials,
    *,
    base_url: str,
    register_key: str | None = None,
    truth_path: Path | None = None,
    planted_path: Path | None = None,
) -> StoreVisitors | None:
    """Let the simulated app users register and post reports to a real platform (call ``close()`` after the
    run to save the ground truth and planted MACs)."""
    generators = visitors_of(simulator)
    key = register_key or credentials.admin_key or next(iter(credentials.device_keys.values()), None)
    if not generators or key is None:
        return None
    generators[0].attach(HttpAppOutlet(base_url, register_key=key), truth_path=truth_path, planted_path=planted_path)
    return generators[0]


register_generator(NAME, StoreVisitors)
