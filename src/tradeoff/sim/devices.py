"""Device generators: ``device.heartbeat`` for every device, ``device.telemetry`` per device kind."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tradeoff.sim.base import EventDict, Every, GeneratorContext
from tradeoff.sim.models import Cooler, Drift, poisson, traffic_rate
from tradeoff.sim.world import DeviceSpec, SiteSpec

HEARTBEAT = "device.heartbeat"
TELEMETRY = "device.telemetry"


class HeartbeatGenerator:
    """Each device says it is alive every ``interval`` (±5 %): uptime, firmware, signal, battery."""

    name = "heartbeat"

    def __init__(self, ctx: GeneratorContext, *, interval: timedelta = timedelta(seconds=30)) -> None:
        self.ctx = ctx
        self._devices: list[_Beat] = []
        for device in ctx.world.devices:
            # One stream per device for values, another for timing: results do not depend on the step size.
            rng = ctx.rng(f"{self.name}:{device.external_id}")
            boot = ctx.start - timedelta(seconds=rng.uniform(3600, 20 * 86400))
            first = ctx.start + timedelta(seconds=rng.uniform(0, min(5.0, interval.total_seconds())))
            battery = rng.uniform(60, 100) if device.power == "battery" else None
            timing = ctx.rng(f"{self.name}:{device.external_id}:cadence")
            beat = _Beat(device, Every(first, interval, rng=timing, jitter=0.05), rng, boot, _signal(device), battery)
            self._devices.append(beat)

    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]:
        for beat in self._devices:
            for at in beat.cadence.due(now):
                payload: dict[str, Any] = {
                    "uptime_s": int((at - beat.boot).total_seconds()),
                    "firmware": beat.device.firmware,
                }
                if beat.signal is not None:
                    payload["rssi_dbm"] = round(beat.signal.step(beat.rng))
                if beat.battery is not None:
                    days = (at - self.ctx.start).total_seconds() / 86400
                    payload["battery_pct"] = round(max(0.0, beat.battery - 0.4 * days), 1)
                yield self.ctx.events.make(
                    type=HEARTBEAT, source=beat.device.external_id, occurred_at=at, payload=payload, kind="hb"
                )


@dataclass
class _Beat:
    device: DeviceSpec
    cadence: Every
    rng: random.Random
    boot: datetime
    signal: Drift | None
    battery: float | None


def _signal(device: DeviceSpec) -> Drift | None:
    if device.link == "wifi":
        return Drift(value=-58, mean=-58, low=-90, high=-35, volatility=1.5)
    if device.link == "cellular":
        return Drift(value=-85, mean=-85, low=-115, high=-60, volatility=2.0)
    return None


Reading = Callable[[datetime, float], dict[str, Any]]


@dataclass
class _Stream:
    device: DeviceSpec
    cadence: Every
    read: Reading  # (occurred_at, seconds since the previous reading) → payload
    last: datetime


class TelemetryGenerator:
    """Kind-specific readings: cooler temperatures and doors, entrance counts following the day's traffic,
    gateway load, screen and till status."""

    name = "telemetry"

    def __init__(self, ctx: GeneratorContext) -> None:
        self.ctx = ctx
        self._streams: list[_Stream] = []
        for device in ctx.world.devices:
            rng = ctx.rng(f"{self.name}:{device.external_id}")
            made = _reader(rng, device, ctx.world.site(device.site))
            if made is None:
                continue
            seconds, read = made
            first = ctx.start + timedelta(seconds=rng.uniform(0, min(10.0, seconds)))
            # Timing draws from its own stream: a step that covers several readings must not reorder the draws.
            timing = ctx.rng(f"{self.name}:{device.external_id}:cadence")
            cadence = Every(first, timedelta(seconds=seconds), rng=timing, jitter=0.02)
            self._streams.append(_Stream(device, cadence, read, ctx.start))

    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]:
        for stream in self._streams:
            for at in stream.cadence.due(now):
                seconds = max(0.0, (at - stream.last).total_seconds())
                stream.last = at
                yield self.ctx.events.make(
                    type=TELEMETRY,
                    source=stream.device.external_id,
                    occurred_at=at,
                    payload=stream.read(at, seconds),
                    kind="tm",
                )


def _reader(rng: random.Random, device: DeviceSpec, site: SiteSpec) -> tuple[float, Reading] | None:
    """How often a device of this kind reports, and how its reading is made (None: heartbeats only)."""
    zone = _zone(site.timezone)

    def rate(at: datetime) -> float:
        return traffic_rate(at.astimezone(zone), open_hour=site.open_hour, close_hour=site.close_hour)

    if device.kind in ("vending_machine", "sensor"):
        cooler = Cooler(temperature_c=rng.uniform(3.5, 5.0))
        door = _Door(rng, opens_per_hour=0.3 if device.kind == "vending_machine" else 6.0)
        fridge = device.kind == "sensor"

        def cooling(at: datetime, seconds: float) -> dict[str, Any]:
            is_open = door.step(seconds, busy=rate(at) / 3 if fridge else 1.0)
            out: dict[str, Any] = {
                "temperature_c": cooler.step(rng, seconds, door_open=is_open),
                "door_open": is_open,
                "setpoint_c": cooler.setpoint_c,
            }
            if fridge:
                out["humidity_pct"] = round(rng.uniform(55, 70), 1)
            else:
                out["compressor_on"] = cooler.temperature_c > cooler.setpoint_c + 0.3
            return out

        return (120.0 if fridge else 60.0), cooling
    if device.kind == "camera":

        def counts(at: datetime, seconds: float) -> dict[str, Any]:
            expected = rate(at) * seconds / 60
            return {
                "line": device.zone or "entrance",
                "window_s": round(seconds),
                "in": poisson(rng, expected),
                "out": poisson(rng, expected),
            }

        return 60.0, counts
    if device.kind == "gateway":
        cpu = Drift(value=18, mean=18, low=2, high=100, volatility=3)

        def load(at: datetime, seconds: float) -> dict[str, Any]:
            busy = rate(at)
            return {
                "cpu_pct": round(min(100.0, cpu.step(rng) + 4 * busy), 1),
                "queue_depth": poisson(rng, 1 + busy),
                "adverts_per_min": poisson(rng, 40 + 25 * busy),
            }

        return 30.0, load
    if device.kind == "signage":
        return 300.0, lambda at, _s: {"screen_on": rate(at) > 0, "playlist": "welcome-loop"}
    if device.kind == "pos":
        latency = Drift(value=45, mean=45, low=8, high=900, volatility=6)
        return 300.0, lambda _at, _s: {"paper_ok": True, "latency_ms": round(latency.step(rng))}
    return None


def _zone(name: str) -> tzinfo:
    """The site's zone; UTC where the system has no time zone database (and no ``tzdata`` package)."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return UTC


class _Door:
    """A door that opens at random (Poisson, scaled by ``busy``) and stays open 1-4 minutes."""

    def __init__(self, rng: random.Random, *, opens_per_hour: float) -> None:
        self._rng = rng
        self.opens_per_hour = opens_per_hour
        self.open_for = 0.0

    def step(self, seconds: float, *, busy: float) -> bool:
        if self.open_for > 0:
            self.open_for = max(0.0, self.open_for - seconds)
            return self.open_for > 0
        if self._rng.random() < min(1.0, self.opens_per_hour * busy * seconds / 3600):
            self.open_for = self._rng.uniform(60, 240)
            return True
        return False
