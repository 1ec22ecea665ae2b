"""A seeded world for the data-subject-request tests: two tenants, shoppers with consent records, events
(stable and daily pseudonyms), vault ciphertext, a dead letter, and two test-only capability tables
(one keyed by subject id with an encrypted column, one keyed by pseudonym) on their own metadata."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.registry import all_metadata
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.platform.db.types import UtcDateTime
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.privacy.capability import PrivacyServices, privacy_of
from tradeoff.privacy.dsr import PersonalDataRegistry, build_registry
from tradeoff.privacy.subjects import Pseudonymizer

OPS, PSEUDO, PERSONAL = PrivacyClass.OPERATIONAL, PrivacyClass.PSEUDONYMOUS, PrivacyClass.PERSONAL

extra = MetaData()
profiles = Table(
    "dsr_test_profiles",
    extra,
    classified("id", String(32), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, privacy=OPS),
    classified("subject_id", String(32), nullable=False, privacy=PSEUDO, subject_key=True),
    classified("email", LargeBinary(), nullable=False, privacy=PERSONAL, encrypted=True),
    classified("photo", LargeBinary(), nullable=True, privacy=PERSONAL, encrypted=True),
    classified("blob", LargeBinary(), nullable=True, privacy=PSEUDO),
    classified("api_secret", String(64), nullable=True, privacy=OPS, secret=True),
    classified("created_at", UtcDateTime(), nullable=False, privacy=PSEUDO),
    info={"time_column": "created_at"},
)
visits = Table(
    "dsr_test_visits",
    extra,
    classified("id", Integer(), primary_key=True, autoincrement=True, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, privacy=OPS),
    classified("pseudonym", String(40), nullable=False, privacy=PSEUDO, pseudonym_key=True),
    classified("zone", String(32), nullable=False, privacy=PSEUDO),
    classified("started_at", UtcDateTime(), nullable=False, privacy=PSEUDO),
    info={"time_column": "started_at"},
)


def extended_registry() -> PersonalDataRegistry:
    return build_registry([*all_metadata().sorted_tables, profiles, visits])


@dataclass
class Shopper:
    subject_id: str
    headers: dict[str, str]
    tenant: str
    accepted: list[str] = field(default_factory=list)  # stored event ids


@dataclass
class World:
    client: TestClient
    platform: Platform
    engine: Engine
    settings: Settings
    keys: dict[str, str]  # "<tenant>:<role>" → API key secret
    tenants: dict[str, str]  # slug → id
    shoppers: dict[str, Shopper] = field(default_factory=dict)
    ciphertexts: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name → (profile id, email)

    @property
    def privacy(self) -> PrivacyServices:
        return privacy_of(self.platform)

    def key(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def register(self, name: str, tenant: str, consent: dict[str, Any] | None) -> Shopper:
        body = {"consent": {"policy_version": "2026-11", "source": "app", **consent}} if consent else None
        response = self.client.post("/v1/me/register", headers=self.key(f"{tenant}:device"), json=body)
        assert response.status_code == 201, response.text
        doc = response.json()
        shopper = Shopper(doc["subject_id"], {"Authorization": f"Bearer {doc['app_token']}"}, tenant)
        self.shoppers[name] = shopper
        return shopper

    def send(self, shopper: Shopper, items: list[tuple[str, str]], *, prefix: str = "ev") -> list[str]:
        """``items`` = (type, occurred_at) pairs sent by the shopper's app; returns per-item statuses."""
        body = {
            "events": [
                {"event_id": f"{prefix}-{i}", "type": kind, "occurred_at": at, "payload": {"zone": "bakery"}}
                for i, (kind, at) in enumerate(items)
            ]
        }
        response = self.client.post("/v1/me/events", headers=shopper.headers, json=body)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        shopper.accepted += [r["event_id"] for r in results if r["status"] == "accepted"]
        return [r["status"] for r in results]

    def pseudonyms(self, shopper: Shopper) -> set[str]:
        """Every pseudonym the shopper's stored events carry (looked up through the stored ids)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.payload).where(
                    events.c.tenant_id == self.tenants[shopper.tenant], events.c.event_id.in_(shopper.accepted)
                )
            )
            return {row.payload["subject"] for row in rows}

    def events_of(self, shopper: Shopper) -> int:
        pseudonyms = self.pseudonyms_for(shopper)
        with self.engine.connect() as conn:
            rows = conn.execute(select(events.c.payload).where(events.c.tenant_id == self.tenants[shopper.tenant]))
            return sum(1 for row in rows if row.payload.get("subject") in pseudonyms)

    def pseudonyms_for(self, shopper: Shopper) -> set[str]:
        days = [datetime(2026, 11, d, tzinfo=UTC).date() for d in range(20, 31)]
        tenant_id = self.tenants[shopper.tenant]
        return Pseudonymizer(self.privacy.keys).all_pseudonyms(tenant_id, shopper.subject_id, days)


def seed(world: World) -> None:
    """alice (tier 2) and bob (tier 2) at acme, carol (tier 1, daily pseudonyms over several days) at acme,
    zed (tier 2) at zeta, with the same kinds of data each."""
    alice = world.register("alice", "acme", {"tier": 2})
    bob = world.register("bob", "acme", {"tier": 2})
    carol = world.register("carol", "acme", {"tier": 1})
    zed = world.register("zed", "zeta", {"tier": 2})
    for shopper in (alice, bob, zed):
        change = {"purposes": {"purchase_linking": True}, "policy_version": "2026-11", "source": "app"}
        assert world.client.put("/v1/me/consent", headers=shopper.headers, json=change).status_code == 200
        assert world.send(shopper, [("offers.viewed", f"2026-11-2{i}T10:00:00Z") for i in range(4)]) == ["accepted"] * 4
    # carol: daily pseudonyms; one event whose local day (UTC-10) differs from its UTC date
    days = ["2026-11-25T09:00:00Z", "2026-11-26T09:00:00+02:00", "2026-11-29T23:30:00-10:00"]
    assert world.send(carol, [("presence.sighting", at) for at in days]) == ["accepted"] * 3
    vault = world.privacy.vault
    extra.create_all(world.engine)
    with write_transaction(world.engine) as conn:
        for name, shopper in world.shoppers.items():
            tenant_id = world.tenants[shopper.tenant]
            profile_id = secrets.token_hex(8)
            email = vault.encrypt_text(
                tenant_id,
                shopper.subject_id,
                f"{name}@example.com",
                table=profiles.name,
                column="email",
                row_id=profile_id,
                conn=conn,
            )
            photo = vault.encrypt(
                tenant_id,
                shopper.subject_id,
                b"\xff\xd8\xff",
                table=profiles.name,
                column="photo",
                row_id=profile_id,
                conn=conn,
            )
            world.ciphertexts[name] = (profile_id, email)
            conn.execute(
                insert(profiles).values(
                    id=profile_id,
                    tenant_id=tenant_id,
                    subject_id=shopper.subject_id,
                    email=email,
                    photo=photo,
                    blob=b"\x00\x01",
                    api_secret="s3cr3t",
                    created_at=datetime(2026, 11, 20, tzinfo=UTC),
                )
            )
            for pseudonym in world.pseudonyms(shopper):
                conn.execute(
                    insert(visits).values(
                        tenant_id=tenant_id, pseudonym=pseudonym, zone="bakery", started_at=datetime.now(UTC)
                    )
                )
    # A rejected message naming alice in a form no scrubber parses (a vendor line): kept raw in dead letters.
    with write_transaction(world.engine) as conn:
        conn.execute(
            insert(dead_letters).values(
                tenant_id=world.tenants["acme"],
                transport="mqtt",
                source="gw-1",
                reason_code="undecodable",
                reason="not a known format",
                raw=f"LOYALTY|{alice.subject_id}|bakery|??".encode(),
                received_at=datetime.now(UTC),
            )
        )


def count(conn: Connection, table: Table, **where: Any) -> int:
    query = select(table)
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    return len(conn.execute(query).all())


def dead_letters_naming(engine: Engine, subject_id: str) -> int:
    with engine.connect() as conn:
        return sum(1 for row in conn.execute(select(dead_letters.c.raw)) if subject_id.encode() in bytes(row.raw))


def snapshot(engine: Engine, tables: list[Table]) -> dict[str, list[dict[str, Any]]]:
    """A 'backup' of the data tables (both backends; the keyring and the ledger are kept apart)."""
    with engine.connect() as conn:
        return {table.name: [dict(row._mapping) for row in conn.execute(select(table))] for table in tables}


def restore(engine: Engine, tables: list[Table], backup: dict[str, list[dict[str, Any]]]) -> None:
    with write_transaction(engine) as conn:
        for table in reversed(tables):
            conn.execute(delete(table))
        for table in tables:
            if backup[table.name]:
                conn.execute(insert(table), backup[table.name])


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    keys: dict[str, str] = {}
    tenants: dict[str, str] = {}
    with engine.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug.title()).id
            tenants[slug] = tenant
            for role in Role:
                keys[f"{slug}:{role.value}"] = create_api_key(conn, tenant_id=tenant, role=role, name=role.value).secret
    settings = Settings(database_url=database_url, var_dir=tmp_path, keyring_path=tmp_path / "keys" / "keyring.json")
    platform = build_platform(settings)
    try:
        with TestClient(create_app(settings, platform=platform)) as client:
            w = World(client, platform, engine, settings, keys, tenants)
            seed(w)
            yield w
    finally:
        platform.close()
