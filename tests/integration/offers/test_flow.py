"""End to end on SQLite and PostgreSQL: the shopper's app reports beacons → presence events → a campaign
issues a coupon → the wallet shows its code → a till reserves, redeems, retries and voids it. A redelivered
batch issues nothing more; a shopper who withdrew between the sighting and the decision gets nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from tradeoff.offers.store import offer_coupons, offer_outbox
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings

UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
DAIRY = f"ibeacon:{UUID}/1/1"


@dataclass
class World:
    client: TestClient
    platform: Platform
    keys: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings(database_url=database_url, var_dir=tmp_path / "var", keyring_path=tmp_path / "keyring.json")
    platform = build_platform(settings)  # with the presence and offers capabilities
    keys = {}
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
        for role in (Role.ADMIN, Role.STAFF, Role.DEVICE, Role.POS):
            keys[role.value] = create_api_key(conn, tenant_id=tenant, role=role, name=role.value).secret
    with TestClient(create_app(platform=platform)) as client:
        yield World(client, platform, keys)
    platform.close()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def shopper(world: World, tier: int = 2) -> dict[str, str]:
    body = {"consent": {"tier": tier, "policy_version": "2026-11", "source": "app"}}
    doc = ok(world.client.post("/v1/me/register", headers=world.h("device"), json=body), 201)
    return {"Authorization": f"Bearer {doc['app_token']}"}


def sightings(tag: str, start: datetime, seconds: int) -> dict[str, Any]:
    heard = {"dialect": "app", "gateway": "app", "identity": {"kind": "ibeacon", "id": f"{UUID}/1/1"},
             "rssi": -50, "measured_power": -59}  # fmt: skip
    return {
        "events": [
            {"event_id": f"{tag}-{s}", "type": "presence.sighting",
             "occurred_at": (start + timedelta(seconds=s)).isoformat(), "payload": heard}
            for s in range(seconds)
        ]
    }  # fmt: skip


def setup_store_and_campaign(world: World, **campaign: Any) -> str:
    plan = {"width_m": 20, "height_m": 10, "zones": [], "receivers": [{"key": DAIRY, "zone": "dairy"}]}
    ok(world.client.post("/v1/sites", headers=world.h("admin"), json={"name": "Main", "floor_plan": plan}), 201)
    now = datetime.now(UTC)
    body = {
        "name": "Dairy 10%", "status": "active", "trigger": {"kind": "enter_zone", "zone": "dairy"},
        "offer": {"kind": "percent", "percent_off": 10, "title": "10% off dairy"},
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=7)).isoformat(),
        **campaign,
    }  # fmt: skip
    return str(ok(world.client.post("/v1/offers/campaigns", headers=world.h("staff"), json=body), 201)["id"])


def drain(world: World) -> None:
    for _ in range(2):  # presence appends derived events the offers processor then reads
        world.platform.bus.drain()


def test_sightings_to_coupon_to_till(world: World, engine: Engine) -> None:
    campaign_id = setup_store_and_campaign(world)
    app = shopper(world)
    start = datetime.now(UTC) - timedelta(seconds=40)
    batch = sightings("s1", start, 30)
    ok(world.client.post("/v1/me/events", headers=app, json=batch))
    drain(world)
    ok(world.client.post("/v1/me/events", headers=app, json=batch))  # redelivered: duplicates
    drain(world)
    wallet = ok(world.client.get("/v1/me/coupons", headers=app))["coupons"]
    assert len(wallet) == 1 and wallet[0]["state"] == "issued" and wallet[0]["offer"]["percent_off"] == 10
    code = wallet[0]["code"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(offer_outbox)).scalar_one() == 1
        stored = conn.execute(select(offer_coupons)).one()._mapping
    assert code.replace("-", "") not in str(dict(stored)), "the code itself is never stored"

    till, t1 = world.h("pos"), {"transaction_id": "pos-txn-1"}
    assert ok(world.client.post(f"/v1/coupons/{code}/reserve", headers=till, json=t1))["state"] == "reserved"
    taken = world.client.post(f"/v1/coupons/{code}/reserve", headers=till, json={"transaction_id": "other"})
    assert taken.status_code == 409 and taken.json()["error"]["details"]["reason"] == "reserved_elsewhere"
    assert ok(world.client.post(f"/v1/coupons/{code}/redeem", headers=till, json=t1))["state"] == "redeemed"
    assert ok(world.client.post(f"/v1/coupons/{code}/redeem", headers=till, json=t1))["state"] == "redeemed"
    stats = ok(world.client.get(f"/v1/offers/campaigns/{campaign_id}/stats", headers=world.h("staff")))
    assert (stats["issued"], stats["redeemed"], stats["held_out"]) == (1, 1, 0)
    assert ok(world.client.post(f"/v1/coupons/{code}/void", headers=till, json=t1))["state"] == "issued"
    assert ok(world.client.post(f"/v1/coupons/{code}/void", headers=till, json=t1))["state"] == "issued"
    stats = ok(world.client.get(f"/v1/offers/campaigns/{campaign_id}/stats", headers=world.h("staff")))
    assert stats["redeemed"] == 0
    assert world.client.post(f"/v1/coupons/{code}/redeem", headers=world.h("staff"), json=t1).status_code == 403
    forged = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert world.client.post(f"/v1/coupons/{forged}/redeem", headers=till, json=t1).status_code == 422


def test_a_withdrawal_before_the_decision_wins(world: World) -> None:
    campaign_id = setup_store_and_campaign(world)
    app = shopper(world)
    ok(world.client.post("/v1/me/events", headers=app, json=sightings("w", datetime.now(UTC), 20)))
    body = {"tier": 1, "policy_version": "2026-11", "source": "app"}
    ok(world.client.put("/v1/me/consent", headers=app, json=body))  # after the sightings were accepted
    drain(world)
    assert ok(world.client.get("/v1/me/coupons", headers=app))["coupons"] == []
    stats = ok(world.client.get(f"/v1/offers/campaigns/{campaign_id}/stats", headers=world.h("staff")))
    assert stats["issued"] == 0 and stats["skipped"] == {"no_consent": 1}


def test_a_tier_below_the_minimum_gets_nothing(world: World) -> None:
    campaign_id = setup_store_and_campaign(world, audience={"min_tier": 3})
    app = shopper(world, tier=2)
    ok(world.client.post("/v1/me/events", headers=app, json=sightings("t", datetime.now(UTC), 20)))
    drain(world)
    stats = ok(world.client.get(f"/v1/offers/campaigns/{campaign_id}/stats", headers=world.h("staff")))
    assert stats["issued"] == 0 and stats["skipped"] == {"tier_below_minimum": 1}


def test_campaign_api_validates_and_guards_changes(world: World) -> None:
    campaign_id = setup_store_and_campaign(world)
    bad = world.client.post("/v1/offers/campaigns", headers=world.h("staff"), json={"name": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    doc = ok(world.client.get(f"/v1/offers/campaigns/{campaign_id}", headers=world.h("staff")))
    body = {key: value for key, value in doc.items() if key not in ("id", "created_at", "updated_at")}
    ok(world.client.put(f"/v1/offers/campaigns/{campaign_id}", headers=world.h("staff"),
                        json={**body, "holdout": 0.2}))  # fmt: skip
    assert world.client.get("/v1/offers/campaigns", headers=world.h("pos")).status_code == 403
    assert world.client.get("/v1/offers/campaigns/nope", headers=world.h("staff")).status_code == 404
    app = shopper(world)
    ok(world.client.post("/v1/me/events", headers=app, json=sightings("g", datetime.now(UTC), 20)))
    drain(world)
    changed = world.client.put(f"/v1/offers/campaigns/{campaign_id}", headers=world.h("staff"),
                               json={**body, "holdout": 0.5})  # fmt: skip
    assert changed.status_code == 409
    assert world.client.delete(f"/v1/offers/campaigns/{campaign_id}", headers=world.h("staff")).status_code == 409
    ended = ok(world.client.put(f"/v1/offers/campaigns/{campaign_id}", headers=world.h("staff"),
                                json={**body, "holdout": 0.2, "status": "ended"}))  # fmt: skip
    assert ended["status"] == "ended"
    settings = {"fatigue_per_day": 2, "fatigue_min_gap_s": 600}
    assert ok(world.client.put("/v1/offers/settings", headers=world.h("admin"), json=settings)) == settings
    assert world.client.put("/v1/offers/settings", headers=world.h("staff"), json=settings).status_code == 403


def test_erasure_finds_and_deletes_the_shoppers_offer_rows(world: World, engine: Engine) -> None:
    setup_store_and_campaign(world)
    body = {"consent": {"tier": 2, "policy_version": "2026-11", "source": "app"}}
    doc = ok(world.client.post("/v1/me/register", headers=world.h("device"), json=body), 201)
    app = {"Authorization": f"Bearer {doc['app_token']}"}
    ok(world.client.post("/v1/me/events", headers=app, json=sightings("e", datetime.now(UTC), 20)))
    drain(world)
    assert len(ok(world.client.get("/v1/me/coupons", headers=app))["coupons"]) == 1
    export = ok(world.client.get(f"/v1/privacy/subjects/{doc['subject_id']}/export", headers=world.h("admin")))
    assert "offer_coupons" in str(export) and "offer_decisions" in str(export)
    ok(world.client.delete(f"/v1/privacy/subjects/{doc['subject_id']}", headers=world.h("admin")))
    with engine.connect() as conn:
        for table in (offer_coupons, offer_outbox):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
