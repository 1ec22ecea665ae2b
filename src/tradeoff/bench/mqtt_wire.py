"""Just enough MQTT 5 to publish at QoS 1 without a client library's per-message overhead.

The load generator must not be what limits a benchmark: paho spends tens of microseconds of Python per
PUBLISH/PUBACK pair, which on two cores is the same CPU the ingestor needs. Packets are encoded up front;
during the run the publisher only writes bytes and counts PUBACKs.
"""

from __future__ import annotations

from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK, DISCONNECT = 1, 2, 3, 4, 14
_RECEIVE_MAXIMUM = 0x21
_NO_MATCHING_SUBSCRIBERS = 0x10


class ProtocolError(ValueError):
    """The broker sent something this minimal client does not understand or refused us."""


def varint(value: int) -> bytes:
    """MQTT's variable byte integer (remaining length, property lengths)."""
    if not 0 <= value <= 268_435_455:
        raise ValueError(f"{value} does not fit an MQTT variable byte integer")
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + varint(len(body)) + body


def connect_packet(client_id: str, *, keepalive: int = 60) -> bytes:
    """CONNECT, MQTT 5, clean start, no properties, no credentials."""
    variable = _string(b"MQTT") + bytes([5, 0x02]) + keepalive.to_bytes(2, "big") + varint(0)
    return _packet(CONNECT << 4, variable + _string(client_id.encode()))


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    """PUBLISH at QoS 1 with no properties."""
    if not 1 <= packet_id <= 0xFFFF:
        raise ValueError("packet id must be within 1..65535")
    return _packet(PUBLISH << 4 | 0x02, _string(topic.encode()) + packet_id.to_bytes(2, "big") + b"\x00" + payload)


def disconnect_packet() -> bytes:
    return _packet(DISCONNECT << 4, b"")


@dataclass(frozen=True, slots=True)
class Packet:
    type: int
    body: bytes


class PacketReader:
    """Splits a byte stream into packets (type and body), however the stream was chunked."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Packet]:
        self._buffer += data
        packets: list[Packet] = []
        while True:
            header = _header(self._buffer)
            if header is None:
                return packets
            offset, length = header
            if len(self._buffer) < offset + length:
                return packets
            packets.append(Packet(self._buffer[0] >> 4, bytes(self._buffer[offset : offset + length])))
            del self._buffer[: offset + length]


def _header(buffer: bytearray) -> tuple[int, int] | None:
    """``(offset of the body, body length)`` once the fixed header is complete."""
    length, multiplier = 0, 1
    for position in range(1, min(len(buffer), 5)):
        byte = buffer[position]
        length += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            return position + 1, length
        multiplier *= 128
    if len(buffer) >= 5:
        raise ProtocolError("malformed remaining length")
    return None


def connack_receive_maximum(body: bytes) -> int:
    """The broker's Receive Maximum from a CONNACK body (65535 when absent); raises if refused."""
    if len(body) < 2:
        raise ProtocolError("short CONNACK")
    if body[1] >= 0x80:
        raise ProtocolError(f"connection refused (reason code 0x{body[1]:02x})")
    position, end = 2, len(body)
    if position < end:
        length, position = _read_varint(body, position)
        end = position + length
    while position < end:
        identifier = body[position]
        if identifier == _RECEIVE_MAXIMUM:
            return int.from_bytes(body[position + 1 : position + 3], "big")
        position += 1 + _property_size(identifier, body, position + 1)
    return 0xFFFF


def puback_reason(body: bytes) -> tuple[int, int]:
    """``(packet id, reason code)`` of a PUBACK; a missing reason code means success."""
    if len(body) < 2:
        raise ProtocolError("short PUBACK")
    return int.from_bytes(body[:2], "big"), body[2] if len(body) > 2 else 0


def is_failure(reason: int) -> bool:
    return reason >= 0x80


def nobody_listening(reason: int) -> bool:
    return reason == _NO_MATCHING_SUBSCRIBERS


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value, multiplier = 0, 1
    while True:
        byte = data[position]
        position += 1
        value += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            return value, position
        multiplier *= 128


def _property_size(identifier: int, data: bytes, position: int) -> int:
    """Bytes a CONNACK property's value occupies (MQTT 5 §2.2.2.2)."""
    if identifier in (0x24, 0x25, 0x28, 0x29, 0x2A):  # byte
        return 1
    if identifier in (0x13, 0x21, 0x22):  # two-byte integer
        return 2
    if identifier in (0x11, 0x27):  # four-byte integer
        return 4
    if identifier in (0x12, 0x15, 0x16, 0x1A, 0x1C, 0x1F):  # string or binary data
        return 2 + int.from_bytes(data[position : position + 2], "big")
    if identifier == 0x26:  # user property: two strings
        first = 2 + int.from_bytes(data[position : position + 2], "big")
        return first + 2 + int.from_bytes(data[position + first : position + first + 2], "big")
    raise ProtocolError(f"unknown CONNACK property 0x{identifier:02x}")
