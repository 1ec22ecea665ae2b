"""The simulated vending fleet: generator ``vending-fleet`` and the wiring that runs it against a platform.

Machines (``sim_fleet``) sell by their stochastic demand (``sim_model``), send a DEX audit every
``audit_every`` of simulated time (± 10 %, staggered per machine) as a raw ``dex`` message, and a
temperature reading every ``telemetry_every``. Drivers (``sim_driver``) follow the dispatched plans and fill
the machines, so the loop closes: audits → stock → plan → fill → stock.

The generator is silent until ``attach_fleet`` gives it a fleet (the demo tenant's simulator builds every
registered generator; only the operator's simulator attaches one). Volume is bounded: per machine and
simulated day, 24 h / ``audit_every`` audits (6 by default) and 24 h / ``telemetry_every`` readings (12).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tradeoff.sim.base import EventDict, Every, GeneratorContext
from tradeoff.sim.clock import SimClock
from tradeoff.sim.generators import register_generator
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import Credentials
from tradeoff.sim.transports import HttpSender, Sender, TransportName
from tradeoff.vending.sim_driver import Drivers, HttpPlanClient, PlanClient
from tradeoff.vending.sim_fleet import FleetSpec, fleet_world
from tradeoff.vending.sim_model import FleetModel
from tradeoff.vending.sim_seed import FleetSeed

FLEET_GENERATOR = "vending-fleet"


@dataclass(frozen=True, slots=True)
class FleetOptions:
    audit_every: timedelta = timedelta(hours=4)
    telemetry_every: timedelta = timedelta(hours=2)
    poll_every: timedelta = timedelta(minutes=20)  # how often drivers look for dispatched plans


class VendingFleetGenerator:
    """Audits and telemetry of every machine, and the drivers' visits, in time order within a tick."""

    name = FLEET_GENERATOR

    def __init__(self, ctx: GeneratorContext) -> None:
        self.ctx = ctx
        self.model: FleetModel | None = None
        self.drivers: Drivers | None = None
        self._audits: dict[str, Every] = {}
        self._telemetry: dict[str, Every] = {}
        self._serials: dict[str, str] = {}  # platform machine id -> serial
        self._rng = ctx.rng(self.name)

    def attach(
        self,
        model: FleetModel,
        *,
        machine_ids: Mapping[str, str],
        client: PlanClient | None = None,
        options: FleetOptions | None = None,
    ) -> None:
        """Give the generator its fleet (and drivers when ``client`` is given); starts at the context's start."""
        options = options or FleetOptions()
        self.model = model
        self._serials = {machine_id: serial for serial, machine_id in machine_ids.items()}
        start = self.ctx.start
        for index, serial in enumerate(model.machines):
            rng = random.Random(f"{self.ctx.seed}:{self.name}:{serial}")
            stagger = options.audit_every * (index + 1) / (len(model.machines) + 1)
            self._audits[serial] = Every(start + stagger, options.audit_every, rng=rng, jitter=0.1)
            self._telemetry[serial] = Every(start + stagger / 2, options.telemetry_every, rng=rng, jitter=0.1)
        if client is not None:
            self.drivers = Drivers(client=client, fill=self._fill, poll=options.poll_every)

    def _fill(self, machine_id: str, picks: Mapping[str, int], at: datetime) -> tuple[dict[str, int], datetime]:
        """Fill at ``at``, or later if the machine was already read past it (a plan picked up late)."""
        serial = self._serials.get(machine_id)
        if serial is None or self.model is None:
            return {}, at
        at = max(at, self.model.machines[serial].sampled_until)
        return self.model.fill(serial, picks, at), at

    def tick(self, now: datetime, elapsed: timedelta) -> Iterator[EventDict]:
        model = self.model
        if model is None:
            return
        actions: list[tuple[datetime, int, str, Any]] = []
        for serial, cadence in self._audits.items():
            actions.extend((at, 1, serial, None) for at in cadence.due(now))
        for serial, cadence in self._telemetry.items():
            actions.extend((at, 2, serial, None) for at in cadence.due(now))
        if self.drivers is not None:
            actions.extend((stop.eta, 0, stop.machine_id, stop) for stop in self.drivers.due(now))
        for at, kind, key, stop in sorted(actions, key=lambda a: (a[0], a[1], a[2])):
            if kind == 0 and self.drivers is not None:
                self.drivers.serve(stop, at)
                continue
            device = model.machines[key].spec.device
            if kind == 1:
                body = model.audit(key, at)
                yield self.ctx.events.raw(source=device, format="dex", body=body, type="vending.dex_audit", kind="dex")
            else:
                celsius = round(5.0 + self._rng.gauss(0, 0.4), 2)
                payload = {"kind": "temperature", "celsius": celsius}
                yield self.ctx.events.make(type="vending.telemetry", source=device, occurred_at=at, payload=payload)

    def summary(self) -> dict[str, Any]:
        if self.model is None:
            return {}
        drivers = vars(self.drivers.stats) if self.drivers is not None else {}
        return {"machines": len(self.model.machines), **self.model.totals(), "drivers": dict(drivers)}


