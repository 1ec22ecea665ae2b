"""What the shopper's app pulls: the current offers of one pseudonym, with codes, and the wait for a new one.

Offers are read from the outbox (one ``app`` row per issued coupon, written by the offers processor in
the coupon's transaction) joined with the coupon for its serial and state; the typed code is rebuilt from
the serial under the tenant's coupon key and exists only in the response. The outbox row id is the
cursor: it grows with every coupon issued, so "is there an offer newer than what the app has" is one
indexed comparison, on any number of server processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from tradeoff.offers.coupons import lifecycle
from tradeoff.offers.coupons.codes import make_code
from tradeoff.offers.delivery.receipts import Receipt, receipts_for
from tradeoff.offers.store import offer_coupons, offer_outbox

CHANNEL = "app"
USABLE = frozenset({lifecycle.CouponState.ISSUED, lifecycle.CouponState.RESERVED})
o, k = offer_outbox.c, offer_coupons.c


@dataclass(frozen=True, slots=True)
class OfferView:
    cursor: int
    coupon_id: str
    campaign_id: str
    pseudonym: str
    title: str
    offer: dict[str, Any]
    code: str
    state: str
    issued_at: datetime
    expires_at: datetime
    receipt: Receipt | None

    def to_json(self, *, base_path: str = "/v1/me/offers") -> dict[str, Any]:
        return {
            "coupon_id": self.coupon_id,
            "cursor": self.cursor,
            "campaign_id": self.campaign_id,
            "title": self.title,
            "terms": terms_of(self.offer),
            "offer": self.offer,
            "code": self.code,
            "qr_url": f"{base_path}/{self.coupon_id}/qr.svg",
            "state": self.state,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "receipt": self.receipt.to_json() if self.receipt else None,
        }


def terms_of(offer: dict[str, Any]) -> str:
    """The offer in one sentence a shopper reads (the campaign's structured offer stays alongside)."""
    if offer.get("kind") == "percent":
        value = f"{offer.get('percent_off')}% off"
    else:
        value = f"{_money(offer.get('amount_off_minor'), offer.get('currency'))} off"
    scope = offer.get("scope", "basket")
    if scope == "products":
        value += " selected products"
    elif scope == "categories":
        value += " " + ", ".join(str(c) for c in offer.get("categories", ()))
    else:
        value += " your purchase"
    if offer.get("min_basket_minor"):
        value += f" when you spend {_money(offer['min_basket_minor'], offer.get('currency'))} or more"
    return value + ". One use."


def _money(minor: Any, currency: Any) -> str:
    amount = int(minor or 0)
    return f"{amount // 100}.{amount % 100:02d} {currency or ''}".strip()


def _state(row: Any, at: datetime) -> lifecycle.CouponState:
    coupon = lifecycle.Coupon(
        serial=row.serial,
        valid_from=row.issued_at,
        valid_until=row.expires_at,
        state=lifecycle.CouponState(row.status),
        transaction_id=row.transaction_id,
        hold_until=row.hold_until,
    )
    return lifecycle.effective_state(coupon, at=at)


def offers_of(
    conn: Connection,
    *,
    tenant_id: str,
    pseudonym: str,
    key: bytes,
    at: datetime,
    coupon_id: str | None = None,
    usable_only: bool = True,
) -> list[OfferView]:
    """The pseudonym's offers, newest first (usable ones only unless ``usable_only=False``)."""
    query = (
        select(o.id.label("cursor"), o.payload, o.campaign_id, k.id, k.serial, k.status, k.issued_at, k.expires_at,
               k.transaction_id, k.hold_until)
        .join(offer_coupons, k.id == o.coupon_id)
        .where(o.tenant_id == tenant_id, o.pseudonym == pseudonym, o.channel == CHANNEL, k.tenant_id == tenant_id)
        .order_by(o.id.desc())
    )  # fmt: skip
    if coupon_id is not None:
        query = query.where(o.coupon_id == coupon_id)
    rows = list(conn.execute(query))
    receipts = receipts_for(conn, tenant_id=tenant_id, coupon_ids=[row.id for row in rows])
    views = []
    for row in rows:
        state = _state(row, at)
        if usable_only and state not in USABLE:
            continue
        payload = row.payload or {}
        views.append(
            OfferView(
                cursor=int(row.cursor),
                coupon_id=row.id,
                campaign_id=row.campaign_id,
                pseudonym=pseudonym,
                title=str(payload.get("title", "")),
                offer=dict(payload.get("offer") or {}),
                code=make_code(key=key, serial=row.serial),
                state=state.value,
                issued_at=row.issued_at,
                expires_at=row.expires_at,
                receipt=receipts.get(row.id),
            )
        )
    return views


def latest_cursor(conn: Connection, *, tenant_id: str, pseudonym: str) -> int:
    """The newest outbox id of this pseudonym (0 when none): what ``?after=`` compares against."""
    query = select(func.max(o.id)).where(o.tenant_id == tenant_id, o.pseudonym == pseudonym, o.channel == CHANNEL)
    return int(conn.execute(query).scalar_one() or 0)
