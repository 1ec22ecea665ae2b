"""The offers processor on the log (SQLite and PostgreSQL): a re-derived trigger for the same occasion
issues nothing more, the issue budget holds across shoppers, held-out shoppers get a ledger row and no
coupon, and an erased subject gets nothing. Consent is read once per batch, on the batch's transaction: a
withdrawal committed between two batches stops issuance from the next batch on, and a batch mixing
consented, withdrawn, erased and tier-1 shoppers issues only to the consented ones."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from tradeoff.core.clock import FixedClock
from tradeoff.offers import service
from tradeoff.offers.campaigns import CampaignSpec
from tradeoff.offers.decision import holdout_draw
from tradeoff.offers.processor import OffersProcessor, PseudonymResolver, holdout_key_of
from tradeoff.offers.store import offer_coupons, offer_decisions, offer_outbox
from tradeoff.platform import tenancy
from tradeoff.platform.bus import ProcessorRunner
from tradeoff.platform.eventlog import append_events, append_transaction
from tradeoff.privacy.consent import (
    ConsentChange,
    ConsentSnapshot,
    Source,
    change_consent,
    changes_for_tier,
    read_snapshot,
)
from tradeoff.privacy.keys import LocalKeyProvider
from tradeoff.privacy.subjects import Pseudonymizer, register_subject
from tradeoff.privacy.subjects.service import close_subject

NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)


@dataclass
class World:
    engine: Engine
    tenant: str
    pseudonyms: Pseudonymizer
    processor: OffersProcessor
    n: int = 0

    def shopper(self, tier: int = 2) -> tuple[str, str]:
        with self.engine.begin() as conn:
            subject = register_subject(conn, tenant_id=self.tenant, at=NOW).subject.subject_id
        change = ConsentChange(changes_for_tier(tier), "2026-11", Source.APP)
        change_consent(self.engine, tenant_id=self.tenant, subject_id=subject, change=change, at=NOW)
        return subject, self.pseudonyms.stable(self.tenant, subject)

    def campaign(self, **overrides: Any) -> str:
        spec = CampaignSpec.model_validate({
            "name": "Dairy", "status": "active", "trigger": {"kind": "enter_zone", "zone": "dairy"},
            "offer": {"kind": "percent", "percent_off": 10, "title": "10% off"},
            "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=1)).isoformat(),
            **overrides,
        })  # fmt: skip
        with self.engine.begin() as conn:
            return service.create_campaign(conn, tenant_id=self.tenant, spec=spec, now=NOW).id

    def entered(self, pseudonym: str, *, entered_at: datetime = NOW, event_id: str | None = None) -> None:
        self.n += 1
        payload = {"subject": pseudonym, "zone": "dairy", "at": entered_at.isoformat(),
                   "decided_at": NOW.isoformat(), "journey_start": True}  # fmt: skip
        row = {"tenant_id": self.tenant, "event_id": event_id or f"prs-{self.n}", "type": "presence.zone_entered",
               "schema_version": 1, "source": "presence", "occurred_at": entered_at, "received_at": NOW,
               "transport": "derived", "payload": payload}  # fmt: skip
        with append_transaction(self.engine) as conn:
            append_events(conn, [row])

    def drain(self) -> None:
        runner = ProcessorRunner(self.engine, self.processor)
        while runner.run_once():
            pass

    def count(self, table: Any, **where: Any) -> int:
        query = select(func.count()).select_from(table).where(*(table.c[k] == v for k, v in where.items()))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    keys = LocalKeyProvider(tmp_path / "keyring.json")
    pseudonyms = Pseudonymizer(keys)
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
    processor = OffersProcessor(
        resolver=PseudonymResolver(pseudonyms), holdout_key=holdout_key_of(keys), clock=FixedClock(NOW)
    )
    yield World(engine, tenant, pseudonyms, processor)


def test_a_re_derived_trigger_issues_nothing_more(world: World) -> None:
    world.campaign(caps={"per_day": None})
    _, alice = world.shopper()
    world.entered(alice, event_id="prs-a")
    world.drain()
    world.entered(alice, event_id="prs-a")  # the same event again: a duplicate in the log
    world.entered(alice, event_id="prs-b")  # the same visit derived again under another id
    world.drain()
    assert world.count(offer_coupons) == 1 and world.count(offer_outbox) == 1
    world.entered(alice, entered_at=NOW + timedelta(minutes=1))  # a new visit, but too soon (fatigue gap)
    world.drain()
    assert world.count(offer_coupons) == 1
    with world.engine.begin() as conn:
        service.update_settings(conn, tenant_id=world.tenant, fatigue_per_day=3, fatigue_min_gap_s=0, now=NOW)
    world.entered(alice, entered_at=NOW + timedelta(minutes=2))
    world.drain()
    assert world.count(offer_coupons) == 2


def test_the_budget_holds_across_shoppers(world: World) -> None:
    campaign_id = world.campaign(budget={"max_issued": 2})
    for _ in range(5):
        world.entered(world.shopper()[1])
    world.drain()
    assert world.count(offer_coupons) == 2
    with world.engine.connect() as conn:
        stats = service.campaign_stats(conn, tenant_id=world.tenant, campaign_id=campaign_id)
    assert stats["issued"] == 2 and stats["skipped"] == {"budget_issued": 3}


def test_held_out_shoppers_get_a_ledger_row_and_no_coupon(world: World) -> None:
    campaign_id = world.campaign(holdout=0.5)
    key = world.processor.holdout_key(world.tenant)
    shoppers = [world.shopper()[1] for _ in range(12)]
    for pseudonym in shoppers:
        world.entered(pseudonym)
    world.drain()
    held = {p for p in shoppers if holdout_draw(key, campaign_id, p) < 0.5}
    assert world.count(offer_decisions, outcome="holdout") == len(held)
    assert world.count(offer_coupons) == len(shoppers) - len(held)
    for pseudonym in held:
        assert world.count(offer_coupons, pseudonym=pseudonym) == 0


def test_an_erased_or_withdrawn_subject_gets_nothing(world: World) -> None:
    world.campaign()
    erased, erased_pseudonym = world.shopper()
    with world.engine.begin() as conn:
        close_subject(conn, tenant_id=world.tenant, subject_id=erased, at=NOW)
    _, tier1 = world.shopper(tier=1)
    world.entered(erased_pseudonym)
    world.entered(world.pseudonyms.daily(world.tenant, "x", NOW.date()))
    world.entered(tier1)  # a stable pseudonym whose subject is only at tier 1
    world.drain()
    assert world.count(offer_coupons) == 0 and world.count(offer_decisions) == 0


def set_tier(world: World, subject: str, tier: int) -> None:
    change = ConsentChange(changes_for_tier(tier), "2026-11", Source.APP)
    change_consent(world.engine, tenant_id=world.tenant, subject_id=subject, change=change, at=NOW)


def coupon_holders(world: World) -> set[str]:
    with world.engine.connect() as conn:
        return set(conn.execute(select(offer_coupons.c.pseudonym)).scalars())


@pytest.fixture
def snapshots(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many subjects each consent read of the processor asked for (one entry per read)."""
    reads: list[int] = []
    real = read_snapshot

    def spy(conn: Connection, pairs: Iterable[tuple[str, str]]) -> ConsentSnapshot:
        pairs = list(pairs)
        reads.append(len(set(pairs)))
        return real(conn, pairs)

    monkeypatch.setattr("tradeoff.offers.processor.read_snapshot", spy)
    return reads


