"""The privacy gate scoped to one ingest batch (``for_batch`` / ``scope_gates``): the consent of all the
batch's subjects is asked for once, the decisions are the event-by-event ones, a reader that cannot read in
batches is used as is, and the other gates keep their positions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.privacy.fakes import FakeConsent, MemoryKeys, state_with
from tradeoff.core.clock import FixedClock
from tradeoff.core.events import EventIn
from tradeoff.platform.ingest.gates import scope_gates
from tradeoff.privacy.consent import ConsentSnapshot, Purpose
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.subjects import Pseudonymizer

A, P = Purpose.ANALYTICS, Purpose.PERSONALIZATION
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def ev(type_: str = "presence.sighting", payload: dict[str, Any] | None = None, event_id: str = "e-1") -> EventIn:
    values = {"event_id": event_id, "type": type_, "occurred_at": NOW, "source": "gw-1", "payload": payload or {}}
    return EventIn.model_validate(values)


class SnapshotConsent(FakeConsent):
    """A ``FakeConsent`` that also reads many subjects at once, counting the batch reads."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshots: list[set[tuple[str, str]]] = []

    def snapshot(self, pairs: Iterable[tuple[str, str]]) -> ConsentSnapshot:
        wanted = set(pairs)
        self.snapshots.append(wanted)
        return ConsentSnapshot({pair: self.states[pair] for pair in wanted if pair in self.states}, fallback=self)


class Upper:
    """Another gate (not batch-scoped)."""

    name = "upper"

    def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None:
        return event


def test_one_batch_read_and_the_same_decisions() -> None:
    consent = SnapshotConsent()
    gate = PrivacyGate(consent=consent, pseudonyms=Pseudonymizer(MemoryKeys()), clock=FixedClock(NOW))
    yesterday = NOW - timedelta(days=1)
    consent.states[("t", "s1")] = state_with("t", "s1", {A, P}, at=yesterday)
    consent.states[("t", "s2")] = state_with("t", "s2", {A}, at=yesterday)
    consent.states[("u", "s1")] = state_with("u", "s1", set(), at=yesterday)
    items = [
        ("t", ev(payload={"subject": "s1"}, event_id="a")),
        ("t", ev("offers.shown", {"subject": "s2"}, event_id="b")),
        ("u", ev(payload={"subject": "s1"}, event_id="c")),
        ("t", ev(payload={"subject": "s3"}, event_id="d")),  # unknown
        ("t", ev("unknown.kind", {"subject": "s1"}, event_id="e")),  # unclassified: nothing to read
        ("t", ev("device.heartbeat", {"uptime_s": 1}, event_id="f")),
    ]
    expected = [gate.check(tenant_id=t, event=e) for t, e in items]
    lookups = consent.lookups
    upper = Upper()
    scoped = scope_gates([gate, upper], items)
    assert scoped[1] is upper and isinstance(scoped[0], PrivacyGate) and scoped[0] is not gate
    assert consent.snapshots == [{("t", "s1"), ("t", "s2"), ("u", "s1"), ("t", "s3")}]
    assert [scoped[0].check(tenant_id=t, event=e) for t, e in items] == expected
    assert consent.lookups == lookups + 1  # only the subject the snapshot did not hold (s3) was read again
    assert [e is not None for e in expected] == [True, False, False, False, False, True]


def test_a_reader_without_batch_reads_and_a_batch_without_subjects_keep_the_gate() -> None:
    gate = PrivacyGate(consent=FakeConsent(), pseudonyms=Pseudonymizer(MemoryKeys()))  # no ``snapshot``
    items = [("t", ev(payload={"subject": "s1"}))]
    assert gate.for_batch(items) is gate
    batch_gate = PrivacyGate(consent=SnapshotConsent(), pseudonyms=Pseudonymizer(MemoryKeys()))
    assert batch_gate.for_batch([("t", ev("device.heartbeat", {"uptime_s": 1}))]) is batch_gate
    assert batch_gate.for_batch([]) is batch_gate
