"""The shopper's side of delivery, shared by the app API (``api``) and the wallet page (``web/wallet``).

Everything runs for one subject on the request engine, bound to its tenant. Offers reach a shopper only
while personalization consent is granted (read again on every call, like the sender does); the first
fetch of an offer records it as delivered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection

from tradeoff.core.errors import NotFound
from tradeoff.offers.coupons.keyring import coupon_key
from tradeoff.offers.coupons.qr import qr_bytes
from tradeoff.offers.delivery import receipts
from tradeoff.offers.delivery.pull import OfferView, latest_cursor, offers_of
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.consent.ledger import consent_state
from tradeoff.privacy.consent.model import Purpose

POLL_SECONDS = 0.5  # how often a waiting request looks for a new offer (every server process sees it)


@dataclass(frozen=True, slots=True)
class Snapshot:
    offers: list[OfferView]
    cursor: int
    consented: bool


def now_of(platform: Platform) -> datetime:
    return platform.pipeline.clock.now()


def pseudonym_of(platform: Platform, tenant_id: str, subject_id: str) -> str:
    return privacy_of(platform).gate.pseudonyms.stable(tenant_id, subject_id)


def snapshot(
    platform: Platform,
    *,
    tenant_id: str,
    subject_id: str,
    via: receipts.Via = receipts.Via.PULL,
    coupon_id: str | None = None,
    usable_only: bool = True,
) -> Snapshot:
    """The shopper's offers now (none without consent), marking newly seen ones delivered."""
    at = now_of(platform)
    pseudonym = pseudonym_of(platform, tenant_id, subject_id)
    key = coupon_key(keys=privacy_of(platform).keys, tenant_id=tenant_id)
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, tenant_id)
        consented = consent_state(conn, tenant_id=tenant_id, subject_id=subject_id).allows(Purpose.PERSONALIZATION, at)
        cursor = latest_cursor(conn, tenant_id=tenant_id, pseudonym=pseudonym)
        offers = (
            offers_of(conn, tenant_id=tenant_id, pseudonym=pseudonym, key=key, at=at, coupon_id=coupon_id,
                      usable_only=usable_only)
            if consented
            else []
        )  # fmt: skip
    fresh = [offer for offer in offers if offer.receipt is None or offer.receipt.delivered_at is None]
    if fresh:
        with write_transaction(platform.app_engine) as conn:
            scope_to_tenant(conn, tenant_id)
            for offer in fresh:
                _mark(conn, tenant_id, offer, receipts.Milestone.DELIVERED, via, at)
            found = receipts.receipts_for(conn, tenant_id=tenant_id, coupon_ids=[o.coupon_id for o in fresh])
        offers = [replace(o, receipt=found.get(o.coupon_id, o.receipt)) for o in offers]
    return Snapshot(offers, cursor, consented)


def _mark(
    conn: Connection, tenant_id: str, offer: OfferView, milestone: receipts.Milestone, via: receipts.Via, at: datetime
) -> bool:
    return receipts.record(
        conn, tenant_id=tenant_id, coupon_id=offer.coupon_id, campaign_id=offer.campaign_id,
        pseudonym=offer.pseudonym, milestone=milestone, via=via, at=at,
    )  # fmt: skip


def one_offer(
    platform: Platform, *, tenant_id: str, subject_id: str, coupon_id: str, via: receipts.Via = receipts.Via.PULL
) -> OfferView:
    """One of the shopper's offers in any state (404 for another shopper's, or without consent)."""
    found = snapshot(
        platform, tenant_id=tenant_id, subject_id=subject_id, via=via, coupon_id=coupon_id, usable_only=False
    )
    if not found.offers:
        raise NotFound("no such offer for this shopper")
    return found.offers[0]


def mark(
    platform: Platform,
    *,
    tenant_id: str,
    subject_id: str,
    coupon_id: str,
    milestone: receipts.Milestone,
    via: receipts.Via = receipts.Via.APP,
) -> OfferView:
    """Record displayed/opened for one of the shopper's offers (idempotent); the offer with its receipt."""
    offer = one_offer(platform, tenant_id=tenant_id, subject_id=subject_id, coupon_id=coupon_id, via=via)
    with write_transaction(platform.app_engine) as conn:
        scope_to_tenant(conn, tenant_id)
        _mark(conn, tenant_id, offer, milestone, via, now_of(platform))
        found = receipts.receipts_for(conn, tenant_id=tenant_id, coupon_ids=[offer.coupon_id])
    return replace(offer, receipt=found.get(offer.coupon_id))


def mark_all(
    platform: Platform, *, tenant_id: str, offers: list[OfferView], milestone: receipts.Milestone, via: receipts.Via
) -> None:
    """Record ``milestone`` for offers just read for this shopper (the wallet shows a whole list)."""
    if not offers:
        return
    at = now_of(platform)
    with write_transaction(platform.app_engine) as conn:
        scope_to_tenant(conn, tenant_id)
        for offer in offers:
            _mark(conn, tenant_id, offer, milestone, via, at)


def qr_svg(platform: Platform, *, tenant_id: str, subject_id: str, coupon_id: str) -> bytes:
    """The QR code of the offer's typed code (what a till's scanner reads as if typed)."""
    offer = one_offer(platform, tenant_id=tenant_id, subject_id=subject_id, coupon_id=coupon_id)
    return qr_bytes(offer.code, kind="svg", scale=8)


async def wait_for_new(
    platform: Platform,
    *,
    tenant_id: str,
    subject_id: str,
    after: int,
    seconds: float,
    poll_seconds: float = POLL_SECONDS,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> bool:
    """Sleep until an offer newer than cursor ``after`` exists for the shopper (True) or ``seconds`` pass."""
    pseudonym = pseudonym_of(platform, tenant_id, subject_id)
    deadline = time.monotonic() + seconds

    def newest() -> int:
        with platform.app_engine.begin() as conn:
            scope_to_tenant(conn, tenant_id)
            return latest_cursor(conn, tenant_id=tenant_id, pseudonym=pseudonym)

    while True:
        if await run_in_threadpool(newest) > after:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if disconnected is not None and await disconnected():
            return False
        await asyncio.sleep(min(poll_seconds, remaining))
