"""Consent read for a whole batch at once (SQLite and PostgreSQL): ``consent_states`` answers exactly what
``consent_state`` answers for each subject, now and as of any time; the ingest gate scoped to a batch reads
once and decides as event-by-event reads would; a withdrawal committed between two batches applies from
the next batch on (nothing is kept across batches); stable pseudonyms resolve to subjects in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tradeoff.core.events import EventIn
from tradeoff.platform import tenancy
from tradeoff.platform.ingest.gates import BatchScopedGate, scope_gates
from tradeoff.privacy.consent import (
    ConsentCache,
    ConsentChange,
    Source,
    change_consent,
    changes_for_tier,
    consent_state,
    consent_states,
    ledger,
    read_snapshot,
)
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.keys import LocalKeyProvider
from tradeoff.privacy.subjects import Pseudonymizer, StablePseudonymIndex, close_subject, register_subject

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)


class Shoppers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.begin() as conn:
            self.tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
            self.other_tenant = tenancy.create_tenant(conn, slug="other", name="Other").id

    def new(self, *tiers: int, tenant: str | None = None, start: datetime = T0) -> str:
        """A subject whose consent went through ``tiers``, one change an hour from ``start``."""
        tenant = tenant or self.tenant
        with self.engine.begin() as conn:
            subject = register_subject(conn, tenant_id=tenant, at=start).subject.subject_id
        for hour, tier in enumerate(tiers):
            self.set_tier(subject, tier, at=start + timedelta(hours=hour), tenant=tenant)
        return subject

    def set_tier(self, subject: str, tier: int, *, at: datetime, tenant: str | None = None) -> None:
        change = ConsentChange(changes_for_tier(tier), "v1", Source.APP)
        change_consent(self.engine, tenant_id=tenant or self.tenant, subject_id=subject, change=change, at=at)

    def close(self, subject: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            close_subject(conn, tenant_id=self.tenant, subject_id=subject, at=at)


@pytest.fixture
def shoppers(engine: Engine) -> Shoppers:
    return Shoppers(engine)


def test_consent_states_answers_what_consent_state_answers(shoppers: Shoppers, monkeypatch: pytest.MonkeyPatch) -> None:
    subjects = [
        shoppers.new(2),
        shoppers.new(3, 1),
        shoppers.new(2, 0, 3),
        shoppers.new(),  # registered, never asked
        shoppers.new(1, 2),
    ]
    shoppers.close(subjects[4], at=T0 + timedelta(hours=3))  # erased: unknown now, known before
    foreign = shoppers.new(2, tenant=shoppers.other_tenant)
    asked = [*subjects, foreign, "0" * 32]
    monkeypatch.setattr(ledger, "BATCH_CHUNK", 3)  # several chunks
    times: list[datetime | None] = [None, T0 - timedelta(hours=1), T0 + timedelta(minutes=30), T0 + timedelta(hours=2)]
    with shoppers.engine.connect() as conn:
        for at in times:
            batch = consent_states(conn, tenant_id=shoppers.tenant, subject_ids=asked + asked[:2], at=at)
            assert set(batch) == set(asked)
            for subject in asked:
                assert batch[subject] == consent_state(conn, tenant_id=shoppers.tenant, subject_id=subject, at=at)
        now = consent_states(conn, tenant_id=shoppers.tenant, subject_ids=asked)
        assert consent_states(conn, tenant_id=shoppers.tenant, subject_ids=[]) == {}
    assert [now[s].tier(T0 + timedelta(hours=5)) for s in subjects] == [2, 1, 3, 0, 0]
    assert not now[foreign].known and not now["0" * 32].known and not now[subjects[4]].known


def event(subject: str, n: int, type_: str = "presence.sighting") -> EventIn:
    payload: dict[str, Any] = {"subject": subject, "zone": "dairy"}
    return EventIn.model_validate(
        {"event_id": f"e-{n}", "type": type_, "occurred_at": T0, "source": "app", "payload": payload}
    )


def check_all(gate: Any, tenant: str, events: list[EventIn]) -> list[EventIn | None]:
    return [gate.check(tenant_id=tenant, event=e) for e in events]


@pytest.mark.parametrize("ttl", [0.0, 3600.0], ids=["no-cache", "cached"])
def test_the_gate_reads_a_batch_once_and_a_withdrawal_applies_to_the_next_batch(
    shoppers: Shoppers, tmp_path: Path, ttl: float
) -> None:
    cache = ConsentCache(shoppers.engine, ttl_seconds=ttl)
    gate = PrivacyGate(consent=cache, pseudonyms=Pseudonymizer(LocalKeyProvider(tmp_path / "keyring.json")))
    assert isinstance(gate, BatchScopedGate)
    alice, bob, carol, dave = shoppers.new(2), shoppers.new(1), shoppers.new(0), shoppers.new(3)
    events = [event(s, n) for n, s in enumerate([alice, bob, carol, alice, dave, "no-such-subject", bob])]
    events.append(event(bob, 99, "offers.shown"))  # tier 1: no personalization

    per_event = check_all(gate, shoppers.tenant, events)
    cache.clear()  # with a TTL the per-event reads above were kept
    before = cache.reads
    scoped = scope_gates([gate], [(shoppers.tenant, e) for e in events])[0]
    assert cache.reads == before + 1  # the whole batch in one read
    assert check_all(scoped, shoppers.tenant, events) == per_event
    assert cache.reads == before + 1
    assert [e is not None for e in per_event] == [True, True, False, True, True, False, True, False]

    shoppers.set_tier(alice, 0, at=T0 + timedelta(hours=1))  # withdrawal committed between two batches
    next_batch = scope_gates([gate], [(shoppers.tenant, e) for e in events])[0]
    assert [e is not None for e in check_all(next_batch, shoppers.tenant, events)] == [
        False, True, False, False, True, False, True, False
    ]  # fmt: skip
    assert check_all(scoped, shoppers.tenant, events[:1]) != [None]  # the old batch's view is its own only


def test_the_scoped_gate_reads_what_it_was_not_prepared_for(shoppers: Shoppers, tmp_path: Path) -> None:
    gate = PrivacyGate(
        consent=ConsentCache(shoppers.engine), pseudonyms=Pseudonymizer(LocalKeyProvider(tmp_path / "k.json"))
    )
    alice, bob = shoppers.new(2), shoppers.new(2)
    scoped = gate.for_batch([(shoppers.tenant, event(alice, 1))])
    assert scoped.check(tenant_id=shoppers.tenant, event=event(bob, 2)) is not None  # read on demand
    assert gate.for_batch([(shoppers.tenant, event("x", 1, "unknown.kind"))]) is gate  # nothing to read


def test_read_snapshot_on_the_callers_transaction(shoppers: Shoppers) -> None:
    alice, bob = shoppers.new(2), shoppers.new(2)
    with shoppers.engine.begin() as conn:
        snapshot = read_snapshot(conn, [(shoppers.tenant, alice)])
        assert len(snapshot) == 1
        assert snapshot.state(tenant_id=shoppers.tenant, subject_id=alice).tier(T0) == 2
        assert snapshot.state(tenant_id=shoppers.tenant, subject_id=bob).tier(T0) == 2  # read on conn
        assert not snapshot.state(tenant_id=shoppers.tenant, subject_id="nobody").known


def test_stable_pseudonyms_resolve_in_batches(shoppers: Shoppers, tmp_path: Path) -> None:
    pseudonyms = Pseudonymizer(LocalKeyProvider(tmp_path / "keyring.json"))
    index = StablePseudonymIndex(pseudonyms)
    alice, bob = shoppers.new(2), shoppers.new(1)
    foreign = shoppers.new(2, tenant=shoppers.other_tenant)
    asked = {
        pseudonyms.stable(shoppers.tenant, alice): alice,
        pseudonyms.stable(shoppers.tenant, bob): bob,
    }
    daily = pseudonyms.daily(shoppers.tenant, alice, T0.date())
    wrong_tenant = pseudonyms.stable(shoppers.other_tenant, foreign)
    with shoppers.engine.connect() as conn:
        found = index.subjects_of(conn, tenant_id=shoppers.tenant, pseudonyms=[*asked, daily, wrong_tenant])
        assert found == asked  # a daily pseudonym never resolves; another tenant's subject does not either
        assert index.scans == 1
        assert index.subjects_of(conn, tenant_id=shoppers.tenant, pseudonyms=list(asked)) == asked
        assert index.scans == 1  # known ones need no query
    carol = shoppers.new(2)
    with shoppers.engine.connect() as conn:
        carol_p = pseudonyms.stable(shoppers.tenant, carol)
        assert index.subjects_of(conn, tenant_id=shoppers.tenant, pseudonyms=[carol_p, *asked]) == {
            carol_p: carol, **asked
        }  # fmt: skip
        assert index.scans == 2  # one query for the whole batch
