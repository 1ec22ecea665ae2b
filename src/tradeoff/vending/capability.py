"""The vending capability: the DEX decoder, the payload gate, the stock processor, the fleet and plan APIs,
and the dispatcher (where processors run: it plans from what they project)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tradeoff.vending.payloads import PayloadGate
from tradeoff.vending.stock_processor import VendingStockProcessor

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform
    from tradeoff.platform.ingest.pipeline import IngestPipeline


class PipelineClock:
    """The pipeline's clock, read at every call: a simulator may swap it after the platform is built."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline

    def now(self) -> datetime:
        return self.pipeline.clock.now()


def register(platform: Platform) -> None:
    from tradeoff.vending import api, plan_api
    from tradeoff.vending.dex.decoder import register_decoders

    register_decoders(platform.decoders)  # POST /v1/events?format=dex, MQTT <prefix>/<tenant>/<device>/dex

    # After the privacy gate (registered earlier), so vending payloads are checked as they will be stored.
    platform.pipeline.add_gate(PayloadGate())
    platform.bus.register(VendingStockProcessor())
    platform.routers.append(api.router)
    platform.routers.append(plan_api.router)
    settings = platform.settings
    if settings.vending_dispatch and settings.run_processors:
        from tradeoff.vending.dispatcher import VendingDispatcher

        dispatcher = VendingDispatcher(
            platform.engine,
            PipelineClock(platform.pipeline),
            poll=settings.vending_call_poll_seconds,
            hour=settings.vending_dispatch_hour,
            replan=timedelta(hours=settings.vending_replan_hours),
            seconds=settings.vending_plan_seconds,
        )
        platform.services.append(dispatcher)
        platform.extensions["vending_dispatcher"] = dispatcher
