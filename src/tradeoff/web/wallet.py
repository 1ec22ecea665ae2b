"""The shopper's wallet (``/portal/wallet``): delivered offers with their QR code and typed code, mobile
first. It lives under ``/portal`` to share the portal's own session cookie (``Path=/portal``), so it is
reached the same ways: a one-time link the app asks for (``POST /v1/me/wallet-link`` → ``/portal/wallet/
enter?code=…``, single use and audited exactly like the privacy portal's link) or the portal's app-token
sign-in. Showing the list records the offers as delivered and displayed; opening one (the big QR for
the till) records it as opened. Offers appear only while personalization consent is granted.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from starlette.responses import HTMLResponse, Response

from tradeoff.core.errors import Forbidden, InvalidInput, NotFound
from tradeoff.offers.coupons.qr import qr_bytes
from tradeoff.offers.delivery import shopper as delivery
from tradeoff.offers.delivery.pull import OfferView
from tradeoff.offers.delivery.receipts import Milestone, Via
from tradeoff.offers.segments import service as segments
from tradeoff.offers.segments.api import release, shopper_view
from tradeoff.platform.container import Platform
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.me_api import Me
from tradeoff.web.portal_link import LinkRefused, issue_link, redeem_link
from tradeoff.web.portal_session import Shopper, ShopperDep, new_session, portal_now, portal_state, save_session
from tradeoff.web.portal_view import PORTAL_HEADERS, form_expired, redirect, render_portal

WALLET = "/portal/wallet"
ENTER = f"{WALLET}/enter"
router = APIRouter(prefix=WALLET, include_in_schema=False)
link_router = APIRouter(prefix="/v1/me", tags=["me (shopper app)"])


@link_router.post("/wallet-link", summary="A one-time link into the shopper's wallet page (valid 10 minutes)")
def create_wallet_link(request: Request, platform: PlatformDep, me: Me) -> dict[str, Any]:
    """Open ``url`` (relative to this server) in the browser: it signs the shopper in once."""
    sealer = portal_state(request).link_sealer
    link = issue_link(sealer, tenant_id=me.tenant_id, subject_id=me.subject_id, now=portal_now(platform))
    code = link.url.split("code=", 1)[1]  # the same sealed single-use code, entered at the wallet instead
    return {"url": f"{ENTER}?code={code}", "expires_at": link.expires_at.isoformat()}


@router.get("/enter")
def enter(request: Request, platform: PlatformDep, code: str = "") -> Response:
    sealer = portal_state(request).link_sealer
    try:
        subject = redeem_link(platform.app_engine, privacy_of(platform).audit, sealer, code, now=portal_now(platform))
    except LinkRefused as refused:
        message = f"{str(refused).capitalize()}. Open the wallet from the app again."
        context = {"title": "Your offers", "message": message}
        return render_portal(request, "portal_message.html", {**context, "csrf_token": ""}, 400, signed_in=False)
    response = redirect(WALLET)
    save_session(request, response, new_session(subject, now=portal_now(platform)))
    return response


def _context(shopper: Shopper, **values: Any) -> dict[str, Any]:
    return {"title": "Your offers", "csrf_token": shopper.session.csrf, "shopper": shopper, **values}


@router.get("", response_class=HTMLResponse)
def wallet_page(request: Request, platform: PlatformDep, shopper: ShopperDep, saved: str = "") -> Response:
    offers: list[OfferView] = []
    consented = False
    prefs: dict[str, Any] = {"catalogue": [], "segments": []}
    if not shopper.erased:
        found = delivery.snapshot(platform, tenant_id=shopper.tenant_id, subject_id=shopper.subject_id, via=Via.WALLET)
        offers, consented = found.offers, found.consented
        delivery.mark_all(
            platform, tenant_id=shopper.tenant_id, offers=offers, milestone=Milestone.DISPLAYED, via=Via.WALLET
        )
        prefs = shopper_view(platform, shopper.tenant_id, shopper.subject_id)
    context = _context(
        shopper,
        offers=[o.to_json(base_path=WALLET) for o in offers],
        consented=consented,
        catalogue=prefs["catalogue"],
        chosen=set(prefs["segments"]),
        saved=saved == "1",
    )
    return render_portal(request, "wallet.html", context)


@router.post("/preferences")
def save_preferences(
    request: Request,
    platform: PlatformDep,
    shopper: ShopperDep,
    segments_: Annotated[list[str] | None, Form(alias="segments")] = None,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The wallet's interests form (no JavaScript): the ticked segments replace the stored choice, exactly
    as ``PUT /v1/me/preferences``; refused without personalization consent."""
    if not shopper.session.csrf_valid(csrf_token):
        return form_expired(request, shopper)
    if shopper.erased:
        return redirect(WALLET)
    try:
        release(
            platform,
            tenant_id=shopper.tenant_id,
            subject_id=shopper.subject_id,
            segments=(segments_ or [])[: segments.MAX_SEGMENTS],
            at=portal_now(platform),
        )
    except Forbidden:
        message = (
            "You have not chosen Personalized offers, so nothing was saved. You can change that on your privacy page."
        )
        return render_portal(request, "portal_message.html", _context(shopper, message=message), 403)
    except InvalidInput:
        message = "The store changed its list of interests meanwhile. Please go back and choose again."
        return render_portal(request, "portal_message.html", _context(shopper, message=message), 422)
    return redirect(f"{WALLET}?saved=1")


def _mark(platform: Platform, shopper: Shopper, coupon_id: str, milestone: Milestone) -> None:
    delivery.mark(
        platform, tenant_id=shopper.tenant_id, subject_id=shopper.subject_id, coupon_id=coupon_id,
        milestone=milestone, via=Via.WALLET,
    )  # fmt: skip


def _offer(platform: Platform, shopper: Shopper, coupon_id: str) -> OfferView:
    if shopper.erased:
        raise NotFound("no such offer")
    return delivery.one_offer(
        platform, tenant_id=shopper.tenant_id, subject_id=shopper.subject_id, coupon_id=coupon_id, via=Via.WALLET
    )


@router.get("/{coupon_id}", response_class=HTMLResponse)
def offer_page(request: Request, platform: PlatformDep, shopper: ShopperDep, coupon_id: str) -> Response:
    """One offer, its QR code large enough for a till's scanner, and the code to type."""
    try:
        offer = _offer(platform, shopper, coupon_id)
    except NotFound:
        context = _context(shopper, message="This offer is not in your wallet.")
        return render_portal(request, "portal_message.html", context, 404)
    _mark(platform, shopper, coupon_id, Milestone.OPENED)
    return render_portal(request, "wallet_offer.html", _context(shopper, offer=offer.to_json(base_path=WALLET)))


@router.get("/{coupon_id}/qr.svg")
def offer_qr(platform: PlatformDep, shopper: ShopperDep, coupon_id: str) -> Response:
    offer = _offer(platform, shopper, coupon_id)
    svg = qr_bytes(offer.code, kind="svg", scale=8)
    return Response(svg, media_type="image/svg+xml", headers=PORTAL_HEADERS)


def install(app: FastAPI, platform: Platform) -> None:
    """Mount the wallet pages and ``POST /v1/me/wallet-link`` (after ``portal.install``, whose session and
    sign-in redirect it uses)."""
    del platform
    app.include_router(link_router)
    app.include_router(router)


__all__ = ["ENTER", "WALLET", "install"]
