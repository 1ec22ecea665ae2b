"""The presence capability: gateway decoders, the app's report route, and the processor turning
sightings into zone, dwell, journey and beacon events.

Register after privacy: the decoders key anonymous device addresses with the tenant's MAC key, and the
gateway address scrubber must see raw messages the privacy gate has already cleaned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeoff.presence.gateways import GatewayAddressScrubber, privacy_keyer, register_decoders
from tradeoff.presence.processor import PresenceProcessor
from tradeoff.privacy.capability import privacy_of

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform


def register(platform: Platform) -> None:
    from tradeoff.presence import app_api

    register_decoders(platform.decoders, keyer=privacy_keyer(privacy_of(platform).keys))
    platform.pipeline.add_gate(GatewayAddressScrubber())
    platform.bus.register(PresenceProcessor(clock=platform.pipeline.clock))
    platform.routers.append(app_api.router)
