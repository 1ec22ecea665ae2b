"""The privacy gate's whole-message fast path (``PrivacyGate.passes_batch``): it may only clear a message
when ``check`` would have returned every one of its events unchanged, whatever the message holds (card
numbers in values, keys, numbers written with exponents, ids, the transport's source; identifiers; subjects)
and however its JSON is written (spaces, newlines, escapes, non-ASCII)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from tests.unit.privacy.test_gate import make_gate
from tests.unit.privacy.test_scrub_cards import formatted, hidden_pans, pans, tricky_values
from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import EventIn
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline, _validate_all
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.scrub import json_keys, raw_json_needs_scrub, scrub
from tradeoff.privacy.scrub.walk import needs_scrub

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def envelope(index: int, payload: Any, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"a3e19f00-http-{index:09d}",
        "type": "device.telemetry",
        "occurred_at": "2026-11-29T11:59:00.123+01:00",
        "source": f"vm-{index % 50:03d}",
        "payload": payload,
        **extra,
    }


def clean_payload(index: int) -> dict[str, Any]:
    return {
        "temp_c": 3.5 + index % 40 / 10,
        "door_open": index % 17 == 0,
        "power_w": 60 + index % 25,
        "firmware": "2.4.1",
        "slot_levels": [index % 9, (index + 3) % 9],
    }


def dumps(doc: Any, style: str) -> bytes:
    if style == "orjson":
        return orjson.dumps(doc)
    if style == "spaced":
        return json.dumps(doc, ensure_ascii=False).encode()
    if style == "indented":
        return json.dumps(doc, indent=2, ensure_ascii=False).encode()
    return json.dumps(doc).encode()  # non-ASCII as \\u escapes


def screen(
    gate: PrivacyGate, body: bytes, *, source: str | None = None, decoder: str = "json-batch"
) -> tuple[bool, list[EventIn]]:
    """What the pipeline asks the gate for this body (decoded and validated as the pipeline does), and the
    valid events the answer covers."""
    pipeline = IngestPipeline(engine=create_engine("sqlite://"), decoders=default_registry(1000), gates=[gate])
    message = RawMessage(body=body, transport="http", tenant_id="t", received_at=NOW, source=source)
    chosen = pipeline.decoders.get(decoder)
    candidates = chosen.decode(message)
    outcomes = _validate_all([message], [candidates])
    events = [outcome for outcome in outcomes if not isinstance(outcome, InvalidInput)]
    return pipeline._screened(chosen, [(message, outcomes)]) == frozenset({0}), events


def assert_sound(gate: PrivacyGate, cleared: bool, events: list[EventIn]) -> None:
    """A cleared message is one whose events ``check`` leaves exactly as they are."""
    if cleared:
        for event in events:
            assert gate.check(tenant_id="t", event=event) is event, event


def test_a_clean_telemetry_batch_is_cleared_at_once() -> None:
    gate, _, _ = make_gate()
    for style in ("orjson", "spaced", "indented", "escaped"):
        body = dumps({"events": [envelope(i, clean_payload(i)) for i in range(200)]}, style)
        cleared, events = screen(gate, body)
        assert cleared, style
        assert len(events) == 200
        assert_sound(gate, cleared, events)


@pytest.mark.parametrize(
    "payload",
    [
        {"note": "4111 1111 1111 1111"},
        {"card": 4111111111111111},
        {"amount": 4.111111111111111e15},
        {"amount": 4.1111e15},  # few digits but an exponent: 4111100000000000
        {"4111-1111-1111-1111": 1},
        {"nested": [{"deep": {"text": "pay with 5555 5555 5555 4444 ok"}}]},
        {"t2": ";4111111111111111=2512101?"},
        {"msg": "cvv 123"},
        {"Security Code": 999},
        {"pin": 1234},
        {"contact": "ann@example.org"},
        {"caller": "+44 20 7946 0958"},
        {"key": "tk_0123456789ab_" + "z" * 30},
        {"email": "x"},
        {"buyerEmail": "x"},
        {"customer": {"name": "Ann"}},
        {"device_id": "IDFA-1"},
        {"subject": "s1"},
        {"a": "b", ":phone": "5551234"},  # a key starting with a colon
        {"ﬁrst": "４１１１ １１１１ １１１１ １１１１"},  # fullwidth digits: not ASCII
        {"text": "line\nbreak \u0034111111111111111"},
    ],
)
def test_anything_the_gate_would_touch_sends_the_batch_event_by_event(payload: dict[str, Any]) -> None:
    gate, _, _ = make_gate()
    items = [envelope(i, clean_payload(i)) for i in range(20)]
    items.insert(7, envelope(99, payload))
    for style in ("orjson", "spaced", "indented", "escaped"):
        cleared, events = screen(gate, dumps({"events": items}, style))
        assert not cleared, (payload, style)


@pytest.mark.parametrize(
    "extra", [{"event_id": "4111111111111111"}, {"source": "4111-1111-1111-1111"}, {"type": "a4111-1111-1111-1111"}]
)
def test_card_numbers_in_the_envelope_are_seen(extra: dict[str, Any]) -> None:
    gate, _, _ = make_gate()
    cleared, _ = screen(gate, orjson.dumps({"events": [envelope(1, clean_payload(1), **extra)]}))
    assert not cleared


def test_the_transports_source_is_screened_too() -> None:
    gate, _, _ = make_gate()
    item = envelope(1, clean_payload(1))
    del item["source"]
    body = orjson.dumps({"events": [item]})
    assert screen(gate, body, source="vm-001")[0]
    assert not screen(gate, body, source="4111111111111111")[0]


def test_single_envelopes_and_arrays_over_mqtt() -> None:
    gate, _, _ = make_gate()
    one = orjson.dumps(envelope(1, clean_payload(1)))
    assert screen(gate, one, decoder="json")[0]
    nested = orjson.dumps(envelope(1, {"a": {"email": "x"}}))
    assert not screen(gate, nested, decoder="json")[0]
    many = orjson.dumps([envelope(1, clean_payload(1)), envelope(2, {"reading": {"card": "4111111111111111"}})])
    assert not screen(gate, many, decoder="json")[0]


def screen_messages(gate: PrivacyGate, bodies: list[bytes], *, source: str = "vm-001") -> bool:
    """What the pipeline asks the gate for several one-event MQTT messages at once (their joined bodies)."""
    pipeline = IngestPipeline(engine=create_engine("sqlite://"), decoders=default_registry(1000), gates=[gate])
    chosen = pipeline.decoders.get("json")
    messages = [
        RawMessage(body=body, transport="mqtt", tenant_id="t", received_at=NOW, source=source,
                   type_hint="device.telemetry")
        for body in bodies
    ]  # fmt: skip
    decoded = [chosen.decode(message) for message in messages]
    outcomes = iter(_validate_all(messages, decoded))
    pairs = [
        (message, [next(outcomes) for _ in candidates]) for message, candidates in zip(messages, decoded, strict=True)
    ]
    return pipeline._screened(chosen, pairs) == frozenset({0})


def mqtt_body(index: int, payload: Any) -> bytes:
    item = envelope(index, payload)
    del item["source"], item["type"]
    return orjson.dumps(item)


def test_many_mqtt_messages_are_screened_together_and_one_card_number_stops_them_all() -> None:
    gate, _, _ = make_gate()
    bodies = [mqtt_body(i, clean_payload(i)) for i in range(50)]
    assert screen_messages(gate, bodies)
    for planted in ({"note": "4111 1111 1111 1111"}, {"reading": {"email": "x"}}, {"subject": "s1"}):
        assert not screen_messages(gate, [*bodies[:20], mqtt_body(99, planted), *bodies[20:]]), planted
    assert not screen_messages(gate, bodies, source="4111111111111111")


def test_the_key_reader_pairs_quotes() -> None:
    assert json_keys(b'{"a":"b",":phone":"1","c" : {"d":[{"e":1}]}}') == frozenset({"a", ":phone", "c", "d", "e"})
    assert needs_scrub({"a": "b", ":phone": "5551234"})
    assert scrub({"a": "b", ":phone": "5551234"}).value[":phone"] == "[PHONE REMOVED]"


def test_numbers_with_exponents_need_the_walk_but_hex_ids_do_not() -> None:
    assert raw_json_needs_scrub(b'{"a":[1, -2.5E+3]}')
    assert raw_json_needs_scrub(b'{"a": 1e5}')
    assert not raw_json_needs_scrub(b'{"id":"a3e19f00-0e1","b":1.5}')


# Random messages: whatever was planted and however it was written, a cleared message is one the
# per-event gate leaves alone, and a message with a card number in it is never cleared.
planted = st.one_of(
    hidden_pans().map(lambda case: case[1]["payload"]),
    tricky_values,
    st.dictionaries(st.text(max_size=8), tricky_values, max_size=4),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    planted=st.lists(planted, min_size=1, max_size=4),
    style=st.sampled_from(["orjson", "spaced", "indented", "escaped"]),
    seed=st.integers(0, 30),
)
def test_fast_path_never_clears_what_the_gate_would_change(planted: list[Any], style: str, seed: int) -> None:
    gate, _, _ = make_gate()
    items = [envelope(i, clean_payload(i)) for i in range(seed)]
    for offset, value in enumerate(planted):
        payload = value if isinstance(value, dict) else {"x": value}
        items.insert(min(seed, offset * 3), envelope(1000 + offset, payload))
    try:
        body = dumps({"events": items}, style)
    except ValueError:  # surrogates json cannot encode
        return
    cleared, events = screen(gate, body)
    event("cleared" if cleared else "event by event")
    assert_sound(gate, cleared, events)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pan=pans().flatmap(lambda pan: st.tuples(st.just(pan), formatted(pan))), where=st.integers(0, 5))
def test_a_planted_card_number_is_never_cleared(pan: tuple[str, str], where: int) -> None:
    digits, shown = pan
    gate, _, _ = make_gate()
    items = [envelope(i, clean_payload(i)) for i in range(6)]
    spots: list[dict[str, Any]] = [
        {"note": f"paid {shown} thanks"},
        {shown: True},
        {"list": [1, {"ref": shown}]},
        {"n": int(digits)},
        {"n": float(int(digits))},
        {"deep": {"deeper": [shown]}},
    ]
    items[where] = envelope(where, spots[where])
    for style in ("orjson", "spaced", "indented", "escaped"):
        cleared, _ = screen(gate, dumps({"events": items}, style))
        assert not cleared


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted=st.lists(planted, min_size=1, max_size=3), clean=st.integers(0, 12), seed=st.integers(0, 1000))
def test_joined_mqtt_messages_are_cleared_only_when_every_event_would_pass(
    planted: list[Any], clean: int, seed: int
) -> None:
    gate, _, _ = make_gate()
    bodies = [mqtt_body(i, clean_payload(i)) for i in range(clean)]
    for offset, value in enumerate(planted):
        payload = value if isinstance(value, dict) else {"x": value}
        try:
            bodies.insert((seed + offset * 5) % (len(bodies) + 1), mqtt_body(1000 + offset, payload))
        except TypeError:  # orjson refuses what JSON cannot hold (surrogates, huge ints)
            return
    if screen_messages(gate, bodies):
        for body in bodies:
            item = {**orjson.loads(body), "source": "vm-001", "type": "device.telemetry"}
            event_in = EventIn.model_validate(item)
            assert gate.check(tenant_id="t", event=event_in) is event_in, body
