"""Delivery receipts: the first time a coupon reached the app, was shown to the shopper, was opened.

Idempotent by construction: a receipt row per coupon, and each timestamp is written only while it is
still empty, so an app that retries (or reports twice) changes nothing. Shown or opened implies
delivered: an app that never fetched (it got the offer from its own push) still gets a delivered time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.offers.delivery.store import offer_receipts

r = offer_receipts.c


class Milestone(StrEnum):
    DELIVERED = "delivered"
    DISPLAYED = "displayed"
    OPENED = "opened"


class Via(StrEnum):
    PULL = "pull"  # GET /v1/me/offers (or the long-poll / stream)
    WEBHOOK = "webhook"  # the app backend answered 2xx
    WALLET = "wallet"  # the wallet page
    APP = "app"  # the app reported displayed/opened before fetching


@dataclass(frozen=True, slots=True)
class Receipt:
    coupon_id: str
    delivered_at: datetime | None
    delivered_via: str | None
    displayed_at: datetime | None
    opened_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "delivered_at": iso(self.delivered_at),
            "delivered_via": self.delivered_via,
            "displayed_at": iso(self.displayed_at),
            "opened_at": iso(self.opened_at),
        }


EMPTY = Receipt("", None, None, None, None)


def record(
    conn: Connection,
    *,
    tenant_id: str,
    coupon_id: str,
    campaign_id: str,
    pseudonym: str,
    milestone: Milestone,
    via: Via,
    at: datetime,
) -> bool:
    """Record ``milestone`` (and delivered, if not yet) for a coupon; True when something changed."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        dialect_insert(offer_receipts)
        .values(coupon_id=coupon_id, tenant_id=tenant_id, campaign_id=campaign_id, pseudonym=pseudonym,
                delivered_at=None, delivered_via=None, displayed_at=None, opened_at=None, created_at=at)
        .on_conflict_do_nothing(index_elements=["coupon_id"])
    )  # fmt: skip
    where = (r.tenant_id == tenant_id, r.coupon_id == coupon_id)

    def first(column: Any, values: dict[str, Any]) -> bool:
        return conn.execute(update(offer_receipts).where(*where, column.is_(None)).values(values)).rowcount > 0

    changed = first(r.delivered_at, {"delivered_at": at, "delivered_via": via.value})
    if milestone is Milestone.DISPLAYED:
        changed |= first(r.displayed_at, {"displayed_at": at})
    elif milestone is Milestone.OPENED:  # opened implies shown
        changed |= first(r.opened_at, {"opened_at": at, "displayed_at": func.coalesce(r.displayed_at, at)})
    return changed


def receipts_for(conn: Connection, *, tenant_id: str, coupon_ids: list[str]) -> dict[str, Receipt]:
    if not coupon_ids:
        return {}
    rows = conn.execute(select(offer_receipts).where(r.tenant_id == tenant_id, r.coupon_id.in_(coupon_ids)))
    return {
        row.coupon_id: Receipt(row.coupon_id, row.delivered_at, row.delivered_via, row.displayed_at, row.opened_at)
        for row in rows
    }