register_generator(FLEET_GENERATOR, VendingFleetGenerator)


class FleetSimulator(Simulator):
    """A simulator that also closes the drivers' HTTP client."""

    plan_client: HttpPlanClient | None = None

    def summary(self) -> dict[str, Any]:
        """The runner's summary plus the fleet's: units sold, lost to empty columns, filled; the drivers' work."""
        fleet = [g.summary() for g in self.generators if isinstance(g, VendingFleetGenerator)]
        return super().summary() | ({"fleet": fleet[0]} if fleet else {})

    def close(self) -> None:
        super().close()
        if self.plan_client is not None:
            self.plan_client.close()
            self.plan_client = None


def fleet_generator(simulator: Simulator) -> VendingFleetGenerator:
    for generator in simulator.generators:
        if isinstance(generator, VendingFleetGenerator):
            return generator
    raise LookupError(f"the simulator has no {FLEET_GENERATOR!r} generator")


def build_fleet_simulator(
    spec: FleetSpec,
    seed: FleetSeed,
    *,
    clock: SimClock,
    base_url: str,
    mqtt_url: str | None = None,
    topic_prefix: str = "tradeoff",
    random_seed: int = 0,
    options: FleetOptions | None = None,
    drivers: bool = True,
    mqtt_client_id: str | None = None,
) -> FleetSimulator:
    """The operator's simulator on ``clock``: every machine over MQTT (HTTP without ``mqtt_url``), with drivers
    using the seeded admin key. The physical fleet resumes from ``seed.resume``."""
    from tradeoff.sim.session import run_id_for

    credentials: Credentials = seed.credentials
    run_id = run_id_for(random_seed, clock.start)
    ctx = GeneratorContext(world=fleet_world(spec), start=clock.start, seed=random_seed, run_id=run_id)
    generator = VendingFleetGenerator(ctx)
    model = FleetModel(spec, start=clock.start, seed=random_seed, resume=seed.resume)
    client = HttpPlanClient(base_url, api_key=credentials.admin_key) if drivers and credentials.admin_key else None
    generator.attach(model, machine_ids=seed.machine_ids, client=client, options=options)
    stop = threading.Event()
    senders: dict[TransportName, Sender] = {"http": HttpSender(base_url, keys=credentials.device_keys, stop=stop)}
    transport: TransportName = "http"
    if mqtt_url:
        from tradeoff.sim.mqtt_sender import MqttSender

        try:
            senders["mqtt"] = MqttSender(
                mqtt_url, tenant_slug=credentials.tenant_slug, topic_prefix=topic_prefix, client_id=mqtt_client_id
            )
        except Exception:
            senders["http"].close()
            if client is not None:
                client.close()
            raise
        transport = "mqtt"
    simulator = FleetSimulator(
        clock=clock,
        generators=[generator],
        senders=senders,
        routes={m.device: transport for m in spec.machines},
        stop_event=stop,
        info={"tenant": credentials.tenant_slug, "seed": random_seed, "run_id": run_id},
    )
    simulator.plan_client = client
    return simulator
