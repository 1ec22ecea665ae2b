"""From an ESPresense MQTT message to an offer fetched by the app, and redeemed at the till.

The honest end-to-end path — who knows what:
- The store is set up through the API: a floor plan with zones, a gateway and an iBeacon placed in each
  zone (``presence/setup``), and a campaign "enter the dairy zone" for tier 2.
- The **gateways** publish ESPresense over MQTT (``<prefix>/<tenant>/<gateway>/espresense``): they hear the
  store's beacons and every phone in range — the shopper's too, but only as an anonymous device stored as a
  daily keyed token. A gateway reading can never become a person's offer, by design.
- The **shopper's app** (registered with ``POST /v1/me/register`` at tier 2) reports the beacons it hears
  (``POST /v1/me/presence``); that is the only per-person presence. The privacy gate swaps the subject for
  its stable pseudonym, the presence processor enters the zone, the offers processor issues the coupon.
- The app long-polls ``/v1/me/offers`` (``OfferFeed.wait_for_new``) and gets the coupon with its code; a
  till redeems the code with a POS key.
A tier-1 shopper walking the same path is tracked under a daily pseudonym and gets no offer.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from sqlalchemy import Engine, select

from tests.support.mqtt import Publisher, forget_session
from tests.support.services import MQTT_PORT, free_port, need
from tradeoff.offers.delivery.app_client import OfferFeed
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.tables import events
from tradeoff.platform.mqtt import MqttIngestor
from tradeoff.platform.settings import Settings
from tradeoff.server import create_server_app

pytestmark = pytest.mark.mqtt
UUID = "5f2dd896-b886-4549-ae01-e41acd7a354a"
ZONES = {"entrance": (0.0, 1), "dairy": (10.0, 2)}  # zone → (x of its left wall, beacon minor)
PHONE_MAC = "5a1b2c3d4e5f"


@dataclass
class Store:
    url: str
    platform: Platform
    prefix: str
    keys: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture
def store(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Store]:
    need("Mosquitto", "127.0.0.1", MQTT_PORT)
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        database_url=database_url,
        mqtt_url=f"mqtt://127.0.0.1:{MQTT_PORT}",
        mqtt_client_id=f"test-offer-e2e-{tag}",
        mqtt_topic_prefix=f"test{tag}",
        var_dir=tmp_path,
        keyring_path=tmp_path / "keys" / "keyring.json",
    )
    keys: dict[str, str] = {}
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme Grocer").id
        for role in (Role.ADMIN, Role.STAFF, Role.DEVICE, Role.POS):
            keys[role.value] = create_api_key(conn, tenant_id=tenant, role=role, name=role.value).secret
    platform = build_platform(settings)
    platform.start()
    port = free_port()
    config = uvicorn.Config(create_server_app(settings, platform=platform), host="127.0.0.1", port=port,
                            log_config=None, access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started, "the server did not start")
    try:
        assert isinstance(platform.mqtt, MqttIngestor) and platform.mqtt.wait_connected(10)
        yield Store(f"http://127.0.0.1:{port}", platform, settings.mqtt_topic_prefix, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        platform.close()
        forget_session(MQTT_PORT, settings.mqtt_client_id)


def until(condition: Callable[[], Any], message: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, message
        time.sleep(0.1)
    return value


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def set_up_store(client: httpx.Client, store: Store) -> str:
    """Floor plan, one gateway and one beacon placed in each zone, the campaign; returns the campaign id."""
    site = ok(client.post("/v1/sites", headers=store.h("admin"), json={"name": "Main street"}), 201)["id"]
    zones = [{"name": name, "label": name.title(), "polygon": [[x, 0], [x + 10, 0], [x + 10, 10], [x, 10]]}
             for name, (x, _minor) in ZONES.items()]  # fmt: skip
    plan = {"width_m": 20, "height_m": 10, "zones": zones}
    ok(client.put(f"/v1/sites/{site}/floor-plan", headers=store.h("admin"), json=plan))
    for name, (x, minor) in ZONES.items():
        body = {"external_id": f"gw-{name}", "kind": "gateway", "site_id": site}
        device = ok(client.post("/v1/devices", headers=store.h("admin"), json=body), 201)["id"]
        placement = {"x_m": x + 5, "y_m": 5}
        ok(client.put(f"/v1/sites/{site}/gateways/{device}/placement", headers=store.h("admin"), json=placement))
        beacon = {"kind": "ibeacon", "uuid": UUID, "major": 1, "minor": minor, "x_m": x + 5, "y_m": 6,
                  "measured_power": -59, "label": f"{name} shelf"}  # fmt: skip
        assert ok(client.post(f"/v1/sites/{site}/beacons", headers=store.h("admin"), json=beacon), 201)["zone"] == name
    now = datetime.now(UTC)
    campaign = {
        "name": "Dairy 10%", "status": "active", "trigger": {"kind": "enter_zone", "zone": "dairy"},
        "audience": {"min_tier": 2}, "offer": {"kind": "percent", "percent_off": 10, "title": "10% off dairy"},
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=7)).isoformat(),
    }  # fmt: skip
    return str(ok(client.post("/v1/offers/campaigns", headers=store.h("staff"), json=campaign), 201)["id"])


def espresense(identity: str, mac: str, rssi: float, power: int) -> bytes:
    """One ESPresense reading as the gateway publishes it (the platform topic names the gateway)."""
    return orjson.dumps({"id": identity, "mac": mac, "rssi@1m": power, "rssi": rssi, "rxAdj": 0, "int": 300})


def gateways_publish(store: Store, publisher: Publisher) -> int:
    """Each gateway hears its own beacon; the dairy gateway hears the shopper's phone (an anonymous MAC)."""
    messages = []
    for name, (_x, minor) in ZONES.items():
        topic = f"{store.prefix}/acme/gw-{name}/espresense"
        messages.append((topic, espresense(f"iBeacon:{UUID}-1-{minor}", f"c0ffee00000{minor}", -60.5, -59)))
    messages.append((f"{store.prefix}/acme/gw-dairy/espresense", espresense(PHONE_MAC, PHONE_MAC, -66.0, -62)))
    return publisher.publish_all(messages)


