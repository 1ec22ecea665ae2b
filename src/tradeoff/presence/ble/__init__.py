"""BLE beacon frames: iBeacon, AltBeacon and Eddystone (UID, URL, TLM, encrypted TLM, EID) from raw bytes.

Hand-written rather than beacontools: strict lengths, range-checked powers and errors that name the field;
beacontools serves as the reference oracle in the tests (it has no AltBeacon and keeps TLM raw units).
"""

from tradeoff.presence.ble.decode import (
    ad_structures,
    decode_advertisement,
    decode_manufacturer_data,
    decode_service_data,
    to_bytes,
)
from tradeoff.presence.ble.frames import (
    AltBeaconFrame,
    EddystoneEIDFrame,
    EddystoneETLMFrame,
    EddystoneTLMFrame,
    EddystoneUIDFrame,
    EddystoneURLFrame,
    Frame,
    FrameError,
    IBeaconFrame,
)

__all__ = [
    "AltBeaconFrame",
    "EddystoneEIDFrame",
    "EddystoneETLMFrame",
    "EddystoneTLMFrame",
    "EddystoneUIDFrame",
    "EddystoneURLFrame",
    "Frame",
    "FrameError",
    "IBeaconFrame",
    "ad_structures",
    "decode_advertisement",
    "decode_manufacturer_data",
    "decode_service_data",
    "to_bytes",
]
