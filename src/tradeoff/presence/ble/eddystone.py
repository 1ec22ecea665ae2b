"""Eddystone (github.com/google/eddystone): service data of UUID 0xFEAA, first byte the frame type.

UID 0x00, URL 0x10, TLM 0x20 (version 0 plain, 1 encrypted), EID 0x30. Tx power is calibrated at 0 m and
specified as -100..+20 dBm. TLM units are converted here (beacontools leaves SEC_CNT in tenths of a
second): battery in mV (0 = unsupported), temperature signed 8.8 °C (0x8000 = unsupported), uptime in s.
"""

from __future__ import annotations

from tradeoff.presence.ble.frames import (
    EddystoneEIDFrame,
    EddystoneETLMFrame,
    EddystoneTLMFrame,
    EddystoneUIDFrame,
    EddystoneURLFrame,
    FrameError,
    check_power,
    int8,
)

SERVICE_UUID = 0xFEAA
UID, URL, TLM, EID = 0x00, 0x10, 0x20, 0x30
TX_RANGE = (-100, 20)
ONE_METRE_LOSS_DB = 41  # tx power at 0 m minus this ≈ RSSI at 1 m

SCHEMES = ("http://www.", "https://www.", "http://", "https://")
EXPANSIONS = (
    ".com/", ".org/", ".edu/", ".net/", ".info/", ".biz/", ".gov/",
    ".com", ".org", ".edu", ".net", ".info", ".biz", ".gov",
)  # fmt: skip

EddystoneFrame = EddystoneUIDFrame | EddystoneURLFrame | EddystoneTLMFrame | EddystoneETLMFrame | EddystoneEIDFrame


def parse_eddystone(data: bytes) -> EddystoneFrame:
    """``data`` is the service data after the 2-byte 0xFEAA UUID."""
    if not data:
        raise FrameError("frame_type", "empty Eddystone service data")
    kind = data[0]
    if kind == UID:
        return _uid(data)
    if kind == URL:
        return _url(data)
    if kind == TLM:
        return _tlm(data)
    if kind == EID:
        return _eid(data)
    raise FrameError("frame_type", f"unknown Eddystone frame type 0x{kind:02x}")


def _tx(data: bytes) -> int:
    if len(data) < 2:
        raise FrameError("tx_power", "missing")
    return check_power(int8(data[1]), field="tx_power", low=TX_RANGE[0], high=TX_RANGE[1])


def _uid(data: bytes) -> EddystoneUIDFrame:
    # 18 bytes; 20 with the two RFU bytes (older beacons leave them out).
    if len(data) not in (18, 20):
        raise FrameError("length", f"Eddystone-UID is 18 or 20 bytes, got {len(data)}")
    return EddystoneUIDFrame(tx_power=_tx(data), namespace=data[2:12].hex(), instance=data[12:18].hex())


def _url(data: bytes) -> EddystoneURLFrame:
    if not 3 <= len(data) <= 20:
        raise FrameError("length", f"Eddystone-URL is 3..20 bytes, got {len(data)}")
    tx = _tx(data)
    scheme = data[2]
    if scheme >= len(SCHEMES):
        raise FrameError("url_scheme", f"unknown scheme prefix 0x{scheme:02x}")
    parts = [SCHEMES[scheme]]
    for index, byte in enumerate(data[3:]):
        if byte < len(EXPANSIONS):
            parts.append(EXPANSIONS[byte])
        elif 0x20 < byte < 0x7F:
            parts.append(chr(byte))
        else:
            raise FrameError("url", f"byte 0x{byte:02x} at position {index} is reserved")
    return EddystoneURLFrame(tx_power=tx, url="".join(parts))


def _tlm(data: bytes) -> EddystoneTLMFrame | EddystoneETLMFrame:
    if len(data) < 2:
        raise FrameError("version", "missing TLM version")
    version = data[1]
    if version == 0x01:
        if len(data) != 18:
            raise FrameError("length", f"encrypted TLM is 18 bytes, got {len(data)}")
        return EddystoneETLMFrame(
            etlm=data[2:14].hex(), salt=int.from_bytes(data[14:16], "big"), mic=int.from_bytes(data[16:18], "big")
        )
    if version != 0x00:
        raise FrameError("version", f"unknown TLM version 0x{version:02x}")
    if len(data) != 14:
        raise FrameError("length", f"TLM is 14 bytes, got {len(data)}")
    vbatt = int.from_bytes(data[2:4], "big")
    raw_temp = int.from_bytes(data[4:6], "big", signed=True)
    return EddystoneTLMFrame(
        battery_mv=vbatt or None,
        temperature_c=None if raw_temp == -0x8000 else raw_temp / 256,
        adv_count=int.from_bytes(data[6:10], "big"),
        uptime_s=int.from_bytes(data[10:14], "big") / 10,
    )


def _eid(data: bytes) -> EddystoneEIDFrame:
    if len(data) != 10:
        raise FrameError("length", f"Eddystone-EID is 10 bytes, got {len(data)}")
    return EddystoneEIDFrame(tx_power=_tx(data), eid=data[2:10].hex())
