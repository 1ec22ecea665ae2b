"""The synthetic chain of stores behind ``tradeoff bench offers``, generated deterministically from a seed.

Why synthetic rather than ``presence.sim``: the benchmark needs an exact offered load (N sightings/s) and
the same stream for both measured paths, encoded before the clock starts. The radio model is the
simulator's in spirit (log-distance levels, σ = 4 dB noise), simplified to "the own zone is heard
strongly, one neighbouring zone weakly", which is all the tracker needs to enter zones.

Per store: six zones, one ESPresense gateway and one iBeacon per zone. Shoppers are either anonymous phones
(heard only by gateways, as daily tokens) or app users at tier 1, 2 or 3, whose app also reports the
beacons it hears (``AppReport`` items). Every phone — app or not — is heard by the gateways. Arrival ``i``
is scheduled at ``i / rate`` seconds and its event time *is* that schedule, so event time and offered load
agree exactly in both paths.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson

UUID = "5f2dd896-b886-4549-ae01-e41acd7a354a"
ZONES = ("entrance", "produce", "dairy", "bakery", "drinks", "checkout")
TARGET_ZONE = "dairy"
SHOPPERS_PER_STORE = 150
APP_MIX: tuple[tuple[int | None, float], ...] = ((None, 0.4), (1, 0.15), (2, 0.35), (3, 0.1))
BEACON_EVERY_S = 10.0
Kind = Literal["gateway", "app"]


def zone_name(store: int, zone: str) -> str:
    return f"s{store:02d}-{zone}"


def gateway_id(store: int, zone_index: int) -> str:
    return f"gw-s{store:02d}-{ZONES[zone_index]}"


def beacon_key(store: int, zone_index: int) -> str:
    """The identity key the tracker sees for a store beacon (``ibeacon:<uuid>/<major>/<minor>``)."""
    return f"ibeacon:{UUID}/{store + 1}/{zone_index + 1}"


@dataclass(frozen=True, slots=True)
class Shopper:
    key: str
    store: int
    tier: int | None  # None: no app (anonymous phone only)
    mac: str
    stops: tuple[tuple[int, float], ...]  # (zone index, from second); each stop lasts until the next one


@dataclass(frozen=True, slots=True)
class Arrival:
    """One sighting as it reaches the platform: a gateway's ESPresense reading or one app-reported beacon."""

    at_s: float
    kind: Kind
    store: int
    zone_index: int  # the receiver's zone (gateway) or the heard beacon's zone (app)
    rssi: float
    shopper: int  # index into ``World.shoppers``; -1 for a gateway hearing its beacon


@dataclass
class World:
    stores: int
    shoppers: list[Shopper]
    arrivals: list[Arrival]
    rate: float
    duration_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gateways(self) -> list[str]:
        return [gateway_id(s, z) for s in range(self.stores) for z in range(len(ZONES))]

    def receivers(self) -> list[dict[str, Any]]:
        """``sites.floor_plan["receivers"]``: gateways by external id, beacons by identity key."""
        out: list[dict[str, Any]] = []
        for s in range(self.stores):
            for z, zone in enumerate(ZONES):
                out.append({"key": gateway_id(s, z), "zone": zone_name(s, zone)})
                out.append({"key": beacon_key(s, z), "zone": zone_name(s, zone), "measured_power": -59})
        return out

    def app_users(self, tiers: tuple[int, ...] = (1, 2, 3)) -> list[Shopper]:
        return [s for s in self.shoppers if s.tier in tiers]


def build_world(*, rate: float, duration_s: float, seed: int = 1) -> World:
    """Enough stores and shoppers for ``rate`` sightings/s, their stream cut to exactly ``rate × duration``."""
    per_shopper = 2.0 + 2.0 * sum(w for tier, w in APP_MIX if tier is not None)  # gateways + app, per second
    concurrent = max(6, round(rate / per_shopper * 1.1))
    stores = max(1, round(concurrent / SHOPPERS_PER_STORE))
    rng = random.Random(seed)
    wanted = int(rate * duration_s)
    shoppers: list[Shopper] = []
    raw: list[tuple[float, Arrival]] = []
    while len(shoppers) < concurrent or len(raw) < wanted * 1.02:  # the cut below must never run short
        shopper = _shopper(rng, len(shoppers), len(shoppers) % stores, duration_s)
        raw.extend(_readings(rng, len(shoppers), shopper, duration_s))
        shoppers.append(shopper)
    for store in range(stores):
        for z in range(len(ZONES)):
            phase = rng.uniform(0, BEACON_EVERY_S)
            t = phase
            while t < duration_s:
                raw.append((t, Arrival(t, "gateway", store, z, round(rng.gauss(-62, 3), 1), -1)))
                t += BEACON_EVERY_S
    raw.sort(key=lambda pair: pair[0])
    arrivals = [
        Arrival(i / rate, a.kind, a.store, a.zone_index, a.rssi, a.shopper) for i, (_t, a) in enumerate(raw[:wanted])
    ]
    return World(stores=stores, shoppers=shoppers, arrivals=arrivals, rate=rate, duration_s=len(arrivals) / rate)


