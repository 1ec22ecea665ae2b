"""G85 checksum: CRC-16/ARC (poly 0x8005 reflected = 0xA001, init 0, no final XOR), as EVA-DTS uses it."""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16_arc(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC of ``data`` (check value of ``b"123456789"`` is 0xBB3D); ``crc`` continues a running one."""
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def format_g85(crc: int) -> str:
    """The G85 element as written by most machines: four upper-case hex digits."""
    return f"{crc:04X}"


def parse_g85(text: str) -> int | None:
    """The CRC a G85 element states (hex, either case), or None when it is not four hex digits."""
    value = text.strip()
    if len(value) != 4:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None