def test_a_withdrawal_between_two_batches_stops_issuance_in_the_next(world: World, snapshots: list[int]) -> None:
    world.campaign(caps={"per_day": None})
    with world.engine.begin() as conn:
        service.update_settings(conn, tenant_id=world.tenant, fatigue_per_day=5, fatigue_min_gap_s=0, now=NOW)
    alice, alice_p = world.shopper()
    _, bob_p = world.shopper()
    world.entered(alice_p)
    world.entered(bob_p)
    world.drain()  # batch 1: both consented
    assert coupon_holders(world) == {alice_p, bob_p}

    set_tier(world, alice, 1)  # committed between the batches: personalization withdrawn
    later = NOW + timedelta(minutes=5)
    world.entered(alice_p, entered_at=later)  # a new visit each: without the withdrawal both would issue
    world.entered(bob_p, entered_at=later)
    world.drain()  # batch 2
    with world.engine.connect() as conn:
        issued = list(conn.execute(select(offer_coupons.c.pseudonym)).scalars())
        decided = list(conn.execute(select(offer_decisions.c.pseudonym)).scalars())
    assert sorted(issued) == sorted([alice_p, bob_p, bob_p])
    assert decided.count(alice_p) == 1  # the withdrawn shopper's second visit decided nothing
    assert snapshots == [2, 2]  # consent read once per batch, for the batch's subjects, never reused

    set_tier(world, alice, 2)  # a renewed grant counts again from the next batch
    world.entered(alice_p, entered_at=later + timedelta(minutes=5))
    world.drain()
    with world.engine.connect() as conn:
        assert list(conn.execute(select(offer_coupons.c.pseudonym)).scalars()).count(alice_p) == 2


def test_a_mixed_batch_issues_only_to_the_consented(world: World, snapshots: list[int]) -> None:
    world.campaign()
    consented = [world.shopper()[1] for _ in range(4)]
    withdrawn: list[str] = []
    for tier in (1, 0, 0):
        subject, pseudonym = world.shopper()
        set_tier(world, subject, tier)
        withdrawn.append(pseudonym)
    erased, erased_p = world.shopper()
    with world.engine.begin() as conn:
        close_subject(conn, tenant_id=world.tenant, subject_id=erased, at=NOW)
    _, tier1_p = world.shopper(tier=1)
    daily = world.pseudonyms.daily(world.tenant, "someone", NOW.date())
    interleaved = [consented[0], withdrawn[0], erased_p, consented[1], tier1_p, withdrawn[1], consented[2],
                   daily, withdrawn[2], consented[3]]  # fmt: skip
    for pseudonym in interleaved:  # all in one batch
        world.entered(pseudonym)
    world.drain()
    assert coupon_holders(world) == set(consented)
    with world.engine.connect() as conn:
        decided = set(conn.execute(select(offer_decisions.c.pseudonym)).scalars())
    assert decided == set(consented)
    assert len(snapshots) == 1 and snapshots[0] == len(consented) + len(withdrawn) + 2  # one read, 9 subjects
