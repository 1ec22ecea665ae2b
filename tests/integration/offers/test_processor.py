"""The offers processor on the log (SQLite and PostgreSQL): a re-derived trigger for the same occasion
issues nothing more, the issue budget holds across shoppers, held-out shoppers get a ledger row and no
coupon, and an erased subject gets nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from tradeoff.core.clock import FixedClock
from tradeoff.offers import service
from tradeoff.offers.campaigns import CampaignSpec
from tradeoff.offers.decision import holdout_draw
from tradeoff.offers.processor import OffersProcessor, PseudonymResolver, holdout_key_of
from tradeoff.offers.store import offer_coupons, offer_decisions, offer_outbox
from tradeoff.platform import tenancy
from tradeoff.platform.bus import ProcessorRunner
from tradeoff.platform.eventlog import append_events, append_transaction
from tradeoff.privacy.consent import ConsentChange, Source, change_consent, changes_for_tier
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
