"""Webhook endpoints: URL rules, derived secrets (never stored), rotation overlap, the admin API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.unit.offers.delivery.world import World, make_world
from tradeoff.core.errors import InvalidInput
from tradeoff.offers.delivery.endpoints import check_url, get_endpoint, secret_of, signing_secrets
from tradeoff.offers.delivery.store import offer_webhook_endpoints
from tradeoff.privacy.capability import privacy_of


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path) as value:
        yield value


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "http://example.com/hook",
        "https://user:pw@example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://localhost/hook",
        "https://example.com/hook#x",
        "example.com/hook",
    ],
)
def test_urls_must_be_public_https(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url)


def test_plain_http_and_loopback_only_when_allowed() -> None:
    assert check_url("https://app.example.com/tradeoff") == "https://app.example.com/tradeoff"
    assert check_url("http://127.0.0.1:8080/hook", allow_http=True) == "http://127.0.0.1:8080/hook"


def test_the_admin_api_shows_the_secret_once_and_stores_none(world: World) -> None:
    response = world.client.post(
        "/v1/offers/webhooks", headers=world.key("admin"), json={"url": "https://app.example.com/hook"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["secret"]
    assert secret.startswith("whsec_")
    listed = world.client.get("/v1/offers/webhooks", headers=world.key("admin")).json()["endpoints"]
    assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    assert world.client.get("/v1/offers/webhooks", headers=world.key("staff")).status_code == 403
    with world.platform.engine.connect() as conn:
        row = conn.execute(select(offer_webhook_endpoints)).mappings().one()
        endpoint = get_endpoint(conn, tenant_id=world.tenant_id, endpoint_id=created["id"])
    assert secret.removeprefix("whsec_") not in str(dict(row))
    assert secret_of(privacy_of(world.platform).keys, endpoint).reveal() == secret  # derived again, same

    rotated = world.client.post(f"/v1/offers/webhooks/{created['id']}/rotate", headers=world.key("admin")).json()
    assert rotated["secret"] != secret and rotated["secret_version"] == 2
    with world.platform.engine.connect() as conn:
        endpoint = get_endpoint(conn, tenant_id=world.tenant_id, endpoint_id=created["id"])
    keys = privacy_of(world.platform).keys
    now = datetime.now(UTC)
    assert [s.reveal() for s in signing_secrets(keys, endpoint, at=now)] == [rotated["secret"], secret]
    assert [s.reveal() for s in signing_secrets(keys, endpoint, at=now + timedelta(days=2))] == [rotated["secret"]]

    patched = world.client.patch(
        f"/v1/offers/webhooks/{created['id']}", headers=world.key("admin"), json={"enabled": False}
    )
    assert patched.json()["enabled"] is False
    assert world.client.delete(f"/v1/offers/webhooks/{created['id']}", headers=world.key("admin")).status_code == 204
    assert world.client.delete(f"/v1/offers/webhooks/{created['id']}", headers=world.key("admin")).status_code == 404


def test_a_bad_url_is_a_422_naming_the_field(world: World) -> None:
    response = world.client.post("/v1/offers/webhooks", headers=world.key("admin"), json={"url": "ftp://x"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "url"
