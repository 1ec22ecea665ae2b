"""The minimal MQTT 5 encoder/decoder the benchmark's publisher uses."""

import pytest

from tradeoff.bench import mqtt_wire as wire


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16_383, b"\xff\x7f"), (2_097_152, b"\x80\x80\x80\x01")],
)
def test_variable_byte_integers(value: int, encoded: bytes) -> None:
    assert wire.varint(value) == encoded


def test_publish_packets_survive_any_chunking() -> None:
    packets = [wire.publish_packet("a/b", b"x" * size, packet_id) for packet_id, size in ((1, 3), (2, 200), (3, 0))]
    stream = b"".join(packets)
    reader = wire.PacketReader()
    seen = []
    for start in range(0, len(stream), 7):
        seen += reader.feed(stream[start : start + 7])
    assert [p.type for p in seen] == [wire.PUBLISH] * 3
    first = seen[0].body
    assert first[:2] == b"\x00\x03" and first[2:5] == b"a/b"
    assert first[5:7] == b"\x00\x01"  # packet id
    assert first[7:] == b"\x00xxx"  # no properties, then the payload


def test_connack_receive_maximum_and_refusal() -> None:
    # Mosquitto's CONNACK: flags, reason 0, properties: topic alias maximum 10, receive maximum 20.
    assert wire.connack_receive_maximum(b"\x00\x00\x06\x22\x00\x0a\x21\x00\x14") == 20
    assert wire.connack_receive_maximum(b"\x00\x00\x00") == 0xFFFF
    with pytest.raises(wire.ProtocolError, match="refused"):
        wire.connack_receive_maximum(b"\x00\x87")


def test_puback_reason_codes() -> None:
    assert wire.puback_reason(b"\x00\x05") == (5, 0)
    assert wire.puback_reason(b"\x01\x00\x10") == (256, 0x10)
    assert wire.nobody_listening(0x10) and not wire.is_failure(0x10)
    assert wire.is_failure(0x80)


def test_packet_ids_must_fit_two_bytes() -> None:
    with pytest.raises(ValueError):
        wire.publish_packet("t", b"", 0)
    with pytest.raises(ValueError):
        wire.publish_packet("t", b"", 65_536)
