"""Composition root: builds the engine, pipeline and bus once, and lets capabilities plug in.

A capability exposes ``register(platform)`` that adds its decoders, gates, processors and routers;
``CAPABILITIES`` lists them in dependency order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import APIRouter
from sqlalchemy import Engine

from tradeoff.core.clock import Clock
from tradeoff.platform.bus import InProcessBus
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.device_state import DeviceStateProcessor
from tradeoff.platform.ingest.decoders import DecoderRegistry, default_registry
from tradeoff.platform.ingest.pipeline import IngestPipeline
from tradeoff.platform.settings import Settings


class Transport(Protocol):
    """A long-running ingress (MQTT now; file watchers, JetStream later)."""

    @property
    def connected(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Platform:
    settings: Settings
    engine: Engine  # owner connection: migrations, processors, transports (all tenants)
    app_engine: Engine  # request handlers: bound to one tenant per transaction (RLS on PostgreSQL)
    decoders: DecoderRegistry
    pipeline: IngestPipeline
    bus: InProcessBus
    routers: list[APIRouter] = field(default_factory=list)
    mqtt: Transport | None = None
    services: list[Transport] = field(default_factory=list)  # background work capabilities add
    # What capabilities offer each other (platform cannot import them): e.g. "privacy" → PrivacyServices.
    extensions: dict[str, object] = field(default_factory=dict)

    def start(self) -> None:
        """Start background work: processors, services, then transports (nothing waits on a stopped bus)."""
        if self.settings.run_processors:
            self.bus.start()
        for service in self.services:
            service.start()
        if self.mqtt is not None:
            self.mqtt.start()

    def close(self) -> None:
        if self.mqtt is not None:
            self.mqtt.stop()
        for service in reversed(self.services):
            service.stop()
        self.bus.stop()
        self.engine.dispose()
        self.app_engine.dispose()


Capability = Callable[[Platform], None]


def _platform_capability(platform: Platform) -> None:
    platform.bus.register(DeviceStateProcessor())


def _privacy_capability(platform: Platform) -> None:
    from tradeoff.privacy.capability import register

    register(platform)


def _vending_capability(platform: Platform) -> None:
    from tradeoff.vending.capability import register

    register(platform)


def _presence_capability(platform: Platform) -> None:
    from tradeoff.presence.capability import register

    register(platform)


def _store_setup_capability(platform: Platform) -> None:
    from tradeoff.presence.setup.capability import register

    register(platform)


def _offers_capability(platform: Platform) -> None:
    from tradeoff.offers.capability import register

    register(platform)


def _offers_delivery_capability(platform: Platform) -> None:
    from tradeoff.offers.delivery.capability import register

    register(platform)


# In dependency order: the privacy gate must be the first gate, so later gates see scrubbed events;
# offers consume presence's derived events, delivery reads the offers outbox.
CAPABILITIES: list[Capability] = [
    _platform_capability,
    _privacy_capability,
    _vending_capability,
    _presence_capability,
    _store_setup_capability,
    _offers_capability,
    _offers_delivery_capability,
]


def build_platform(settings: Settings, *, clock: Clock | None = None) -> Platform:
    """``clock`` (default: the wall clock) is the platform's time, ``platform.pipeline.clock``: a simulator
    running in the same process passes its accelerated clock, so both live in one time."""
    engine = make_engine(settings.database_url)
    app_engine = make_engine(settings.app_database_url) if settings.app_database_url else engine
    decoders = default_registry(settings.max_batch_events)
    pipeline = IngestPipeline(engine=engine, decoders=decoders, clock=clock)
    bus = InProcessBus(engine, poll_seconds=settings.processor_poll_seconds)
    pipeline.on_events(bus.publish)
    platform = Platform(
        settings=settings, engine=engine, app_engine=app_engine, decoders=decoders, pipeline=pipeline, bus=bus
    )
    for capability in CAPABILITIES:
        capability(platform)
    if settings.mqtt_url:
        from tradeoff.platform.mqtt import MqttIngestor

        platform.mqtt = MqttIngestor(
            pipeline=pipeline,
            url=settings.mqtt_url,
            client_id=settings.mqtt_client_id,
            topic_prefix=settings.mqtt_topic_prefix,
            shared_group=settings.mqtt_shared_group,
        )
    return platform
