"""Campaigns and signals for the offers tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tradeoff.offers.campaigns import Campaign, CampaignSpec
from tradeoff.offers.decision import Signal

T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)
KEY = b"k" * 32


def spec(**overrides: Any) -> CampaignSpec:
    data: dict[str, Any] = {
        "name": "Dairy 10%",
        "status": "active",
        "trigger": {"kind": "enter_zone", "zone": "dairy"},
        "offer": {"kind": "percent", "percent_off": 10, "title": "10% off dairy"},
        "starts_at": (T0 - timedelta(days=1)).isoformat(),
        "ends_at": (T0 + timedelta(days=30)).isoformat(),
        "caps": {"per_day": 1},
    }
    data.update(overrides)
    return CampaignSpec.model_validate(data)


def campaign(campaign_id: str = "c1", **overrides: Any) -> Campaign:
    return Campaign(id=campaign_id, tenant_id="t1", spec=spec(**overrides), created_at=T0, updated_at=T0)


def signal(at: datetime = T0, *, zone: str = "dairy", pseudonym: str = "ps_alice", n: int = 0, **kw: Any) -> Signal:
    values: dict[str, Any] = {
        "event_id": f"ev-{pseudonym}-{n}",
        "type": "presence.zone_entered",
        "pseudonym": pseudonym,
        "decided_at": at,
        "zone": zone,
        "occasion": f"visit:{zone}:{at.isoformat()}:{n}",
    }
    values.update(kw)
    return Signal(**values)
