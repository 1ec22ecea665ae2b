"""The shopper's privacy portal (``/portal``): what is held, the tier and purposes, change consent, export,
erase. Mobile-first pages of their own (no merchant layout or navigation), signed in by a one-time link
from the app or by pasting the app token (``portal_link``), with their own session cookie
(``portal_session``). Everything runs through the privacy services in-process; no HTTP calls to ourselves.
This module: signing in and out, the home page and the consent form; ``portal_dsr``: export and erasure.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from starlette.responses import HTMLResponse, Response

from tradeoff.core.errors import Unauthenticated
from tradeoff.platform.container import Platform
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.consent import ConsentChange, Source, change_consent, changes_for_tier, consent_state
from tradeoff.privacy.subjects import SubjectErased, SubjectPrincipal
from tradeoff.web import portal_data, portal_dsr
from tradeoff.web.portal_link import ACTOR, LinkRefused, redeem_link, sign_in_with_token
from tradeoff.web.portal_link import router as link_router
from tradeoff.web.portal_session import (
    SESSION_TTL,
    ShopperDep,
    SignInRequired,
    clear_session,
    current_shopper,
    install_state,
    new_session,
    portal_now,
    portal_state,
    read_session,
    save_session,
)
from tradeoff.web.portal_view import POLICY_VERSION, TIERS, consent_view, form_expired, redirect, render_portal

router = APIRouter(prefix="/portal", include_in_schema=False)
HOME = "/portal"
DONE_MESSAGES = {
    "consent": "Your choice is saved. It applies from now on.",
    "gpc_conflict": (
        "Your choice is saved, except purchase linking: your browser sends Global Privacy Control, which "
        "opts you out of it."
    ),
    "erased": "Everything we held about you is erased.",
}
FormText = Annotated[str, Form(max_length=200)]


def _signed_in(request: Request, platform: Platform, subject: SubjectPrincipal) -> Response:
    response = redirect(HOME)
    save_session(request, response, new_session(subject, now=portal_now(platform)))
    return response


def _start_page(request: Request, platform: Platform, *, error: str | None = None, status: int = 200) -> Response:
    """The sign-in page; it (re)starts a signed-out session to carry the form's CSRF token."""
    session = read_session(request, now=portal_now(platform))
    fresh = session is None or session.subject is not None
    if session is None or fresh:
        session = new_session(None, now=portal_now(platform))
    context = {"title": "Your privacy", "error": error, "csrf_token": session.csrf}
    response = render_portal(request, "portal_start.html", context, status, signed_in=False)
    if fresh:
        save_session(request, response, session)
    return response


@router.get("", response_class=HTMLResponse)
def portal_home(request: Request, platform: PlatformDep, done: str = "") -> Response:
    try:
        shopper = current_shopper(request, platform)
    except SignInRequired:
        return _start_page(request, platform)
    at = portal_now(platform)
    held = None if shopper.erased else portal_data.held(platform, shopper)
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, shopper.tenant_id)
        state = consent_state(conn, tenant_id=shopper.tenant_id, subject_id=shopper.subject_id)
    context = {
        "title": "Your privacy",
        "csrf_token": shopper.session.csrf,
        "shopper": shopper,
        "held": held,
        "consent": consent_view(state, at),
        "tiers": TIERS,
        "policy_version": POLICY_VERSION,
        "message": DONE_MESSAGES.get(done),
        "session_ends": shopper.session.started_at + SESSION_TTL,
    }
    return render_portal(request, "portal_home.html", context)


@router.get("/enter")
def enter(request: Request, platform: PlatformDep, code: str = "") -> Response:
    """A one-time link from the app: signs in once, then drops the code from the address bar."""
    sealer = portal_state(request).link_sealer
    try:
        subject = redeem_link(platform.app_engine, privacy_of(platform).audit, sealer, code, now=portal_now(platform))
    except LinkRefused as refused:
        message = f"{refused}. Open the privacy page from the app again, or paste your app token below."
        return _start_page(request, platform, error=message[0].upper() + message[1:], status=400)
    return _signed_in(request, platform, subject)


@router.post("/sign-in")
def sign_in(request: Request, platform: PlatformDep, app_token: FormText = "", csrf_token: FormText = "") -> Response:
    session = read_session(request, now=portal_now(platform))
    if session is None or not session.csrf_valid(csrf_token):
        return _start_page(request, platform, error="This form has expired. Please try again.", status=403)
    try:
        subject = sign_in_with_token(platform.engine, platform.app_engine, privacy_of(platform).audit, app_token)
    except Unauthenticated:
        return _start_page(request, platform, error="That app token is not valid.", status=401)
    except SubjectErased as erased:
        when = f" on {erased.erased_at:%Y-%m-%d}" if erased.erased_at else ""
        return _start_page(request, platform, error=f"Nothing is held about you: it was erased{when}.", status=410)
    return _signed_in(request, platform, subject)


@router.post("/sign-out")
def sign_out(request: Request, platform: PlatformDep, csrf_token: FormText = "") -> Response:
    session = read_session(request, now=portal_now(platform))
    if session is not None and not session.csrf_valid(csrf_token):
        return _start_page(request, platform, error="This form has expired. Please try again.", status=403)
    response = redirect(HOME)
    clear_session(request, response)
    return response


@router.post("/consent")
def change_tier(
    request: Request,
    platform: PlatformDep,
    shopper: ShopperDep,
    tier: Annotated[str, Form(max_length=4)] = "",
    policy_version: Annotated[str, Form(max_length=64)] = "",
    csrf_token: FormText = "",
) -> Response:
    """Set the tier (its purposes granted, every other one withdrawn), as seen under ``POLICY_VERSION``."""
    if not shopper.session.csrf_valid(csrf_token):
        return form_expired(request, shopper)
    if shopper.erased or tier not in {"0", "1", "2", "3"} or policy_version != POLICY_VERSION:
        return redirect(HOME)  # erased, or a forged or outdated form: show the current text and choice again
    result = change_consent(
        platform.app_engine,
        tenant_id=shopper.tenant_id,
        subject_id=shopper.subject_id,
        change=ConsentChange(changes_for_tier(int(tier)), POLICY_VERSION, Source.WEB, gpc=shopper.gpc),
        at=portal_now(platform),
        audit=privacy_of(platform).audit,
        actor=ACTOR,
    )
    return redirect(f"{HOME}?done={'gpc_conflict' if result.gpc_conflict else 'consent'}")


def install(app: FastAPI, platform: Platform) -> None:
    """Mount the portal pages and ``POST /v1/me/portal-link`` (no dashboard nav item: shoppers only)."""
    install_state(app, platform)

    @app.exception_handler(SignInRequired)
    async def _sign_in_required(_request: Request, _exc: SignInRequired) -> Response:
        return redirect(HOME)

    app.include_router(link_router)
    app.include_router(router)
    app.include_router(portal_dsr.router)
