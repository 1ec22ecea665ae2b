"""Getting into the shopper portal: one-time links the app asks for, or the app token pasted into a form.

``POST /v1/me/portal-link`` (app token) returns ``{"url": "/portal/enter?code=…", "expires_at": …}``. The
code is a sealed value (``portal_tokens``) holding the tenant, the subject and a random 128-bit nonce; it
opens for ``LINK_TTL``. It is single use across processes, servers and restarts: redeeming it appends a
``portal.entered`` entry with the link's id (a hash of the nonce) to the tenant's audit chain, after
checking, under the chain's per-tenant lock, that no entry for that id exists yet. The chain is the used
set (it lives in the shared database and is kept six years, far past any link's life), and every way into
the portal is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy import Engine

from tradeoff.core.errors import NotFound
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.privacy.audit import AuditTrail, entries_for_subject
from tradeoff.privacy.audit.actors import SUBJECT
from tradeoff.privacy.audit.service import lock_chain
from tradeoff.privacy.me_api import Me
from tradeoff.privacy.subjects import SubjectPrincipal, authenticate_app_token, get_subject
from tradeoff.web.portal_session import portal_state
from tradeoff.web.portal_tokens import Sealer

LINK_TTL = timedelta(minutes=10)
ENTER_PATH = "/portal/enter"
ENTERED = "portal.entered"  # audit action of every way into the portal
ACTOR = SUBJECT  # the shopper acts for themselves (the audit actor; ``subject_ref`` says who)

router = APIRouter(prefix="/v1/me", tags=["me (shopper app)"])


class LinkRefused(Exception):
    """The link is unknown, altered, expired, already used, or its subject is gone."""


@dataclass(frozen=True, slots=True)
class PortalLink:
    url: str
    expires_at: datetime


def link_id(nonce: str) -> str:
    """What the audit chain stores for a link: a hash of its nonce (the code itself is never stored)."""
    return "l" + hashlib.sha256(nonce.encode()).hexdigest()[:32]


def issue_link(sealer: Sealer, *, tenant_id: str, subject_id: str, now: datetime) -> PortalLink:
    payload = {"t": tenant_id, "s": subject_id, "n": secrets.token_urlsafe(16)}
    code = sealer.seal(payload, now=now)
    return PortalLink(url=f"{ENTER_PATH}?{urlencode({'code': code})}", expires_at=now + LINK_TTL)


def redeem_link(
    engine: Engine, audit: AuditTrail, sealer: Sealer, code: str | None, *, now: datetime
) -> SubjectPrincipal:
    """The subject the link was made for, once; ``LinkRefused`` otherwise (nothing is recorded then)."""
    payload = sealer.unseal(code, max_age=LINK_TTL, now=now)
    if payload is None:
        raise LinkRefused("this link has expired or is not valid")
    tenant_id, subject_id, nonce = payload.get("t"), payload.get("s"), payload.get("n")
    if not (isinstance(tenant_id, str) and isinstance(subject_id, str) and isinstance(nonce, str)):
        raise LinkRefused("this link is not valid")
    used_id = link_id(nonce)
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, tenant_id)
        lock_chain(conn, tenant_id)  # SQLite: the write transaction already excludes other writers
        try:
            subject = get_subject(conn, tenant_id=tenant_id, subject_id=subject_id, require_open=True)
        except NotFound:
            raise LinkRefused("this link is no longer valid") from None
        history = entries_for_subject(conn, keys=audit.keys, tenant_id=tenant_id, subject_id=subject.subject_id)
        if any(entry.action == ENTERED and entry.details.get("link") == used_id for entry in history):
            raise LinkRefused("this link was already used")
        audit.record(
            conn,
            tenant_id=tenant_id,
            actor=ACTOR,
            action=ENTERED,
            subject_id=subject_id,
            details={"via": "link", "link": used_id},
        )
    return SubjectPrincipal(tenant_id=tenant_id, subject_id=subject_id)


def sign_in_with_token(owner_engine: Engine, engine: Engine, audit: AuditTrail, token: str) -> SubjectPrincipal:
    """The app token's subject (``Unauthenticated`` for a wrong, rotated or closed one), audited."""
    with owner_engine.connect() as conn:  # tokens name their tenant: looked up across tenants, like API keys
        me = authenticate_app_token(conn, token.strip())
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, me.tenant_id)
        audit.record(
            conn,
            tenant_id=me.tenant_id,
            actor=ACTOR,
            action=ENTERED,
            subject_id=me.subject_id,
            details={"via": "token"},
        )
    return me


@router.post("/portal-link", summary="A one-time link into the shopper's privacy portal (valid 10 minutes)")
def create_portal_link(request: Request, platform: PlatformDep, me: Me) -> dict[str, Any]:
    """Open ``url`` (relative to this server) in the browser: it signs the shopper into ``/portal`` once."""
    sealer = portal_state(request).link_sealer
    link = issue_link(sealer, tenant_id=me.tenant_id, subject_id=me.subject_id, now=platform.pipeline.clock.now())
    return {"url": link.url, "expires_at": link.expires_at.isoformat()}
