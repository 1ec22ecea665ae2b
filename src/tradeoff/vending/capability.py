"""The vending capability: the DEX decoder, the payload gate, the stock processor and the fleet API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeoff.vending.payloads import PayloadGate
from tradeoff.vending.stock_processor import VendingStockProcessor

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform


def register(platform: Platform) -> None:
    from tradeoff.vending import api
    from tradeoff.vending.dex.decoder import register_decoders

    register_decoders(platform.decoders)  # POST /v1/events?format=dex, MQTT <prefix>/<tenant>/<device>/dex

    # After the privacy gate (registered earlier), so vending payloads are checked as they will be stored.
    platform.pipeline.add_gate(PayloadGate())
    platform.bus.register(VendingStockProcessor())
    platform.routers.append(api.router)
