"""``/v1/me``: the shopper-facing API (the app speaks for one subject with its app token).

- ``POST /v1/me/register`` — called by the tenant's app backend with an API key of role ``device`` (or
  ``admin``); creates a subject, optionally with its first consent, and returns the app token once.
- ``GET /v1/me``, ``GET|PUT /v1/me/consent``, ``GET /v1/me/consent/history``, ``POST /v1/me/token`` and
  ``POST /v1/me/events`` — authenticated by the app token (``Authorization: Bearer ta_…``).
- ``GET /v1/me/data`` (export, ``tradeoff-dsr/1``) and ``DELETE /v1/me`` (erasure) — the subject's own
  data-subject requests (``privacy/dsr``). Once erased, the app token answers 410 ``erased`` everywhere.

A ``Sec-GPC: 1`` header on any of them is honoured (recorded, and GPC-restricted grants withdrawn) before
the request does anything else. Consent changes, exports and erasures are recorded in the audit chain in
the same transaction as the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeoff.core.errors import InvalidInput
from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.body import read_body
from tradeoff.platform.http.deps import PlatformDep, bearer_secret, roles
from tradeoff.platform.http.responses import JsonResponse
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.privacy.audit.actors import SUBJECT, actor_of
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.consent import (
    Basis,
    ConsentChange,
    ConsentRecord,
    ConsentState,
    Purpose,
    Source,
    audit_consent,
    change_consent,
    changes_for_tier,
    consent_history,
    consent_state,
    honour_gpc,
    notify_consent_changed,
    record_consent,
)
from tradeoff.privacy.dsr.own import erase_own, export_own
from tradeoff.privacy.subjects import (
    SubjectPrincipal,
    authenticate_app_token,
    get_subject,
    register_subject,
    rotate_app_token,
)

router = APIRouter(prefix="/v1/me", tags=["me (shopper app)"])
APP_SOURCE = "app"  # the envelope source of events the shopper's app sends itself
PolicyVersion = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class ConsentIn(BaseModel):
    """A tier (0–3, the bundles the app shows) or individual purposes; exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    tier: int | None = Field(default=None, ge=0, le=3)
    purposes: dict[Purpose, bool] | None = None
    policy_version: PolicyVersion
    source: Source
    gpc: bool = Field(default=False, description="the app reports a Global Privacy Control / OS opt-out")

    @model_validator(mode="after")
    def _one_of(self) -> ConsentIn:
        if (self.tier is None) == (not self.purposes):
            raise ValueError("give either tier or a non-empty purposes map")
        return self

    def change(self, *, gpc_header: bool) -> ConsentChange:
        changes = changes_for_tier(self.tier) if self.tier is not None else dict(self.purposes or {})
        return ConsentChange(changes, self.policy_version, self.source, gpc=self.gpc or gpc_header)


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: ConsentIn | None = None


def get_me(request: Request, platform: PlatformDep) -> SubjectPrincipal:
    """The app token's subject (looked up across tenants on the owner connection, like API keys)."""
    secret = bearer_secret(request)
    with platform.engine.connect() as conn:
        me = authenticate_app_token(conn, secret)
    if _gpc(request):
        honour_gpc(
            platform.app_engine,
            tenant_id=me.tenant_id,
            subject_id=me.subject_id,
            source=Source.WEB,
            at=_now(platform),
            audit=privacy_of(platform).audit,
        )
    return me


Me = Annotated[SubjectPrincipal, Depends(get_me)]
AppBackend = Annotated[Principal, roles(Role.ADMIN, Role.DEVICE)]


def _gpc(request: Request) -> bool:
    return request.headers.get("sec-gpc", "").strip() == "1"


def _now(platform: Platform) -> datetime:
    return platform.pipeline.clock.now()


def state_json(state: ConsentState, at: datetime) -> dict[str, Any]:
    return {
        "tier": state.tier(at),
        "purposes": {
            purpose.value: {
                "granted": state.allows(purpose, at),
                "record": record.to_json() if (record := state.latest.get(purpose)) else None,
            }
            for purpose in Purpose
        },
        "renewal_due": state.renewal_due(at),
    }


@router.post("/register", status_code=status.HTTP_201_CREATED, summary="Register a shopper (app backend)")
def register(
    request: Request, platform: PlatformDep, principal: AppBackend, body: RegisterIn | None = None
) -> dict[str, Any]:
    """Returns ``subject_id`` and the ``app_token`` (shown once; the app keeps it in secure storage)."""
    at = _now(platform)
    records: list[ConsentRecord] = []
    with write_transaction(platform.app_engine) as conn:
        scope_to_tenant(conn, principal.tenant_id)
        registered = register_subject(conn, tenant_id=principal.tenant_id, at=at)
        subject_id = registered.subject.subject_id
        if body is not None and body.consent is not None:
            change = body.consent.change(gpc_header=_gpc(request))
            records = record_consent(
                conn,
                tenant_id=principal.tenant_id,
                subject_id=subject_id,
                changes=change.changes,
                policy_version=change.policy_version,
                source=change.source,
                gpc=change.gpc,
                at=at,
            )
            audit_consent(
                privacy_of(platform).audit,
                conn,
                tenant_id=principal.tenant_id,
                subject_id=subject_id,
                records=records,
                actor=actor_of(principal),
            )
        state = consent_state(conn, tenant_id=principal.tenant_id, subject_id=subject_id)
    notify_consent_changed(principal.tenant_id, subject_id)
    return {
        "subject_id": subject_id,
        "app_token": registered.app_token,
        "consent": state_json(state, at),
        "gpc_conflict": any(record.basis is Basis.GPC_CONFLICT for record in records),
    }


