"""Offer use cases on a connection the caller owns: campaigns, settings, stats, the wallet, POS commands.

Every function takes the tenant it works for (from the authenticated principal, never from a body).
Codes exist only in flight: a coupon row keeps its serial; ``make_code`` rebuilds the printed code under
the tenant's coupon key for the wallet, and ``read_code`` turns what a till typed back into the serial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, RowMapping, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.core.errors import Conflict, InvalidInput, NotFound
from tradeoff.core.ids import new_id
from tradeoff.offers.campaigns import Campaign, CampaignSpec
from tradeoff.offers.coupons import lifecycle
from tradeoff.offers.coupons.codes import make_code, read_code
from tradeoff.offers.decision import Fatigue
from tradeoff.offers.store import (
    offer_campaign_counters,
    offer_campaigns,
    offer_coupons,
    offer_decisions,
    offer_outbox,
    offer_settings,
)

PosAction = Literal["reserve", "redeem", "release", "void"]
CouponKey = Callable[[str], bytes]  # tenant → coupon-code key (offers.coupons.keyring.coupon_key)
DEFAULT_FATIGUE = Fatigue()


# -- settings --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferSettings:
    fatigue_per_day: int
    fatigue_min_gap_s: float
    next_serial: int


_SETTINGS = select(offer_settings).where(offer_settings.c.tenant_id == bindparam("tenant_id"))  # built once: a hot read


def load_settings(
    conn: Connection, *, tenant_id: str, create: bool = False, now: datetime | None = None
) -> OfferSettings:
    row = conn.execute(_SETTINGS, {"tenant_id": tenant_id}).mappings().first()
    if row is None:
        defaults = OfferSettings(DEFAULT_FATIGUE.per_day, DEFAULT_FATIGUE.min_gap_s, 0)
        if not create:
            return defaults
        assert now is not None
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(
            dialect_insert(offer_settings)
            .values(tenant_id=tenant_id, fatigue_per_day=defaults.fatigue_per_day,
                    fatigue_min_gap_s=defaults.fatigue_min_gap_s, next_serial=0, updated_at=now)
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )  # fmt: skip
        return load_settings(conn, tenant_id=tenant_id)
    return OfferSettings(row["fatigue_per_day"], row["fatigue_min_gap_s"], row["next_serial"])


def fatigue_of(settings: OfferSettings) -> Fatigue:
    return Fatigue(per_day=settings.fatigue_per_day, min_gap_s=settings.fatigue_min_gap_s)


def update_settings(
    conn: Connection, *, tenant_id: str, fatigue_per_day: int, fatigue_min_gap_s: float, now: datetime
) -> OfferSettings:
    if not 1 <= fatigue_per_day <= 20:
        raise InvalidInput("fatigue_per_day", "must be 1–20 offers per shopper per 24 h")
    if not 0 <= fatigue_min_gap_s <= 86_400:
        raise InvalidInput("fatigue_min_gap_s", "must be 0–86400 seconds")
    load_settings(conn, tenant_id=tenant_id, create=True, now=now)
    conn.execute(
        update(offer_settings)
        .where(offer_settings.c.tenant_id == tenant_id)
        .values(fatigue_per_day=fatigue_per_day, fatigue_min_gap_s=fatigue_min_gap_s, updated_at=now)
    )
    return load_settings(conn, tenant_id=tenant_id)


# -- campaigns -------------------------------------------------------------------------------------------


def campaign_of_row(row: Any) -> Campaign:
    mapping: RowMapping = row._mapping
    return Campaign(
        id=mapping["id"],
        tenant_id=mapping["tenant_id"],
        spec=CampaignSpec.model_validate(mapping["spec"]),
        created_at=mapping["created_at"],
        updated_at=mapping["updated_at"],
    )


def _columns(spec: CampaignSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "status": spec.status,
        "spec": spec.model_dump(mode="json"),
        "starts_at": spec.starts_at,
        "ends_at": spec.ends_at,
    }


def create_campaign(conn: Connection, *, tenant_id: str, spec: CampaignSpec, now: datetime) -> Campaign:
    campaign_id = new_id()
    conn.execute(
        insert(offer_campaigns).values(id=campaign_id, tenant_id=tenant_id, created_at=now, updated_at=now,
                                       **_columns(spec))
    )  # fmt: skip
    conn.execute(
        insert(offer_campaign_counters).values(
            campaign_id=campaign_id, tenant_id=tenant_id, issued=0, held_out=0, redeemed=0, skipped={}, updated_at=now
        )
    )
    return get_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)


def list_campaigns(conn: Connection, *, tenant_id: str) -> list[Campaign]:
    c = offer_campaigns.c
    query = select(offer_campaigns).where(c.tenant_id == tenant_id).order_by(c.created_at, c.id)
    return [campaign_of_row(row) for row in conn.execute(query)]


def get_campaign(conn: Connection, *, tenant_id: str, campaign_id: str) -> Campaign:
    c = offer_campaigns.c
    row = conn.execute(select(offer_campaigns).where(c.tenant_id == tenant_id, c.id == campaign_id)).first()
    if row is None:
        raise NotFound("no such campaign in this tenant")
    return campaign_of_row(row)


def update_campaign(
    conn: Connection, *, tenant_id: str, campaign_id: str, spec: CampaignSpec, now: datetime
) -> Campaign:
    """Replace the spec. Once a campaign has decided anything, its trigger, offer and holdout are fixed
    (changing them would mix two experiments under one id); status, window, caps and budget may change."""
    current = get_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    if _has_decisions(conn, tenant_id, campaign_id):
        for name in ("trigger", "offer", "holdout", "audience"):
            if getattr(current.spec, name) != getattr(spec, name):
                raise Conflict(f"{name} cannot change once the campaign has issued or held out: create a new one",
                               details={"field": name})  # fmt: skip
    conn.execute(
        update(offer_campaigns)
        .where(offer_campaigns.c.tenant_id == tenant_id, offer_campaigns.c.id == campaign_id)
        .values(updated_at=now, **_columns(spec))
    )
    return get_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)


def delete_campaign(conn: Connection, *, tenant_id: str, campaign_id: str) -> None:
    """Only a campaign that never decided anything can be deleted; others are ended (status ``ended``)."""
    get_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    if _has_decisions(conn, tenant_id, campaign_id):
        raise Conflict("this campaign has issued or held out: set its status to 'ended' instead")
    conn.execute(delete_counters(campaign_id))
    conn.execute(
        offer_campaigns.delete().where(offer_campaigns.c.tenant_id == tenant_id, offer_campaigns.c.id == campaign_id)
    )


def delete_counters(campaign_id: str) -> Any:
    return offer_campaign_counters.delete().where(offer_campaign_counters.c.campaign_id == campaign_id)


def _has_decisions(conn: Connection, tenant_id: str, campaign_id: str) -> bool:
    d = offer_decisions.c
    query = select(d.id).where(d.tenant_id == tenant_id, d.campaign_id == campaign_id).limit(1)
    return conn.execute(query).first() is not None


def campaign_stats(conn: Connection, *, tenant_id: str, campaign_id: str) -> dict[str, Any]:
    """Operational counts (budget use): issued, held out, delivered, redeemed, and skips by reason."""
    get_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    c = offer_campaign_counters.c
    row = conn.execute(select(offer_campaign_counters).where(c.tenant_id == tenant_id, c.campaign_id == campaign_id))
    counters = row.mappings().first()
    o = offer_outbox.c
    delivered = conn.execute(
        select(func.count()).where(o.tenant_id == tenant_id, o.campaign_id == campaign_id, o.status == "sent")
    ).scalar_one()
    return {
        "campaign_id": campaign_id,
        "issued": counters["issued"] if counters else 0,
        "held_out": counters["held_out"] if counters else 0,
        "delivered": int(delivered),
        "redeemed": counters["redeemed"] if counters else 0,
        "skipped": dict(counters["skipped"]) if counters else {},
    }


# -- coupons ---------------------------------------------------------------------------------------------


def _coupon(row: RowMapping) -> lifecycle.Coupon:
    return lifecycle.Coupon(
        serial=row["serial"],
        valid_from=row["issued_at"],
        valid_until=row["expires_at"],
        state=lifecycle.CouponState(row["status"]),
        transaction_id=row["transaction_id"],
        hold_until=row["hold_until"],
        rolled_back_by=row["rolled_back_by"],
        void_reason=row["void_reason"],
        changed_at=row["updated_at"],
        version=row["version"],
    )


def coupon_json(row: RowMapping, coupon: lifecycle.Coupon, *, code: str, at: datetime) -> dict[str, Any]:
    return {
        "coupon_id": row["id"],
        "campaign_id": row["campaign_id"],
        "code": code,
        "state": lifecycle.effective_state(coupon, at=at).value,
        "issued_at": row["issued_at"].isoformat(),
        "expires_at": row["expires_at"].isoformat(),
        "transaction_id": coupon.transaction_id,
    }


def wallet(conn: Connection, *, tenant_id: str, pseudonym: str, key: bytes, at: datetime) -> list[dict[str, Any]]:
    """The shopper's coupons with their codes (rebuilt from the serial) and offers, newest first."""
    k = offer_coupons.c
    rows = conn.execute(
        select(offer_coupons, offer_campaigns.c.spec)
        .join(offer_campaigns, offer_campaigns.c.id == k.campaign_id)
        .where(k.tenant_id == tenant_id, k.pseudonym == pseudonym)
        .order_by(k.issued_at.desc())
    ).mappings()
    out = []
    for row in rows:
        coupon = _coupon(row)
        item = coupon_json(row, coupon, code=make_code(key=key, serial=row["serial"]), at=at)
        item["offer"] = row["spec"]["offer"]
        out.append(item)
    return out


