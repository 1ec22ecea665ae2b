"""iBeacon: Apple manufacturer data ``4C 00 | 02 15 | UUID(16) major(2) minor(2) power(int8)``.

Big-endian fields; the company id is little-endian on air. Measured power is RSSI at 1 m, so it must be
negative: ``-127..-1`` (0 and positive bytes are not powers).
"""

from __future__ import annotations

from tradeoff.presence.ble.frames import FrameError, IBeaconFrame, check_power, dashed_uuid, int8

APPLE = 0x004C
IBEACON_PREFIX = b"\x02\x15"
POWER_RANGE = (-127, -1)


def parse_ibeacon(company_id: int, data: bytes, *, strict_power: bool = True) -> IBeaconFrame:
    """``data`` is the manufacturer data after the 2-byte company id. With ``strict_power=False`` an
    out-of-range power byte gives ``measured_power=None`` instead of ``FrameError``."""
    if company_id != APPLE:
        raise FrameError("company_id", f"0x{company_id:04x} is not Apple (0x004c)")
    if data[:2] != IBEACON_PREFIX:
        raise FrameError("type", f"expected 02 15, got {data[:2].hex(' ') or 'nothing'}")
    if len(data) != 23:
        raise FrameError("length", f"iBeacon data is 23 bytes after the company id, got {len(data)}")
    power = int8(data[22])
    try:
        measured: int | None = check_power(power, field="measured_power", low=POWER_RANGE[0], high=POWER_RANGE[1])
    except FrameError:
        if strict_power:
            raise
        measured = None
    return IBeaconFrame(
        uuid=dashed_uuid(data[2:18]),
        major=int.from_bytes(data[18:20], "big"),
        minor=int.from_bytes(data[20:22], "big"),
        measured_power=measured,
    )


def is_ibeacon(company_id: int, data: bytes) -> bool:
    return company_id == APPLE and data[:2] == IBEACON_PREFIX
