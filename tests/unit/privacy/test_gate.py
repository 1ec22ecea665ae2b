"""The privacy gate on its own: consent decides, pseudonyms replace subjects, identifiers become tokens,
card data goes, whatever the nesting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.unit.privacy.fakes import FakeConsent, MemoryKeys, state_with
from tests.unit.privacy.test_scrub_cards import assert_no_pan, hidden_pans
from tradeoff.core.clock import FixedClock
from tradeoff.core.events import EventIn
from tradeoff.privacy.consent import EventPurposes, Purpose
from tradeoff.privacy.gate import DROPPED, PrivacyGate
from tradeoff.privacy.subjects import Pseudonymizer

A, P, L = Purpose.ANALYTICS, Purpose.PERSONALIZATION, Purpose.PURCHASE_LINKING
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def make_gate() -> tuple[PrivacyGate, FakeConsent, Pseudonymizer]:
    consent = FakeConsent()
    pseudonyms = Pseudonymizer(MemoryKeys())
    return PrivacyGate(consent=consent, pseudonyms=pseudonyms, clock=FixedClock(NOW)), consent, pseudonyms


def ev(type_: str = "presence.sighting", payload: dict[str, Any] | None = None, **extra: Any) -> EventIn:
    values: dict[str, Any] = {
        "event_id": "e-1",
        "type": type_,
        "occurred_at": NOW,
        "source": "gw-1",
        "payload": payload or {},
        **extra,
    }
    return EventIn.model_validate(values)


def dropped(reason: str) -> float:
    return DROPPED.labels(reason)._value.get()


def test_events_without_a_subject_pass_unchanged() -> None:
    gate, consent, _ = make_gate()
    event = ev("device.heartbeat", {"uptime_s": 5, "rssi_dbm": -60})
    assert gate.check(tenant_id="t", event=event) is event
    assert consent.lookups == 0


def test_subject_events_need_consent_for_their_purpose() -> None:
    gate, consent, _ = make_gate()
    before = {r: dropped(r) for r in ("unknown_subject", "no_consent", "unclassified_type", "bad_subject")}
    assert gate.check(tenant_id="t", event=ev(payload={"subject": "s1"})) is None  # unknown subject
    consent.states[("t", "s1")] = state_with("t", "s1", {A}, at=NOW - timedelta(days=1))
    assert gate.check(tenant_id="t", event=ev(payload={"subject": "s1"})) is not None
    assert gate.check(tenant_id="t", event=ev("offers.shown", {"subject": "s1"})) is None  # tier 1 only
    assert gate.check(tenant_id="t", event=ev("unknown.kind", {"subject": "s1"})) is None  # fail closed
    assert gate.check(tenant_id="t", event=ev(payload={"subject": 42})) is None
    assert gate.check(tenant_id="u", event=ev(payload={"subject": "s1"})) is None  # other tenant: unknown
    after = {r: dropped(r) - before[r] for r in before}
    assert after == {"unknown_subject": 2, "no_consent": 1, "unclassified_type": 1, "bad_subject": 1}


def test_lapsed_consent_drops() -> None:
    gate, consent, _ = make_gate()
    consent.states[("t", "s1")] = state_with("t", "s1", {A, P}, at=NOW - timedelta(days=800), renew_by=NOW)
    assert gate.check(tenant_id="t", event=ev(payload={"subject": "s1"})) is None


def test_tier1_events_carry_the_daily_pseudonym_and_daily_tokens() -> None:
    gate, consent, pseudonyms = make_gate()
    consent.states[("t", "s1")] = state_with("t", "s1", {A}, at=NOW - timedelta(days=1))
    out = gate.check(tenant_id="t", event=ev(payload={"subject": "s1", "zone": "z1", "device_id": "IDFA-1"}))
    assert out is not None
    assert out.payload["subject"] == pseudonyms.daily("t", "s1", NOW.date())
    assert out.payload["device_id"].startswith("tokd_device_")
    assert out.payload["zone"] == "z1"
    assert out.event_id != "e-1" and out.event_id.startswith("k_")  # producer ids cannot link days
    again = gate.check(tenant_id="t", event=ev(payload={"subject": "s1"}))
    assert again is not None and again.event_id == out.event_id  # deterministic: dedup still works
    next_day = gate.check(tenant_id="t", event=ev(payload={"subject": "s1"}, occurred_at=NOW + timedelta(days=1)))
    assert next_day is not None and next_day.payload["subject"] != out.payload["subject"]


def test_tier2_events_carry_the_stable_pseudonym_and_stable_tokens() -> None:
    gate, consent, pseudonyms = make_gate()
    consent.states[("t", "s1")] = state_with("t", "s1", {A, P}, at=NOW - timedelta(days=1))
    out = gate.check(tenant_id="t", event=ev("offers.shown", {"subject": "s1", "email": "Ann@x.org"}))
    assert out is not None
    assert out.payload == {
        "subject": pseudonyms.stable("t", "s1"),
        "email": pseudonyms.token("t", gate.identifiers.kind("email"), "ann@x.org", day=None),
    }


def test_pseudonym_day_follows_the_producers_offset() -> None:
    gate, consent, pseudonyms = make_gate()
    consent.states[("t", "s1")] = state_with("t", "s1", {A}, at=NOW - timedelta(days=1))
    local = datetime.fromisoformat("2026-11-29T22:30:00-05:00")  # already Nov 30 in UTC
    out = gate.check(tenant_id="t", event=ev(payload={"subject": "s1"}, occurred_at=local))
    assert out is not None and out.payload["subject"] == pseudonyms.daily("t", "s1", local.date())


def test_identifiers_without_subject_rotate_daily() -> None:
    gate, _, pseudonyms = make_gate()
    out = gate.check(tenant_id="t", event=ev("presence.count", {"mac": "AA:BB:CC:00:11:22", "n": 1}))
    assert out is not None
    mac = gate.identifiers.kind("mac")
    assert out.payload == {"mac": pseudonyms.token("t", mac, "aabbcc001122", day=NOW.date()), "n": 1}


def test_card_data_in_the_envelope() -> None:
    gate, _, _ = make_gate()
    out = gate.check(
        tenant_id="t", event=ev("pos.sale", {"x": 1}, event_id="4111111111111111", source="4111111111111111")
    )
    assert out is not None and "4111" not in out.event_id and "4111" not in (out.source or "")
    assert gate.check(tenant_id="t", event=ev("pay.4111111111111111")) is None


def test_too_deep_payloads_are_dropped() -> None:
    gate, _, _ = make_gate()
    deep: Any = "card 4111 1111 1111 1111"
    clean: Any = "x"
    for _ in range(200):
        deep, clean = [deep], [clean]
    assert gate.check(tenant_id="t", event=ev("device.blob", {"deep": deep})) is None  # cannot be checked
    assert gate.check(tenant_id="t", event=ev("device.blob", {"deep": clean})) is not None  # nothing to check


def test_purpose_registry_prefers_exact_then_longest_prefix() -> None:
    registry = EventPurposes()
    registry.register("pos.", A)
    registry.register("pos.basket.", P)
    registry.register("pos.basket.linked", L)
    assert [registry.purpose_for(t) for t in ("pos.sale", "pos.basket.x", "pos.basket.linked", "x")] == [A, P, L, None]
    with pytest.raises(ValueError):
        registry.register("pos.", L)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hidden_pans())
def test_no_pan_survives_the_gate(case: tuple[str, Any]) -> None:
    pan, payload = case
    gate, consent, _ = make_gate()
    consent.states[("t", "s1")] = state_with("t", "s1", {A, P, L}, at=NOW - timedelta(days=1))
    for event in (ev("device.blob", payload), ev("presence.sighting", {**payload, "subject": "s1"})):
        out = gate.check(tenant_id="t", event=event)
        assert out is not None
        assert_no_pan(pan, out.payload)