def register(client: httpx.Client, store: Store, tier: int) -> str:
    body = {"consent": {"tier": tier, "policy_version": "2026-11", "source": "app"}}
    return str(ok(client.post("/v1/me/register", headers=store.h("device"), json=body), 201)["app_token"])


def walk_into_dairy(client: httpx.Client, token: str, tag: str) -> dict[str, Any]:
    """The app's report of 12 s of scans: the dairy shelf's beacon close, the entrance's far away."""
    start = datetime.now(UTC) - timedelta(seconds=12)
    heard = []
    for s in range(13):
        at = (start + timedelta(seconds=s)).isoformat()
        for minor, rssi in ((2, -56.0), (1, -88.0)):
            heard.append({"at": at, "rssi": rssi, "kind": "ibeacon", "uuid": UUID, "major": 1, "minor": minor,
                          "measured_power": -59})  # fmt: skip
    report = {"report_id": f"walk-{tag}", "sightings": heard}
    return dict(ok(client.post("/v1/me/presence", headers={"Authorization": f"Bearer {token}"}, json=report)))


def test_an_espresense_message_and_the_apps_report_lead_to_an_offer_the_till_redeems(
    store: Store, engine: Engine
) -> None:
    publisher = Publisher(MQTT_PORT, client_id=f"gw-{uuid.uuid4().hex[:8]}")
    try:
        with httpx.Client(base_url=store.url, timeout=40) as client:
            campaign_id = set_up_store(client, store)
            assert gateways_publish(store, publisher) == 3
            rows = until(
                lambda: len(r := _gateway_sightings(engine)) >= 3 and r, "the gateway sightings were not stored"
            )
            devices = [row for row in rows if row["identity"]["kind"] == "device"]
            assert len(rows) == 3 and len(devices) == 1
            assert PHONE_MAC not in orjson.dumps(rows).decode(), "a phone heard by a gateway is only a token"

            shopper, anonymous = register(client, store, tier=2), register(client, store, tier=1)
            feed, feed_tier1 = OfferFeed(client, shopper), OfferFeed(client, anonymous)
            assert feed.offers() == [] and feed_tier1.offers() == []
            stored = walk_into_dairy(client, shopper, "t2")
            assert (stored["accepted"], stored["dropped"]) == (26, 0)
            assert walk_into_dairy(client, anonymous, "t1")["accepted"] == 26  # tier 1: analytics only
            gateways_publish(store, publisher)  # gateways keep reporting while shoppers walk

            (offer,) = feed.wait_for_new(timeout=30)
            assert offer["campaign_id"] == campaign_id and offer["state"] == "issued"
            assert offer["offer"]["percent_off"] == 10 and len(offer["code"]) == 14

            stats = until(
                lambda: (s := _stats(client, store, campaign_id))["skipped"].get("no_consent") and s,
                "the tier-1 shopper's zone entry was not decided",
            )
            assert stats["issued"] == 1 and stats["skipped"] == {"no_consent": 1}
            assert feed_tier1.offers() == [] and feed_tier1.wait_for_new(timeout=1) == []

            till = {"transaction_id": "pos-txn-1"}
            held = ok(client.post(f"/v1/coupons/{offer['code']}/reserve", headers=store.h("pos"), json=till))
            assert held["state"] == "reserved"
            redeemed = ok(client.post(f"/v1/coupons/{offer['code']}/redeem", headers=store.h("pos"), json=till))
            assert redeemed["state"] == "redeemed"
            again = client.post(
                f"/v1/coupons/{offer['code']}/redeem", headers=store.h("pos"), json={"transaction_id": "x"}
            )
            assert again.status_code == 409 and again.json()["error"]["details"]["reason"] == "already_redeemed"
            assert _stats(client, store, campaign_id)["redeemed"] == 1
    finally:
        publisher.close()


def _gateway_sightings(engine: Engine) -> list[dict[str, Any]]:
    query = select(events.c.payload).where(events.c.type == "presence.sighting", events.c.source.like("gw-%"))
    with engine.connect() as conn:
        return [dict(payload) for payload in conn.execute(query).scalars()]


def _stats(client: httpx.Client, store: Store, campaign_id: str) -> dict[str, Any]:
    return dict(ok(client.get(f"/v1/offers/campaigns/{campaign_id}/stats", headers=store.h("staff"))))
