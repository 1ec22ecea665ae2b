"""Gateway dialects (ESPresense, OpenMQTTGateway/Theengs, room-assistant) normalized to one ``Sighting``."""

from tradeoff.presence.gateways.decoders import GatewayDecoder, decode_at, register_decoders
from tradeoff.presence.gateways.events import DeviceKeyer, envelope, event_id, privacy_keyer
from tradeoff.presence.gateways.scrub import GatewayAddressScrubber
from tradeoff.presence.gateways.sighting import EVENT_TYPE, Identity, Sighting

__all__ = [
    "EVENT_TYPE",
    "DeviceKeyer",
    "GatewayAddressScrubber",
    "GatewayDecoder",
    "Identity",
    "Sighting",
    "decode_at",
    "envelope",
    "event_id",
    "privacy_keyer",
    "register_decoders",
]
