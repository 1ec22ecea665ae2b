"""Wire a runnable simulator from a world, its credentials and where the platform listens."""

from __future__ import annotations

import hashlib
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tradeoff.sim.base import GeneratorContext, iso
from tradeoff.sim.clock import SimClock
from tradeoff.sim.generators import build_generators
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import Credentials
from tradeoff.sim.transports import HttpSender, Sender, TransportName, assign_transports
from tradeoff.sim.world import World


@dataclass(frozen=True, slots=True)
class SimOptions:
    speed: float = 1.0
    seed: int | None = None  # None: a random seed (reported in the summary, to reproduce a run)
    start: datetime | None = None  # None: now
    step_seconds: float = 1.0  # real seconds between steps
    generators: tuple[str, ...] | None = None  # None: every registered generator
    topic_prefix: str = "tradeoff"
    mqtt_client_id: str | None = None


def run_id_for(seed: int, start: datetime) -> str:
    """Same seed and start → same run id → the same event ids, so replaying a run stores nothing twice."""
    return hashlib.sha256(f"{seed}:{iso(start)}".encode()).hexdigest()[:8]


def http_devices(world: World, *, mqtt: bool) -> list[str]:
    """The devices that will speak HTTP (and so need a device key of their own)."""
    routes = assign_transports([d.external_id for d in world.devices], mqtt=mqtt)
    return [device for device, transport in routes.items() if transport == "http"]


def build_simulator(
    world: World,
    credentials: Credentials,
    *,
    base_url: str,
    mqtt_url: str | None = None,
    options: SimOptions | None = None,
    on_step: Callable[[Simulator], None] | None = None,
) -> Simulator:
    """HTTP for every device, or half of them over MQTT when ``mqtt_url`` is given."""
    options = options or SimOptions()
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    clock = SimClock(start=options.start, speed=options.speed)
    run_id = run_id_for(seed, clock.start) if options.seed is not None else secrets.token_hex(4)
    ctx = GeneratorContext(world=world, start=clock.start, seed=seed, run_id=run_id)
    routes = assign_transports([d.external_id for d in world.devices], mqtt=bool(mqtt_url))
    stop = threading.Event()  # shared: HTTP retries give up promptly once the simulator is stopped
    http = HttpSender(base_url, keys=credentials.device_keys, stop=stop)
    senders: dict[TransportName, Sender] = {"http": http}
    if mqtt_url:
        from tradeoff.sim.mqtt_sender import MqttSender

        try:
            senders["mqtt"] = MqttSender(
                mqtt_url,
                tenant_slug=credentials.tenant_slug,
                topic_prefix=options.topic_prefix,
                client_id=options.mqtt_client_id,
            )
        except Exception:
            http.close()
            raise
    return Simulator(
        clock=clock,
        generators=build_generators(ctx, options.generators),
        senders=senders,
        routes=routes,
        step_seconds=options.step_seconds,
        on_step=on_step,
        stop_event=stop,
        info={"tenant": credentials.tenant_slug, "seed": seed, "run_id": run_id},
    )
