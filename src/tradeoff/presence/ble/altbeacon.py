"""AltBeacon (github.com/AltBeacon/spec): manufacturer data ``<mfg id, LE> | BE AC | id(20) ref-RSSI(int8)
reserved(1)``. Any company id may send it; the ``BEAC`` code marks it. beacontools does not parse it.

The reference RSSI is the power at 1 m, specified as ``0..-127``; a positive byte is rejected.
"""

from __future__ import annotations

from tradeoff.presence.ble.frames import AltBeaconFrame, FrameError, check_power, int8

BEACON_CODE = b"\xbe\xac"
POWER_RANGE = (-127, 0)


def is_altbeacon(data: bytes) -> bool:
    return data[:2] == BEACON_CODE


def parse_altbeacon(company_id: int, data: bytes, *, strict_power: bool = True) -> AltBeaconFrame:
    """``data`` is the manufacturer data after the 2-byte company id."""
    if data[:2] != BEACON_CODE:
        raise FrameError("beacon_code", f"expected BE AC, got {data[:2].hex(' ') or 'nothing'}")
    if len(data) != 24:
        raise FrameError("length", f"AltBeacon data is 24 bytes after the company id, got {len(data)}")
    power = int8(data[22])
    try:
        reference: int | None = check_power(power, field="reference_rssi", low=POWER_RANGE[0], high=POWER_RANGE[1])
    except FrameError:
        if strict_power:
            raise
        reference = None
    return AltBeaconFrame(
        company_id=company_id, beacon_id=data[2:22].hex(), reference_rssi=reference, reserved=data[23]
    )
