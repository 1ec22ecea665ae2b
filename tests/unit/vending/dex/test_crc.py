"""CRC-16/ARC against published check values and the samples' own G85."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.vending.dex.samples import KIKKO_70, sample
from tradeoff.vending.dex.crc import crc16_arc, format_g85, parse_g85


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"123456789", 0xBB3D),  # the catalogue check value of CRC-16/ARC
        (b"", 0x0000),
        (b"\x00", 0x0000),
    ],
)
def test_known_vectors(data: bytes, expected: int) -> None:
    assert crc16_arc(data) == expected


def _bitwise_crc16_arc(data: bytes) -> int:
    """Straight from the definition: reflected poly 0x8005 (0xA001), init 0, no final XOR, bit by bit."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_table_driven_crc_matches_the_bitwise_definition(data: bytes) -> None:
    assert crc16_arc(data) == _bitwise_crc16_arc(data)


def test_running_crc_equals_one_pass() -> None:
    assert crc16_arc(b"456789", crc16_arc(b"123")) == crc16_arc(b"123456789")


def test_kikko_excl_range_reproduces_its_g85() -> None:
    raw = sample(KIKKO_70)
    start, g85 = raw.index(b"ST*"), raw.index(b"G85*")
    assert format_g85(crc16_arc(raw[start : g85 - 2])).lower() == "90b8"


@pytest.mark.parametrize(
    ("text", "value"), [("90b8", 0x90B8), ("B9AE", 0xB9AE), (" 0001 ", 1), ("12345", None), ("xyz1", None), ("", None)]
)
def test_parse_g85(text: str, value: int | None) -> None:
    assert parse_g85(text) == value


def test_format_is_four_upper_hex_digits() -> None:
    assert format_g85(0xB) == "000B"