def _shopper(rng: random.Random, index: int, store: int, duration_s: float) -> Shopper:
    tier = rng.choices([t for t, _ in APP_MIX], weights=[w for _, w in APP_MIX])[0]
    # Most are inside already when the run starts (somewhere on their path); the rest walk in through the
    # entrance during the run. Stops last 30–120 s, longer than the tracker's 30 s minimum stay.
    if rng.random() < 0.8:
        start, first = -rng.uniform(0, 60), rng.randrange(len(ZONES))
    else:
        start, first = rng.uniform(0, duration_s * 0.5), 0
    stops = [(first, start)]
    t = start + rng.uniform(30, 120)
    while t < duration_s:
        stops.append((rng.randrange(1, len(ZONES)), t))
        t += rng.uniform(30, 120)
    mac = f"{rng.getrandbits(46) | (1 << 46):012x}"  # resolvable private address: top bits 01
    return Shopper(f"v{index:05d}", store, tier, mac, tuple(stops))


def _zone_at(shopper: Shopper, t: float) -> int:
    current = shopper.stops[0][0]
    for zone, since in shopper.stops:
        if since > t:
            break
        current = zone
    return current


def _readings(rng: random.Random, index: int, shopper: Shopper, duration_s: float) -> list[tuple[float, Arrival]]:
    """Once a second: the own zone's gateway and one neighbour's hear the phone; an app hears two beacons."""
    out: list[tuple[float, Arrival]] = []
    t = max(shopper.stops[0][1], 0.0) + rng.random()
    while t < duration_s:
        zone = _zone_at(shopper, t)
        near = zone + 1 if zone + 1 < len(ZONES) else zone - 1
        for z, level in ((zone, -65.0), (near, -84.0)):
            out.append((t, Arrival(t, "gateway", shopper.store, z, round(rng.gauss(level, 4), 1), index)))
            if shopper.tier is not None:
                heard = t + 0.01
                out.append((heard, Arrival(heard, "app", shopper.store, z, round(rng.gauss(level + 5, 4), 1), index)))
        t += 1.0
    return out


# -- encoding (before the clock starts) ---------------------------------------------------------------------


def espresense_payload(world: World, arrival: Arrival) -> dict[str, Any]:
    """What an ESPresense gateway publishes for one reading (the platform topic names the gateway)."""
    if arrival.shopper < 0:
        ident, mac = (
            f"iBeacon:{UUID}-{arrival.store + 1}-{arrival.zone_index + 1}",
            f"c0ffee{arrival.store:02x}{arrival.zone_index:04x}",
        )
        power = -59
    else:
        mac = world.shoppers[arrival.shopper].mac
        ident, power = mac, -62
    return {"mac": mac, "id": ident, "rssi@1m": power, "rssi": arrival.rssi, "rxAdj": 0, "rssiVar": 16.0, "int": 300}


def heard_beacon(arrival: Arrival, at: datetime) -> dict[str, Any]:
    """One ``HeardBeacon`` of an app report."""
    return {"at": at.isoformat(), "rssi": arrival.rssi, "kind": "ibeacon", "uuid": UUID,
            "major": arrival.store + 1, "minor": arrival.zone_index + 1, "measured_power": -59}  # fmt: skip


def encode_one(world: World, arrival: Arrival, index: int, t0: datetime) -> bytes:
    """The body as it arrives alone: an ESPresense JSON object, or an ``AppReport`` of one beacon."""
    if arrival.kind == "gateway":
        return orjson.dumps(espresense_payload(world, arrival))
    at = t0 + timedelta(seconds=arrival.at_s)
    return orjson.dumps({"report_id": f"r{index}", "sightings": [heard_beacon(arrival, at)]})


def campaign_specs(world: World, *, now: datetime) -> list[dict[str, Any]]:
    """Per store "enter the dairy aisle" (10 % off, priority 10) and one chain-wide welcome on store entry
    with a 10 % holdout. Caps are the defaults a merchant gets (one per shopper per day) and the tenant's
    fatigue cap (3 a day, 15 min apart) applies across them, so a shopper who just got one offer is
    skipped (``fatigue_gap``) for the other."""
    window = {"starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=30)).isoformat()}
    specs: list[dict[str, Any]] = [
        {"name": f"Dairy 10% ({zone_name(s, TARGET_ZONE)})", "status": "active", "priority": 10,
         "trigger": {"kind": "enter_zone", "zone": zone_name(s, TARGET_ZONE)},
         "offer": {"kind": "percent", "percent_off": 10, "title": "10% off dairy"}, **window}
        for s in range(world.stores)
    ]  # fmt: skip
    specs.append(
        {"name": "Welcome", "status": "active", "trigger": {"kind": "enter_store"}, "holdout": 0.1,
         "offer": {"kind": "amount", "amount_off_minor": 200, "currency": "EUR", "title": "2 € off today"},
         **window}
    )  # fmt: skip
    return specs
