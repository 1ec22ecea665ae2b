"""``decode_advertisement``: raw advertising payload (hex or bytes) → one beacon ``Frame``.

The payload is a chain of AD structures ``<len> <type> <data…>``. We look at manufacturer data (0xFF:
iBeacon, AltBeacon) and 16-bit service data (0x16 with UUID 0xFEAA: Eddystone); flags, names and other
structures are skipped. A zero length byte ends the chain (padding), and one lone byte after the last
structure is ignored: HCI advertising reports (and beacontools' test vectors) append the RSSI there.
Gateways often forward only the manufacturer data (``4c000215…``), so input that is not a valid AD chain
but starts like manufacturer data is read as such.
"""

from __future__ import annotations

import re

from tradeoff.presence.ble.altbeacon import is_altbeacon, parse_altbeacon
from tradeoff.presence.ble.eddystone import SERVICE_UUID, parse_eddystone
from tradeoff.presence.ble.frames import Frame, FrameError
from tradeoff.presence.ble.ibeacon import is_ibeacon, parse_ibeacon

AD_SERVICE_DATA_16 = 0x16
AD_MANUFACTURER = 0xFF
MAX_PAYLOAD = 62  # advertising + scan response
_HEX = re.compile(r"^[0-9a-fA-F]*$")


def to_bytes(data: str | bytes) -> bytes:
    """Hex (spaces, colons and a ``0x`` prefix allowed) or bytes."""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    text = data.strip().lower().removeprefix("0x")
    text = text.replace(" ", "").replace(":", "").replace("-", "")
    if not _HEX.match(text) or len(text) % 2:
        raise FrameError("hex", "not an even number of hex digits")
    return bytes.fromhex(text)


def ad_structures(payload: bytes) -> list[tuple[int, bytes]]:
    """``[(ad_type, data), …]``; ``FrameError`` when a length runs past the end."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(payload):
        length = payload[pos]
        if length == 0:
            break  # early termination: the rest is padding
        end = pos + 1 + length
        if out and pos == len(payload) - 1:
            break  # a single trailing byte: the HCI report's RSSI
        if end > len(payload):
            raise FrameError("ad_structure", f"length {length} at offset {pos} runs past the end ({len(payload)} B)")
        out.append((payload[pos + 1], payload[pos + 2 : end]))
        pos = end
    return out


def decode_manufacturer_data(data: str | bytes, *, strict_power: bool = True) -> Frame:
    """Manufacturer-specific data starting with its little-endian company id (``4c00 0215 …``)."""
    raw = to_bytes(data)
    if len(raw) < 4:
        raise FrameError("manufacturer_data", f"too short ({len(raw)} B)")
    company, rest = int.from_bytes(raw[:2], "little"), raw[2:]
    if is_ibeacon(company, rest):
        return parse_ibeacon(company, rest, strict_power=strict_power)
    if is_altbeacon(rest):
        return parse_altbeacon(company, rest, strict_power=strict_power)
    raise FrameError("manufacturer_data", f"company 0x{company:04x} data is neither iBeacon nor AltBeacon")


def decode_service_data(uuid16: int, data: str | bytes) -> Frame:
    """Service data for a 16-bit UUID (the bytes after the UUID)."""
    if uuid16 != SERVICE_UUID:
        raise FrameError("service_uuid", f"0x{uuid16:04x} is not Eddystone (0xfeaa)")
    return parse_eddystone(to_bytes(data))


def decode_advertisement(data: str | bytes, *, strict_power: bool = True) -> Frame:
    """The first beacon frame in an advertising payload; ``FrameError`` if there is none or it is
    malformed. ``strict_power=False`` keeps a frame whose power byte is out of range (power ``None``)."""
    raw = to_bytes(data)
    if not raw:
        raise FrameError("payload", "empty")
    if len(raw) > MAX_PAYLOAD:
        raise FrameError("payload", f"{len(raw)} B is longer than an advertisement ({MAX_PAYLOAD} B)")
    try:
        structures = ad_structures(raw)
    except FrameError:
        if len(raw) >= 4 and (raw[2:4] == b"\x02\x15" or raw[2:4] == b"\xbe\xac"):
            return decode_manufacturer_data(raw, strict_power=strict_power)
        raise
    for ad_type, body in structures:
        if ad_type == AD_MANUFACTURER and len(body) >= 4:
            company, rest = int.from_bytes(body[:2], "little"), body[2:]
            if is_ibeacon(company, rest) or is_altbeacon(rest):
                return decode_manufacturer_data(body, strict_power=strict_power)
        elif ad_type == AD_SERVICE_DATA_16 and len(body) >= 2:
            uuid16 = int.from_bytes(body[:2], "little")
            if uuid16 == SERVICE_UUID:
                return parse_eddystone(body[2:])
    raise FrameError("payload", "no iBeacon, AltBeacon or Eddystone frame in the advertisement")
