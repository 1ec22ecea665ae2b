"""A small world for delivery tests: a migrated database, a tenant, the platform with the delivery
capability, the server app (API, portal, wallet) and helpers to register shoppers and issue coupons the
way the offers processor does (coupon row + ``app`` outbox row in one transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from tradeoff.offers import service as offers_service
from tradeoff.offers.campaigns import CampaignSpec
from tradeoff.offers.delivery.capability import register
from tradeoff.offers.delivery.config import DeliveryConfig, DeliveryServices
from tradeoff.offers.delivery.retry import RetryPolicy
from tradeoff.offers.delivery.sender import SenderConfig
from tradeoff.offers.store import offer_coupons, offer_outbox
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.engine import make_engine, write_transaction
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.settings import Settings
from tradeoff.privacy.capability import privacy_of
from tradeoff.server import create_server_app
from tradeoff.web import wallet

FAST_RETRY = RetryPolicy(max_attempts=4, base=timedelta(milliseconds=200), cap=timedelta(seconds=2), jitter=0.25)


def spec() -> CampaignSpec:
    now = datetime.now(UTC)
    return CampaignSpec.model_validate(
        {
            "name": "Dairy 10%",
            "status": "active",
            "trigger": {"kind": "enter_zone", "zone": "dairy"},
            "offer": {"kind": "percent", "percent_off": 10, "title": "10% off dairy"},
            "starts_at": (now - timedelta(days=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
        }
    )


@dataclass
class World:
    client: TestClient
    platform: Platform
    delivery: DeliveryServices
    tenant_id: str
    keys: dict[str, str]
    campaign_id: str = ""
    serials: Iterator[int] = field(default_factory=lambda: count(1))

    def key(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def shopper(self, tier: int = 2) -> tuple[str, dict[str, str]]:
        """A registered shopper: ``(subject_id, app token headers)``."""
        body = {"consent": {"tier": tier, "policy_version": "2026-11", "source": "app"}}
        response = self.client.post("/v1/me/register", headers=self.key("device"), json=body)
        assert response.status_code == 201, response.text
        return response.json()["subject_id"], {"Authorization": f"Bearer {response.json()['app_token']}"}

    def set_tier(self, app: dict[str, str], tier: int) -> None:
        body = {"tier": tier, "policy_version": "2026-11", "source": "app"}
        response = self.client.put("/v1/me/consent", headers=app, json=body)
        assert response.status_code == 200, response.text

    def pseudonym(self, subject_id: str) -> str:
        return privacy_of(self.platform).gate.pseudonyms.stable(self.tenant_id, subject_id)

    def issue(self, subject_id: str, *, valid: timedelta = timedelta(hours=4)) -> str:
        """A coupon for the shopper, as the offers processor writes it; returns the coupon id."""
        now = datetime.now(UTC)
        coupon_id = f"c{next(self.serials):031d}"
        with write_transaction(self.platform.engine) as conn:
            if not self.campaign_id:
                self.campaign_id = offers_service.create_campaign(
                    conn, tenant_id=self.tenant_id, spec=spec(), now=now
                ).id
            conn.execute(
                insert(offer_coupons).values(
                    id=coupon_id, tenant_id=self.tenant_id, campaign_id=self.campaign_id,
                    pseudonym=self.pseudonym(subject_id), serial=int(coupon_id[1:]), status="issued", issued_at=now,
                    expires_at=now + valid, transaction_id=None, hold_until=None, rolled_back_by=None,
                    void_reason=None, version=0, redeemed_at=None, updated_at=now,
                )
            )  # fmt: skip
            payload = {
                "coupon_id": coupon_id,
                "campaign_id": self.campaign_id,
                "title": "10% off dairy",
                "offer": spec().offer.model_dump(mode="json"),
                "expires_at": (now + valid).isoformat(),
            }
            conn.execute(
                insert(offer_outbox).values(
                    tenant_id=self.tenant_id, coupon_id=coupon_id, campaign_id=self.campaign_id,
                    pseudonym=self.pseudonym(subject_id), channel="app", payload=payload, status="pending",
                    attempts=0, next_attempt_at=now, last_error=None, created_at=now, sent_at=None,
                )
            )  # fmt: skip
        return coupon_id

    def outbox(self, coupon_id: str) -> dict[str, Any]:
        with self.platform.engine.connect() as conn:
            row = conn.execute(select(offer_outbox).where(offer_outbox.c.coupon_id == coupon_id)).mappings().one()
        return dict(row)


@contextmanager
def make_world(
    tmp_path: Path, url: str | None = None, *, sender: SenderConfig | None = None, app_url: str = ""
) -> Iterator[World]:
    """With ``app_url`` (PostgreSQL), request handlers run as that row-level-security-bound role."""
    url = url or f"sqlite:///{tmp_path / 'delivery.db'}"
    upgrade(url)
    engine = make_engine(url)
    keys: dict[str, str] = {}
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme Stores")
        for role in (Role.DEVICE, Role.ADMIN, Role.STAFF):
            keys[role.value] = create_api_key(conn, tenant_id=tenant.id, role=role, name=role.value).secret
    engine.dispose()
    settings = Settings(
        database_url=url, app_database_url=app_url, var_dir=tmp_path, keyring_path=tmp_path / "keys" / "keyring.json"
    )
    platform = build_platform(settings)
    config = DeliveryConfig(enabled=True, allow_http=True, sender=sender or SenderConfig(retry=FAST_RETRY))
    delivery = register(platform, config=config)
    app = create_server_app(settings, platform=platform)
    wallet.install(app, platform)
    try:
        with TestClient(app) as client:
            yield World(client, platform, delivery, tenant.id, keys)
    finally:
        delivery.sender.stop()
        platform.close()
