from datetime import UTC, datetime

import pytest

from tradeoff.core.errors import InvalidInput
from tradeoff.platform.ingest.decoders import DecoderRegistry, JsonBatchDecoder, JsonEventDecoder
from tradeoff.platform.ingest.message import Candidate, RawMessage

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def message(body: bytes, **kw: object) -> RawMessage:
    return RawMessage(body=body, transport="mqtt", tenant_id="t", received_at=NOW, **kw)  # type: ignore[arg-type]


def test_batch_decoder_requires_an_events_array() -> None:
    decoder = JsonBatchDecoder(max_events=2)
    for body, reason in [
        (b"{not json", "not valid JSON"),
        (b"[]", "events"),
        (b'{"events": []}', "at least one"),
        (b'{"events": [1, 2, 3]}', "at most 2"),
    ]:
        with pytest.raises(InvalidInput, match=reason):
            decoder.decode(message(body))
    assert [c.data for c in decoder.decode(message(b'{"events": [{"a": 1}]}'))] == [{"a": 1}]


def test_topic_fills_type_and_source_but_does_not_override() -> None:
    decoder = JsonEventDecoder(max_events=10)
    [filled] = decoder.decode(message(b'{"event_id": "x"}', source="dev-1", type_hint="device.heartbeat"))
    assert filled.data == {"event_id": "x", "source": "dev-1", "type": "device.heartbeat"}
    assert filled.raw == b'{"event_id": "x"}'
    [kept] = decoder.decode(message(b'{"source": "other"}', source="dev-1"))
    assert kept.data["source"] == "other"  # validation rejects the mismatch


def test_registry_names_unknown_formats() -> None:
    class Dex:
        name = "dex"

        def decode(self, message: RawMessage) -> list[Candidate]:
            return []

    registry = DecoderRegistry()
    registry.register(Dex())
    assert registry.has("dex") and registry.names() == ["dex"]
    with pytest.raises(ValueError, match="already"):
        registry.register(Dex())
    with pytest.raises(InvalidInput, match="unknown format 'csv'; known: dex"):
        registry.get("csv")