def pos_command(
    conn: Connection, *, tenant_id: str, code: str, action: PosAction, transaction_id: str, key: bytes, at: datetime
) -> dict[str, Any]:
    """Apply a till's command; a repeat by the same transaction is a no-op that answers the same.

    ``void`` undoes what that POS transaction did to the coupon (the sale was voided or refunded): a
    redemption is rolled back (the coupon is usable again, the redemption budget gets it back), a
    reservation released. Withdrawing a coupon for good is the merchant's call, not the till's."""
    serial = read_code(key=key, code=code)
    k = offer_coupons.c
    query = select(offer_coupons).where(k.tenant_id == tenant_id, k.serial == serial)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound("no such coupon in this tenant")
    coupon = _coupon(row)
    if action == "reserve":
        step = lifecycle.reserve(coupon, transaction_id=transaction_id, at=at)
    elif action == "redeem":
        step = lifecycle.redeem(coupon, transaction_id=transaction_id, at=at)
    elif action == "release":
        step = lifecycle.release(coupon, transaction_id=transaction_id, at=at)
    else:
        step = _pos_void(coupon, transaction_id=transaction_id, at=at)
    if step.changed:
        _redemption_budget(conn, row, before=coupon, after=step.coupon, at=at)
        _store(conn, row["id"], step.coupon, at)
    return coupon_json(row, step.coupon, code=make_code(key=key, serial=serial), at=at)


