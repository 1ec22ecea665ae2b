"""The privacy probe: shoppers whose raw inputs carry everything the platform must never store.

Shoppers (``sim.shoppers``) visit the demo store: gateways hear their phones (by MAC), the ones with the
tenant's app register (``POST /v1/me/register``) at consent tiers 0–3, send app events about themselves
(``POST /v1/me/events``) and sometimes change their mind (``PUT /v1/me/consent``), and everybody pays at
a till or a vending machine with a card whose number, CVV and track data end up in the POS payload.
A few deliberately broken messages (bad timestamps, non-JSON bodies, an unknown tenant) carry card
numbers and e-mail addresses into the dead-letter path. Every exact value sent is recorded in the planted
file for ``tradeoff privacy breach-drill``.

Device events (gateways, tills, machines) go through the runner's senders like any generator's, so they
travel over HTTP and MQTT as the world's devices do. The app's calls and raw bytes need the probe's own
outlet (``probe_io``): the probe stays silent until ``attach_probe`` connects one, so running every
registered generator (the default) never plants anything by accident.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from tradeoff.sim.base import EventDict, GeneratorContext, iso
from tradeoff.sim.generators import register_generator
from tradeoff.sim.planted import PlantedValues
from tradeoff.sim.probe_io import Enrollment, HttpProbeOutlet, ProbeOutlet
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import Credentials
from tradeoff.sim.shoppers import DEFAULT_MIX, Shopper, make_shoppers

PROBE = "privacy-probe"
# A visit, in simulated seconds from arrival: arrive, browse, offers, feedback, pay, leave.
VISIT_STEPS = (0, 20, 40, 60, 80, 100)
FIRST_ARRIVAL = timedelta(seconds=5)
STAGGER = timedelta(seconds=12)  # between the shoppers' first arrivals
# The broken messages, at these simulated seconds after the start (each once per run).
QUARANTINE_AT = {
    "till_bad_time": 8,
    "machine_bad_time": 16,
    "http_not_json": 24,
    "mqtt_not_json": 32,
    "mqtt_unknown_tenant": 40,
    "app_bad_time": 50,  # needs an enrolled shopper with consent: retried until there is one
}
UNKNOWN_TENANT = "probe-unknown-tenant"


@dataclass
class _ShopperState:
    index: int
    shopper: Shopper
    rng: random.Random
    next_visit: datetime
    visit_start: datetime | None = None
    step: int = 0
    visits: int = 0
    tier: int | None = None
    enrollment: Enrollment | None = None
    app_seq: int = 0


class PrivacyProbe:
    name = PROBE

    def __init__(self, ctx: GeneratorContext, *, mix: tuple[tuple[int | None, bool, int | None], ...] = DEFAULT_MIX):
        self.ctx = ctx
        self.shoppers = make_shoppers(ctx.rng(f"{self.name}:shoppers"), mix)
        world = ctx.world
        self.tenant_slug = world.tenant_slug
        self.gateways = list(world.devices_of("gateway"))
        self.tills = [d.external_id for d in world.devices_of("pos")]
        self.machines = [d.external_id for d in world.devices_of("vending_machine")]
        store = next((site for site in world.sites if site.floor_plan is not None), None)
        self.local = _zone(store.timezone if store else "UTC")
        self._states = [
            _ShopperState(
                index, shopper, ctx.rng(f"{self.name}:{shopper.key}"), ctx.start + FIRST_ARRIVAL + STAGGER * index
            )
            for index, shopper in enumerate(self.shoppers)
        ]
        self._quarantine = sorted((ctx.start + timedelta(seconds=s), name) for name, s in QUARANTINE_AT.items())
        self.skipped: set[str] = set()
        self._stuck = False
        self.outlet: ProbeOutlet | None = None
        self.planted = PlantedValues()
        self.planted_path: Path | None = None
        self.stats: dict[str, int] = {}

    # -- wiring ------------------------------------------------------------------------------------------
    def attach(self, outlet: ProbeOutlet, *, planted_path: Path | None) -> None:
        """Start probing through ``outlet``; planted values are merged into ``planted_path`` as they are sent."""
        self.outlet = outlet
        self.planted_path = planted_path

    def skip(self, *broken: str) -> None:
        """Leave out some of the broken messages (names from ``QUARANTINE_AT``)."""
        unknown = set(broken) - set(QUARANTINE_AT)
        if unknown:
            raise ValueError(f"unknown broken message(s): {', '.join(sorted(unknown))}")
        self.skipped.update(broken)

    def close(self) -> None:
        self.save()
        if self.outlet is not None:
            self.outlet.close()

    def save(self) -> None:
        if self.planted_path is not None:
            self.planted.save(self.planted_path)

    def summary(self) -> dict[str, Any]:
        return {"stats": dict(sorted(self.stats.items())), "planted": self.planted.count()}

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    # -- the generator -----------------------------------------------------------------------------------
    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]:
        if self.outlet is None:
            return []
        out: list[EventDict] = []
        # Everything due, in time order (shoppers by index at equal times), whatever the step size.
        while True:
            due = [(self._next_action(state), index) for index, state in enumerate(self._states)]
            at, index = min(due)
            waiting = self._quarantine[0][0] if self._quarantine and not self._stuck else None
            if waiting is not None and waiting <= at and waiting <= now:
                out += self._next_broken(now)
                continue
            if at > now:
                break
            out += self._step(self._states[index], at)
        self._stuck = False
        self._count("device_events", len(out))
        self.save()
        return out

    def _next_broken(self, now: datetime) -> list[EventDict]:
        at, name = self._quarantine[0]
        if name in self.skipped:
            self._quarantine.pop(0)
            return []
        made = self._broken(name, at)
        if made is None:
            self._stuck = True  # not possible yet (app_bad_time before anyone consented): next tick
            return []
        self._quarantine.pop(0)
        self._count(f"broken_{name}")
        return made

    @staticmethod
    def _next_action(state: _ShopperState) -> datetime:
        if state.visit_start is None:
            return state.next_visit
        return state.visit_start + timedelta(seconds=VISIT_STEPS[state.step])

    def _step(self, state: _ShopperState, at: datetime) -> list[EventDict]:
        if state.visit_start is None:
            state.visit_start, state.step = state.next_visit, 0
            state.visits += 1
        out = self._visit_step(state, state.step, at)
        state.step += 1
        if state.step == len(VISIT_STEPS):
            state.next_visit = at + timedelta(minutes=state.rng.uniform(15, 40))
            state.visit_start = None
        return out

    def _visit_step(self, state: _ShopperState, step: int, at: datetime) -> list[EventDict]:
        shopper = state.shopper
        if step == 0:
            if shopper.has_app and state.enrollment is None:
                self._enroll(state)
            self._app(state, at, "presence.entered", {"zone": "entrance", "os": shopper.platform})
            return [self._sighting(state, at, zone="entrance")]
        if step == 1:
            gateway = state.rng.choice(self.gateways) if self.gateways else None
            zone = gateway.zone if gateway is not None and gateway.zone else "grocery"
            if state.enrollment is not None:  # (planted only when actually sent)
                self._app(state, at, "presence.zone_enter", self._app_presence(state, zone))
            return [self._sighting(state, at, zone=zone)]
        if step == 2 and state.enrollment is not None:
            offer = f"offer-{state.rng.randrange(1, 9)}"
            self._plant("device_id", shopper.install_id)
            self._app(state, at, "offers.viewed", {"offer_id": offer, "placement": "home", "idfv": shopper.install_id})
            self._plant("email", shopper.email)
            self._app(state, at, "coupons.clipped", {"offer_id": offer, "email": shopper.email})
        if step == 3 and state.enrollment is not None:
            self._app(state, at, "offers.feedback", self._feedback(state))
        if step in (2, 3):
            return []
        if step == 4:
            return self._payment(state, at)
        changes = state.visits == 1 and shopper.later_tier is not None and state.enrollment is not None
        if changes and self._change_consent(state):
            self._count("consent_changes")
        return [self._sighting(state, at, zone="entrance")]

    # -- shoppers' phones, apps and cards ------------------------------------------------------------------
    def _enroll(self, state: _ShopperState) -> None:
        assert self.outlet is not None and state.shopper.tier is not None
        enrollment = self.outlet.enroll(tier=state.shopper.tier, gpc=state.shopper.gpc)
        if enrollment is None:
            self._count("enroll_failed")
            return
        state.enrollment, state.tier = enrollment, state.shopper.tier
        self._count("enrolled")

    def _change_consent(self, state: _ShopperState) -> bool:
        tier = state.shopper.later_tier
        if self.outlet is None or state.enrollment is None or tier is None:
            return False
        if not self.outlet.change_consent(state.enrollment.app_token, tier=tier, gpc=state.shopper.gpc):
            return False
        state.tier = tier
        return True

    def _sighting(self, state: _ShopperState, at: datetime, *, zone: str) -> EventDict:
        """A store gateway hears the phone: its MAC under one of the names gateways use, in one of the
        notations equipment writes."""
        shopper = state.shopper
        field = state.rng.choice(("phone_mac", "mac", "device_mac", "client_mac", "wifi_mac", "bt_mac"))
        mac = state.rng.choice(shopper.macs)
        self._plant("mac", mac)
        gateway = next((g for g in self.gateways if g.zone == zone), self.gateways[0] if self.gateways else None)
        source = gateway.external_id if gateway is not None else "gw-entrance"
        payload = {"zone": zone, "rssi": round(state.rng.uniform(-85, -45)), "channel": 37, field: mac}
        return self.ctx.events.make(type="presence.sighting", source=source, occurred_at=at, payload=payload)

    def _app_presence(self, state: _ShopperState, zone: str) -> dict[str, Any]:
        shopper = state.shopper
        device: dict[str, Any] = {"model": "iPhone15,2" if shopper.platform == "ios" else "Pixel 8"}
        if shopper.platform == "ios":
            device["idfa"] = shopper.ad_id
        else:
            device["gaid"] = shopper.ad_id
            device["android_id"] = shopper.android_id
        self._plant("device_id", shopper.install_id, shopper.ad_id, shopper.android_id or "")
        self._plant("mac", shopper.mac)
        return {
            "zone": zone,
            "beacon": f"bcn-{zone}",
            "rssi": round(state.rng.uniform(-80, -50)),
            "install_id": shopper.install_id,
            "wifi_mac": shopper.mac,
            "device": device,
        }

    def _feedback(self, state: _ShopperState) -> dict[str, Any]:
        shopper, card = state.shopper, state.shopper.card
        note = (
            f"{shopper.name} here - my card {card.spaced} was declined at the till, "
            f"please call me on {shopper.phone} or mail {shopper.email}"
        )
        self._plant("name", shopper.name)
        self._plant("pan", card.pan, card.spaced)
        self._plant("phone", shopper.phone, shopper.phone_intl)
        self._plant("email", shopper.email)
        return {
            "offer_id": "offer-1",
            "rating": state.rng.randrange(1, 6),
            "note": note,
            "customer_name": shopper.name,
            "email": shopper.email,
            "phone": shopper.phone_intl,
        }

    def _app(self, state: _ShopperState, at: datetime, type_: str, payload: dict[str, Any]) -> None:
        """One event from the shopper's app, ids as apps make them (install id + counter)."""
        if state.enrollment is None or self.outlet is None:
            return
        state.app_seq += 1
        event = {
            "event_id": f"{state.shopper.install_id}-{state.app_seq:05d}",
            "type": type_,
            "occurred_at": at.astimezone(self.local).isoformat(timespec="milliseconds"),
            "schema_version": 1,
            "payload": payload,
        }
        self._plant("device_id", state.shopper.install_id)
        for status in self.outlet.send_app_events(state.enrollment.app_token, [event], gpc=state.shopper.gpc):
            self._count(f"app_{status}")

    def _payment(self, state: _ShopperState, at: datetime) -> list[EventDict]:
        shopper, card = state.shopper, state.shopper.card
        out: list[EventDict] = []
        # Alternate between the till and the vending machines, half the shoppers starting with each.
        if self.tills and (not self.machines or (state.index + state.visits) % 2 == 1):
            out.append(self._till_payment(state, at))
        else:
            out.append(self._vending_sale(state, at, state.rng.choice(self.machines)))
        if state.enrollment is not None and self.tills:
            # The till scanned the app's loyalty code: a basket linked to the shopper (kept at tier 3 only).
            self._plant("card_fingerprint", card.fingerprint)
            self._plant("loyalty_id", shopper.loyalty_id)
            payload = {
                "subject": state.enrollment.subject_id,
                "basket_id": f"b-{state.rng.getrandbits(40):010x}",
                "total_minor": state.rng.randrange(150, 9000),
                "currency": "EUR",
                "card_fingerprint": card.fingerprint,
                "loyalty_id": shopper.loyalty_id,
                "items": [{"sku": f"sku-{state.rng.randrange(100, 999)}", "qty": state.rng.randrange(1, 4)}],
            }
            out.append(
                self.ctx.events.make(type="pos.basket.linked", source=self.tills[0], occurred_at=at, payload=payload)
            )
        return out

    def _till_payment(self, state: _ShopperState, at: datetime) -> EventDict:
        """What a careless POS integration forwards: the whole tender, card number, CVV, track 2 and all."""
        shopper, card = state.shopper, state.shopper.card
        number = state.rng.choice((card.pan, card.spaced, card.dashed))
        track2 = card.track2()
        note = f"{shopper.name} paid by card {card.dashed}, CVV2: {card.cvv}"
        self._plant("pan", number, card.pan)
        self._plant("track", track2)
        self._plant("sad", f"CVV2: {card.cvv}")
        self._plant("name", shopper.name, shopper.name.upper())
        self._plant("email", shopper.email)
        self._plant("phone", shopper.phone)
        payload = {
            "amount_minor": state.rng.randrange(150, 9000),
            "currency": "EUR",
            "tender": {
                "type": "card",
                "brand": card.brand,
                "card_number": number,
                "expiry": card.expiry,
                "cvv": card.cvv,
                "track2": track2,
                "entry_mode": "swipe",
                "cardholder_name": shopper.name.upper(),
            },
            "customer": {"name": shopper.name, "email": shopper.email, "phone": shopper.phone},
            "note": note,
        }
        till = self.tills[0]
        return self.ctx.events.make(type="pos.transaction", source=till, occurred_at=at, payload=payload)

    def _vending_sale(self, state: _ShopperState, at: datetime, machine: str) -> EventDict:
        """A cashless reader that hands over everything it read: the number as an integer, track 1 with the
        cardholder's name, EMV tag 57."""
        shopper, card = state.shopper, state.shopper.card
        track1 = card.track1(shopper.name)
        first, _, last = shopper.name.upper().partition(" ")
        self._plant("pan", card.pan)
        self._plant("track", track1, card.emv57())
        self._plant("mac", shopper.mac)
        self._plant("name", f"{last}/{first}")
        payload = {
            "column": f"{state.rng.choice('ABCD')}{state.rng.randrange(1, 9)}",
            "price_minor": state.rng.choice((150, 200, 250, 320)),
            "currency": "EUR",
            "cashless": {
                "reader": "mdb-cashless-1",
                "pan": int(card.pan),
                "track1": track1,
                "emv_57": card.emv57(),
                "card_holder": f"{last}/{first}",
            },
            "phone_mac": shopper.mac,
        }
        return self.ctx.events.make(type="vending.sale", source=machine, occurred_at=at, payload=payload)

    # -- broken messages ----------------------------------------------------------------------------------
    def _broken(self, name: str, at: datetime) -> list[EventDict] | None:
        assert self.outlet is not None
        shopper = self.shoppers[list(QUARANTINE_AT).index(name) % len(self.shoppers)]
        card = shopper.card
        if name == "till_bad_time" and self.tills:
            self._plant("pan", card.pan)
            self._plant("name", shopper.name)
            self._plant("email", shopper.email)
            event = self.ctx.events.make(
                type="pos.transaction",
                source=self.tills[0],
                occurred_at=at,
                payload={"card_number": card.pan, "cardholder_name": shopper.name, "receipt_email": shopper.email},
                kind="bad",
            )
            return [{**event, "occurred_at": "2026-11-31T25:61:00Z"}]
        if name == "machine_bad_time" and self.machines:
            self._plant("pan", card.spaced)
            self._plant("track", card.emv57())
            self._plant("mac", shopper.mac)
            event = self.ctx.events.make(
                type="vending.sale",
                source=self.machines[0],
                occurred_at=at,
                payload={"cashless": {"pan": card.spaced, "emv_57": card.emv57()}, "phone_mac": shopper.mac},
                kind="bad",
            )
            return [{**event, "occurred_at": "yesterday at noon"}]
        if name == "http_not_json":
            self._plant("email", shopper.email)
            self._plant("pan", card.dashed)
            body = f"RECEIPT\r\nto: {shopper.email}\r\ncard: {card.dashed}\r\n".encode()
            self._count("raw_http_sent", self.outlet.send_raw_http(body, content_type="text/plain") is not None)
            return []
        if name == "mqtt_not_json":
            self._plant("email", shopper.email)
            self._plant("phone", shopper.phone_intl)
            self._plant("pan", card.spaced)
            body = f"\xffRECEIPT {shopper.email} tel {shopper.phone_intl} card {card.spaced}".encode("latin-1")
            topic = (self.tenant_slug, self.machines[-1] if self.machines else "vm-1", "vending.receipt")
            self._count("raw_mqtt_sent", self.outlet.send_raw_mqtt(topic, body))
            return []
        if name == "mqtt_unknown_tenant":
            self._plant("pan", card.pan)
            self._plant("email", shopper.email)
            envelope = {
                "event_id": f"{self.ctx.run_id}-lost-1",
                "occurred_at": iso(at),
                "payload": {"card_number": card.pan, "email": shopper.email},
            }
            topic = (UNKNOWN_TENANT, self.machines[0] if self.machines else "vm-1", "vending.sale")
            self._count("raw_mqtt_sent", self.outlet.send_raw_mqtt(topic, orjson.dumps(envelope)))
            return []
        if name == "app_bad_time":
            state = next((s for s in self._states if s.enrollment is not None and (s.tier or 0) >= 1), None)
            if state is None:
                return None
            self._plant("pan", state.shopper.card.dashed)
            self._plant("email", state.shopper.email)
            self._plant("device_id", state.shopper.install_id)
            state.app_seq += 1
            event = {
                "event_id": f"{state.shopper.install_id}-{state.app_seq:05d}",
                "type": "offers.feedback",
                "occurred_at": "2026-02-30T10:00:00+01:00",
                "payload": {"note": f"card {state.shopper.card.dashed}, receipt to {state.shopper.email}"},
            }
            assert state.enrollment is not None
            for status in self.outlet.send_app_events(state.enrollment.app_token, [event], gpc=state.shopper.gpc):
                self._count(f"app_{status}")
            return []
        return []

    def _plant(self, kind: str, *values: str) -> None:
        self.planted.add(kind, *(value for value in values if value))


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return UTC


def probes_of(simulator: Simulator) -> list[PrivacyProbe]:
    return [generator for generator in simulator.generators if isinstance(generator, PrivacyProbe)]


def attach_probe(
    simulator: Simulator,
    credentials: Credentials,
    *,
    base_url: str,
    planted_path: Path,
    mqtt_url: str | None = None,
    topic_prefix: str = "tradeoff",
    register_key: str | None = None,
) -> PrivacyProbe | None:
    """Connect the simulator's privacy probe (if it runs one) to a real platform; returns it, to ``close()``
    after the run. The app backend registers shoppers with ``register_key`` (default: the admin key, else
    a device key); raw bytes over HTTP use a device key."""
    probes = probes_of(simulator)
    if not probes:
        return None
    key = register_key or credentials.admin_key or next(iter(credentials.device_keys.values()), None)
    if key is None:
        raise ValueError("the privacy probe needs an admin or device key to register shoppers")
    probe = probes[0]
    outlet = HttpProbeOutlet(
        base_url, register_key=key, device_keys=credentials.device_keys, mqtt_url=mqtt_url, topic_prefix=topic_prefix
    )
    probe.attach(outlet, planted_path=planted_path)
    return probe


register_generator(PROBE, PrivacyProbe)