@router.get("", summary="The subject this app token speaks for")
def get_self(platform: PlatformDep, me: Me) -> dict[str, Any]:
    at = _now(platform)
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, me.tenant_id)
        subject = get_subject(conn, tenant_id=me.tenant_id, subject_id=me.subject_id)
        state = consent_state(conn, tenant_id=me.tenant_id, subject_id=me.subject_id)
    return {
        "subject_id": subject.subject_id,
        "created_at": subject.created_at.isoformat(),
        "tier": state.tier(at),
        "purposes": sorted(purpose.value for purpose in state.purposes(at)),
    }


@router.get("/consent", summary="Consent in force, per purpose")
def get_consent(platform: PlatformDep, me: Me) -> dict[str, Any]:
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, me.tenant_id)
        state = consent_state(conn, tenant_id=me.tenant_id, subject_id=me.subject_id)
    return state_json(state, _now(platform))


@router.put("/consent", summary="Grant or withdraw (takes effect for the next event)")
def put_consent(request: Request, platform: PlatformDep, me: Me, body: ConsentIn) -> dict[str, Any]:
    """Committed before the response: the very next event about this subject is judged by it. With GPC
    (header or ``gpc: true``), purchase linking cannot be granted; the conflict is recorded."""
    at = _now(platform)
    result = change_consent(
        platform.app_engine,
        tenant_id=me.tenant_id,
        subject_id=me.subject_id,
        change=body.change(gpc_header=_gpc(request)),
        at=at,
        audit=privacy_of(platform).audit,
        actor=SUBJECT,
    )
    return {
        **state_json(result.state, at),
        "gpc_conflict": result.gpc_conflict,
        "recorded": [record.to_json() for record in result.records],
    }


@router.get("/consent/history", summary="Every consent record of this subject, oldest first")
def get_history(platform: PlatformDep, me: Me) -> dict[str, Any]:
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, me.tenant_id)
        records = consent_history(conn, tenant_id=me.tenant_id, subject_id=me.subject_id)
    return {"records": [record.to_json() for record in records]}


@router.get("/data", summary="Everything held about this subject (export, machine-readable JSON)")
def get_data(platform: PlatformDep, me: Me) -> dict[str, Any]:
    """The ``tradeoff-dsr/1`` export: every table holding the subject's data, their events and the audit
    entries about them. 410 ``erased`` once the subject was erased."""
    return export_own(platform, tenant_id=me.tenant_id, subject_id=me.subject_id, at=_now(platform))


@router.delete("", summary="Erase this subject: keys destroyed, data and events deleted, token ends")
def delete_self(platform: PlatformDep, me: Me) -> dict[str, Any]:
    """``{"erased": true, "erased_at", "rows_deleted", "events_deleted", "tables"}``. Afterwards every
    ``/v1/me`` call with this app token answers 410 ``erased``."""
    return erase_own(platform, tenant_id=me.tenant_id, subject_id=me.subject_id)


@router.post("/token", summary="Replace the app token (the old one stops working)")
def new_token(platform: PlatformDep, me: Me) -> dict[str, Any]:
    with write_transaction(platform.app_engine) as conn:
        scope_to_tenant(conn, me.tenant_id)
        token = rotate_app_token(conn, tenant_id=me.tenant_id, subject_id=me.subject_id)
    return {"app_token": token}


@router.post("/events", summary="Events the app sends about its own subject (json-batch)")
async def post_events(request: Request, platform: PlatformDep, me: Me) -> JsonResponse:
    """Same body and per-item results as ``POST /v1/events``; every event is about this subject
    (``payload.subject`` is set to it; naming another subject is refused) and its source is ``app``."""
    body = await read_body(request, platform.settings.max_body_bytes)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "not valid JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise InvalidInput("events", 'body must be a JSON object with an "events" array')
    for index, item in enumerate(doc["events"]):
        payload = item.setdefault("payload", {}) if isinstance(item, dict) else None
        if isinstance(payload, dict) and payload.setdefault("subject", me.subject_id) != me.subject_id:
            raise InvalidInput(f"events[{index}].payload.subject", "an app token speaks only for its own subject")
    message = RawMessage(
        body=orjson.dumps(doc),
        transport="http",
        tenant_id=me.tenant_id,
        received_at=_now(platform),
        source=APP_SOURCE,
        content_type="application/json",
    )
    report = await run_in_threadpool(platform.pipeline.ingest, message, decoder="json-batch")
    return JsonResponse(report.to_json())