def _pos_void(coupon: lifecycle.Coupon, *, transaction_id: str, at: datetime) -> lifecycle.Transition:
    state = lifecycle.effective_state(coupon, at=at)
    if state is lifecycle.CouponState.RESERVED and coupon.transaction_id == transaction_id:
        return lifecycle.release(coupon, transaction_id=transaction_id, at=at)
    return lifecycle.roll_back(coupon, transaction_id=transaction_id, at=at)


def _redemption_budget(
    conn: Connection, row: RowMapping, *, before: lifecycle.Coupon, after: lifecycle.Coupon, at: datetime
) -> None:
    """Count redemptions against the campaign's budget, atomically; refuse one past the budget."""
    redeemed = lifecycle.CouponState.REDEEMED
    was, now_is = before.state is redeemed, after.state is redeemed
    if was == now_is:
        return
    c = offer_campaign_counters.c
    if was:
        conn.execute(
            update(offer_campaign_counters)
            .where(c.campaign_id == row["campaign_id"])
            .values(redeemed=c.redeemed - 1, updated_at=at)
        )
        return
    campaign = get_campaign(conn, tenant_id=row["tenant_id"], campaign_id=row["campaign_id"])
    limit = campaign.spec.budget.max_redemptions
    stmt = update(offer_campaign_counters).where(c.campaign_id == row["campaign_id"])
    if limit is not None:
        stmt = stmt.where(c.redeemed < limit)
    if conn.execute(stmt.values(redeemed=c.redeemed + 1, updated_at=at)).rowcount != 1:
        raise Conflict("the campaign's redemption budget is used up", details={"reason": "budget_exhausted"})


def _store(conn: Connection, coupon_id: str, coupon: lifecycle.Coupon, at: datetime) -> None:
    redeemed_at = at if coupon.state is lifecycle.CouponState.REDEEMED else None
    conn.execute(
        update(offer_coupons)
        .where(offer_coupons.c.id == coupon_id)
        .values(status=coupon.state.value, transaction_id=coupon.transaction_id, hold_until=coupon.hold_until,
                rolled_back_by=coupon.rolled_back_by, void_reason=coupon.void_reason, version=coupon.version,
                redeemed_at=redeemed_at, updated_at=at)
    )  # fmt: skip
