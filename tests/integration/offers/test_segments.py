"""Audience segments on SQLite and PostgreSQL, through the served API and the offers processor wired by the
offers capability: the merchant's catalogue, the shopper releasing segments (tier 2+ only, encrypted,
exported, erased), the resolver (consent and catalogue read at decision time) and a segment campaign that
issues a coupon only to the shopper who released its segment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from tradeoff.core.clock import SystemClock
from tradeoff.offers.processor import PseudonymResolver
from tradeoff.offers.segments.service import ReleasedSegments
from tradeoff.offers.segments.store import offer_preferences, offer_segments
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.privacy.capability import privacy_of

UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
DAIRY = f"ibeacon:{UUID}/1/1"
CATALOGUE = {
    "segments": [
        {"key": "organic", "label": "Organic food", "description": "Offers on organic products"},
        {"key": "vegan", "label": "Vegan"},
    ]
}


@dataclass
class World:
    client: TestClient
    platform: Platform
    keys: dict[str, str]
    tenant_id: str

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings(database_url=database_url, var_dir=tmp_path / "var", keyring_path=tmp_path / "keyring.json")
    platform = build_platform(settings)
    keys = {}
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
        for role in (Role.ADMIN, Role.STAFF, Role.DEVICE, Role.POS):
            keys[role.value] = create_api_key(conn, tenant_id=tenant, role=role, name=role.value).secret
    with TestClient(create_app(platform=platform)) as client:
        yield World(client, platform, keys, tenant)
    platform.close()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def shopper(world: World, tier: int = 2) -> tuple[str, dict[str, str]]:
    body = {"consent": {"tier": tier, "policy_version": "2026-11", "source": "app"}}
    doc = ok(world.client.post("/v1/me/register", headers=world.h("device"), json=body), 201)
    return doc["subject_id"], {"Authorization": f"Bearer {doc['app_token']}"}


def set_tier(world: World, app: dict[str, str], tier: int) -> None:
    ok(
        world.client.put(
            "/v1/me/consent", headers=app, json={"tier": tier, "policy_version": "2026-11", "source": "app"}
        )
    )


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


def campaign_body(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "name": "Organic dairy", "status": "active", "trigger": {"kind": "enter_zone", "zone": "dairy"},
        "offer": {"kind": "percent", "percent_off": 10, "title": "10% off organic dairy"},
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=7)).isoformat(),
        **overrides,
    }  # fmt: skip


def rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(table))]


# -- the catalogue -----------------------------------------------------------------------------------------


def test_the_catalogue_is_for_admin_and_staff_and_validated(world: World) -> None:
    assert world.client.get("/v1/offers/segments").status_code == 401
    for role in ("device", "pos"):
        assert world.client.get("/v1/offers/segments", headers=world.h(role)).status_code == 403
        assert world.client.put("/v1/offers/segments", headers=world.h(role), json=CATALOGUE).status_code == 403
    assert ok(world.client.get("/v1/offers/segments", headers=world.h("staff"))) == {"segments": []}
    saved = ok(world.client.put("/v1/offers/segments", headers=world.h("staff"), json=CATALOGUE))
    assert [s["key"] for s in saved["segments"]] == ["organic", "vegan"]
    assert saved["segments"][1] == {"key": "vegan", "label": "Vegan", "description": None}
    assert ok(world.client.get("/v1/offers/segments", headers=world.h("admin"))) == saved

    for bad, field in (
        ({"segments": [{"key": "Organic!", "label": "x"}]}, "segments.0.key"),
        ({"segments": [{"key": "organic", "label": ""}]}, "segments.0.label"),
        ({"segments": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]}, "segments"),
    ):
        refused = world.client.put("/v1/offers/segments", headers=world.h("admin"), json=bad)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "invalid_input" and field in str(error["details"]), error
    assert ok(world.client.get("/v1/offers/segments", headers=world.h("admin"))) == saved  # nothing changed


def test_a_campaign_audience_names_only_catalogue_segments(world: World) -> None:
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json=CATALOGUE))
    refused = world.client.post(
        "/v1/offers/campaigns", headers=world.h("staff"), json=campaign_body(audience={"segments": ["gluten-free"]})
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["details"]["field"] == "audience.segments" and "'gluten-free'" in error["details"]["reason"]
    body = campaign_body(audience={"segments": ["organic"]})
    campaign = ok(world.client.post("/v1/offers/campaigns", headers=world.h("staff"), json=body), 201)

    only_vegan = {"segments": [CATALOGUE["segments"][1]]}
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json=only_vegan))
    url = f"/v1/offers/campaigns/{campaign['id']}"
    paused = ok(world.client.put(url, headers=world.h("staff"), json={**body, "status": "paused"}))
    assert paused["status"] == "paused", "a segment the catalogue dropped may stay on an existing campaign"
    added = {**body, "audience": {"segments": ["organic", "halal"]}}
    assert world.client.put(url, headers=world.h("staff"), json=added).json()["error"]["details"]["field"] == (
        "audience.segments"
    )


# -- the shopper's preferences -------------------------------------------------------------------------------


def test_preferences_need_personalization_consent(world: World, engine: Engine) -> None:
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json=CATALOGUE))
    _subject, app = shopper(world, tier=1)
    refused = world.client.put("/v1/me/preferences", headers=app, json={"segments": ["organic"]})
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["reason"] == "personalization_not_granted"
    assert rows(engine, offer_preferences) == [], "nothing stored"
    view = ok(world.client.get("/v1/me/preferences", headers=app))
    assert view["segments"] == [] and view["personalization"] is False and len(view["catalogue"]) == 2
    assert world.client.put("/v1/me/preferences", json={"segments": []}).status_code == 401


def test_preferences_are_stored_encrypted_exported_and_erased(world: World, engine: Engine) -> None:
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json=CATALOGUE))
    subject_id, app = shopper(world)
    unknown = world.client.put("/v1/me/preferences", headers=app, json={"segments": ["organic", "halal"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["field"] == "segments[1]"
    saved = ok(world.client.put("/v1/me/preferences", headers=app, json={"segments": ["vegan", "organic"]}))
    assert saved["segments"] == ["organic", "vegan"] and saved["personalization"] is True

    (stored,) = rows(engine, offer_preferences)
    assert stored["subject_id"] == subject_id and b"organic" not in bytes(stored["segments"]), "vault ciphertext"
    exported = ok(world.client.get("/v1/me/data", headers=app))["tables"]["offer_preferences"]
    assert len(exported) == 1 and exported[0]["segments"] == '["organic","vegan"]'

    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json={"segments": [CATALOGUE["segments"][1]]}))
    view = ok(world.client.get("/v1/me/preferences", headers=app))
    assert view["segments"] == ["vegan"] and view["retired"] == ["organic"]

    erased = ok(world.client.delete("/v1/me", headers=app))
    assert erased["tables"]["offer_preferences"] == 1
    assert rows(engine, offer_preferences) == []
    assert world.client.get("/v1/me/preferences", headers=app).status_code == 410


def test_the_shopper_can_always_forget_them(world: World, engine: Engine) -> None:
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json=CATALOGUE))
    _subject, app = shopper(world)
    ok(world.client.put("/v1/me/preferences", headers=app, json={"segments": ["organic"]}))
    set_tier(world, app, 1)
    assert ok(world.client.get("/v1/me/preferences", headers=app))["personalization"] is False
    assert world.client.delete("/v1/me/preferences", headers=app).status_code == 204
    assert rows(engine, offer_preferences) == []
    set_tier(world, app, 2)
    ok(world.client.put("/v1/me/preferences", headers=app, json={"segments": ["organic"]}))
    ok(world.client.put("/v1/me/preferences", headers=app, json={"segments": []}))  # an empty choice deletes
    assert rows(engine, offer_preferences) == []


# -- the resolver --------------------------------------------------------------------------------------------


def resolve(world: World, engine: Engine, subject_id: str) -> frozenset[str]:
    privacy = privacy_of(world.platform)
    resolver = ReleasedSegments(
        vault=privacy.vault, subjects=PseudonymResolver(privacy.gate.pseudonyms), clock=SystemClock()
    )
    pseudonym = privacy.gate.pseudonyms.stable(world.tenant_id, subject_id)
    with engine.begin() as conn:
        return resolver(conn, world.tenant_id, pseudonym)


def test_the_resolver_stops_at_withdrawal_and_at_a_dropped_segment(world: World, engine: Engine) -> None:
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json=CATALOGUE))
    subject_id, app = shopper(world)
    ok(world.client.put("/v1/me/preferences", headers=app, json={"segments": ["organic", "vegan"]}))
    assert resolve(world, engine, subject_id) == {"organic", "vegan"}

    set_tier(world, app, 1)  # withdrawn: nothing, at once (the stored choice stays the shopper's to delete)
    assert resolve(world, engine, subject_id) == frozenset()
    set_tier(world, app, 2)
    assert resolve(world, engine, subject_id) == {"organic", "vegan"}

    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json={"segments": [CATALOGUE["segments"][1]]}))
    assert resolve(world, engine, subject_id) == {"vegan"}
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json={"segments": []}))
    assert resolve(world, engine, subject_id) == frozenset()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(offer_segments)).scalar_one() == 0

    other_subject, _ = shopper(world)
    assert resolve(world, engine, other_subject) == frozenset(), "a shopper who released nothing is in nothing"
    privacy = privacy_of(world.platform)
    with engine.begin() as conn:
        resolver = ReleasedSegments(
            vault=privacy.vault, subjects=PseudonymResolver(privacy.gate.pseudonyms), clock=SystemClock()
        )
        assert resolver(conn, world.tenant_id, "pd_aaaaaaaaaaaaaaaaaaaaaaaaaa") == frozenset(), "daily: never"


# -- a segment campaign, end to end ---------------------------------------------------------------------------


def test_a_segment_campaign_reaches_only_the_shopper_who_released_it(world: World) -> None:
    plan = {"width_m": 20, "height_m": 10, "zones": [], "receivers": [{"key": DAIRY, "zone": "dairy"}]}
    ok(world.client.post("/v1/sites", headers=world.h("admin"), json={"name": "Main", "floor_plan": plan}), 201)
    ok(world.client.put("/v1/offers/segments", headers=world.h("admin"), json=CATALOGUE))
    body = campaign_body(audience={"segments": ["organic"]})
    campaign_id = ok(world.client.post("/v1/offers/campaigns", headers=world.h("staff"), json=body), 201)["id"]
    _alice, alice = shopper(world)
    _bob, bob = shopper(world)
    ok(world.client.put("/v1/me/preferences", headers=alice, json={"segments": ["organic"]}))
    ok(world.client.put("/v1/me/preferences", headers=bob, json={"segments": ["vegan"]}))

    start = datetime.now(UTC) - timedelta(seconds=40)
    ok(world.client.post("/v1/me/events", headers=alice, json=sightings("alice", start, 30)))
    ok(world.client.post("/v1/me/events", headers=bob, json=sightings("bob", start, 30)))
    for _ in range(2):  # presence appends derived events the offers processor then reads
        world.platform.bus.drain()

    alice_wallet = ok(world.client.get("/v1/me/coupons", headers=alice))["coupons"]
    assert len(alice_wallet) == 1 and alice_wallet[0]["campaign_id"] == campaign_id
    assert ok(world.client.get("/v1/me/coupons", headers=bob))["coupons"] == []
    stats = ok(world.client.get(f"/v1/offers/campaigns/{campaign_id}/stats", headers=world.h("staff")))
    assert stats["issued"] == 1 and stats["skipped"] == {"not_in_audience": 1}
