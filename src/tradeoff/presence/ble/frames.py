"""The frame records a BLE advertisement decodes to, and the one error every decoder raises.

Records are frozen and carry canonical ids (lower-case hex, dashed UUIDs) so that a frame decoded from
raw bytes and a sighting reported by a gateway name the same beacon the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeoff.core.errors import InvalidInput


class FrameError(InvalidInput):
    """A malformed or out-of-range advertisement; ``field`` names the part that is wrong."""


def dashed_uuid(raw: bytes) -> str:
    """16 bytes as the canonical lower-case 8-4-4-4-12 form."""
    h = raw.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def int8(value: int) -> int:
    return value - 256 if value > 127 else value


def check_power(value: int, *, field: str, low: int, high: int) -> int:
    """A calibrated power in dBm, or ``FrameError``: a byte outside the range is not a power (some
    beacons put a battery level there, e.g. nRF51822 firmware sends +26)."""
    if not low <= value <= high:
        raise FrameError(field, f"{value} dBm is outside {low}..{high}")
    return value


@dataclass(frozen=True, slots=True)
class IBeaconFrame:
    uuid: str
    major: int
    minor: int
    measured_power: int | None  # dBm at 1 m; None when the byte was out of range (lenient decoding)

    @property
    def key(self) -> str:
        return f"{self.uuid}/{self.major}/{self.minor}"


@dataclass(frozen=True, slots=True)
class AltBeaconFrame:
    company_id: int
    beacon_id: str  # the 20-byte id as 40 hex digits
    reference_rssi: int | None  # dBm at 1 m
    reserved: int

    @property
    def key(self) -> str:
        """``<uuid>/<id2>/<id3>``: the 16 + 2 + 2 split every AltBeacon library shows."""
        raw = bytes.fromhex(self.beacon_id)
        return f"{dashed_uuid(raw[:16])}/{int.from_bytes(raw[16:18], 'big')}/{int.from_bytes(raw[18:20], 'big')}"


@dataclass(frozen=True, slots=True)
class EddystoneUIDFrame:
    tx_power: int  # dBm at 0 m (subtract 41 dB for the 1 m value)
    namespace: str  # 20 hex digits
    instance: str  # 12 hex digits

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.instance}"


@dataclass(frozen=True, slots=True)
class EddystoneURLFrame:
    tx_power: int
    url: str


@dataclass(frozen=True, slots=True)
class EddystoneTLMFrame:
    """Unencrypted telemetry (version 0) in SI units: the raw SEC_CNT counts tenths of a second."""

    battery_mv: int | None  # None: not supported (0)
    temperature_c: float | None  # None: not supported (0x8000)
    adv_count: int
    uptime_s: float  # SEC_CNT / 10

    @property
    def sec_cnt(self) -> int:
        return round(self.uptime_s * 10)


@dataclass(frozen=True, slots=True)
class EddystoneETLMFrame:
    """Encrypted telemetry (version 1): only the beacon's registering service can read it."""

    etlm: str
    salt: int
    mic: int


@dataclass(frozen=True, slots=True)
class EddystoneEIDFrame:
    tx_power: int
    eid: str  # 16 hex digits, rotating

    @property
    def key(self) -> str:
        return self.eid


Frame = (
    IBeaconFrame
    | AltBeaconFrame
    | EddystoneUIDFrame
    | EddystoneURLFrame
    | EddystoneTLMFrame
    | EddystoneETLMFrame
    | EddystoneEIDFrame
)
