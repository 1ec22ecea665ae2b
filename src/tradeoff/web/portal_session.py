"""The shopper portal's session: its own cookie, apart from the merchant dashboard's.

``tradeoff_portal`` is a sealed value (``portal_tokens``: encrypted and authenticated, so the subject id in
it is neither readable nor forgeable) holding the tenant, the subject, a CSRF token and the sign-in time.
It is sent only to ``/portal`` (``Path=/portal``), HttpOnly, SameSite=Lax (a Strict cookie would be held
back on the redirect that follows a link opened from the app), Secure behind TLS, and it ends
``SESSION_TTL`` after sign-in whatever happens: there is no sliding renewal. Before sign-in the cookie
carries only a CSRF token, for the app-token form.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.responses import Response

from tradeoff.core.errors import NotFound
from tradeoff.platform.container import Platform
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.privacy.audit.actors import SUBJECT
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.consent import Source, honour_gpc
from tradeoff.privacy.subjects import SubjectPrincipal, get_subject
from tradeoff.web.portal_tokens import LINK_PURPOSE, SESSION_PURPOSE, Sealer
from tradeoff.web.session import session_secret

PORTAL_COOKIE = "tradeoff_portal"
PORTAL_PATH = "/portal"
SESSION_TTL = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class PortalState:
    link_sealer: Sealer
    session_sealer: Sealer
    secure_cookies: bool


def install_state(app: FastAPI, platform: Platform) -> PortalState:
    secret = session_secret(platform.settings)
    state = PortalState(Sealer(secret, LINK_PURPOSE), Sealer(secret, SESSION_PURPOSE), platform.settings.secure_cookies)
    app.state.portal = state
    return state


def portal_state(request: Request) -> PortalState:
    state = getattr(request.app.state, "portal", None)
    if not isinstance(state, PortalState):
        raise RuntimeError("the shopper portal is not installed on this app")
    return state


@dataclass(frozen=True, slots=True)
class PortalSession:
    csrf: str
    started_at: datetime
    tenant_id: str | None = None
    subject_id: str | None = None

    @property
    def subject(self) -> SubjectPrincipal | None:
        if self.tenant_id and self.subject_id:
            return SubjectPrincipal(tenant_id=self.tenant_id, subject_id=self.subject_id)
        return None

    def csrf_valid(self, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(self.csrf.encode(), (submitted or "").encode())


def new_session(subject: SubjectPrincipal | None, *, now: datetime) -> PortalSession:
    """A fresh session (a new CSRF token; nothing carried over from before sign-in)."""
    token = secrets.token_urlsafe(32)
    if subject is None:
        return PortalSession(csrf=token, started_at=now)
    return PortalSession(csrf=token, started_at=now, tenant_id=subject.tenant_id, subject_id=subject.subject_id)


def read_session(request: Request, *, now: datetime) -> PortalSession | None:
    payload = portal_state(request).session_sealer.unseal(
        request.cookies.get(PORTAL_COOKIE), max_age=SESSION_TTL, now=now
    )
    if payload is None:
        return None
    csrf, started, tenant_id, subject_id = payload.get("c"), payload.get("at"), payload.get("t"), payload.get("s")
    if not isinstance(csrf, str) or not csrf or not isinstance(started, int | float):
        return None
    if not (isinstance(tenant_id, str) and isinstance(subject_id, str)):
        tenant_id = subject_id = None
    return PortalSession(csrf, datetime.fromtimestamp(started, UTC), tenant_id, subject_id)


def save_session(request: Request, response: Response, session: PortalSession) -> None:
    state = portal_state(request)
    payload: dict[str, object] = {"c": session.csrf, "at": int(session.started_at.timestamp())}
    if session.tenant_id and session.subject_id:
        payload |= {"t": session.tenant_id, "s": session.subject_id}
    response.set_cookie(
        PORTAL_COOKIE,
        state.session_sealer.seal(payload, now=session.started_at),
        max_age=int(SESSION_TTL.total_seconds()),
        path=PORTAL_PATH,
        httponly=True,
        samesite="lax",
        secure=state.secure_cookies,
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        PORTAL_COOKIE, path=PORTAL_PATH, httponly=True, samesite="lax", secure=portal_state(request).secure_cookies
    )


class SignInRequired(Exception):
    """No portal session, or it expired: answered with a redirect to the sign-in page."""


@dataclass(frozen=True, slots=True)
class Shopper:
    """The signed-in shopper. ``erased`` once the subject is closed (or gone): nothing is held then."""

    session: PortalSession
    tenant_id: str
    subject_id: str
    erased_at: datetime | None
    erased: bool
    gpc: bool  # the browser sends Global Privacy Control (``Sec-GPC: 1``)


def portal_now(platform: Platform) -> datetime:
    return platform.pipeline.clock.now()


def current_shopper(request: Request, platform: PlatformDep) -> Shopper:
    """The signed-in shopper; a browser's ``Sec-GPC: 1`` is honoured first, as on ``/v1/me``."""
    now = portal_now(platform)
    session = read_session(request, now=now)
    subject = session.subject if session else None
    if session is None or subject is None:
        raise SignInRequired()
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, subject.tenant_id)
        try:
            erased_at = get_subject(conn, tenant_id=subject.tenant_id, subject_id=subject.subject_id).closed_at
            erased = erased_at is not None
        except NotFound:  # nothing left of the subject at all
            erased_at, erased = None, True
    gpc = request.headers.get("sec-gpc", "").strip() == "1"
    if gpc and not erased:
        honour_gpc(
            platform.app_engine,
            tenant_id=subject.tenant_id,
            subject_id=subject.subject_id,
            source=Source.WEB,
            at=now,
            audit=privacy_of(platform).audit,
            actor=SUBJECT,
        )
    return Shopper(session, subject.tenant_id, subject.subject_id, erased_at, erased, gpc)


ShopperDep = Annotated[Shopper, Depends(current_shopper)]
