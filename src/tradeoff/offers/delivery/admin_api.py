"""``/v1/offers/webhooks`` (admin): the app backend's webhook endpoints; ``/v1/offers/outbox`` (admin,
staff): where each offer's delivery stands. The signing secret is returned on creation and rotation only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from tradeoff.core.errors import Conflict, NotFound
from tradeoff.offers.delivery import endpoints
from tradeoff.offers.delivery.config import delivery_of
from tradeoff.offers.delivery.sender import Status
from tradeoff.offers.store import offer_outbox
from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.container import Platform
from tradeoff.platform.http.deps import READERS, ConnDep, PlatformDep, roles
from tradeoff.privacy.capability import privacy_of

router = APIRouter(prefix="/v1/offers", tags=["offers delivery"])
Admin = Annotated[Principal, roles(Role.ADMIN)]
Reader = Annotated[Principal, roles(*READERS)]
o = offer_outbox.c


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="https URL of the app backend")
    description: str = Field(default="", max_length=200)


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


def _with_secret(platform: Platform, endpoint: endpoints.Endpoint) -> dict[str, Any]:
    secret = endpoints.secret_of(privacy_of(platform).keys, endpoint)
    return {**endpoint.to_json(), "secret": secret.reveal()}


def _now(platform: Platform) -> Any:
    return platform.pipeline.clock.now()


@router.get("/webhooks", summary="The app backend's webhook endpoints")
def list_webhooks(conn: ConnDep, principal: Admin) -> dict[str, Any]:
    return {"endpoints": [e.to_json() for e in endpoints.list_endpoints(conn, tenant_id=principal.tenant_id)]}


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, summary="Add an endpoint (its secret is shown once)")
def create_webhook(platform: PlatformDep, conn: ConnDep, principal: Admin, body: EndpointIn) -> dict[str, Any]:
    endpoint = endpoints.create_endpoint(
        conn,
        tenant_id=principal.tenant_id,
        url=body.url,
        description=body.description,
        now=_now(platform),
        allow_http=delivery_of(platform).config.allow_http,
    )
    return _with_secret(platform, endpoint)


@router.patch("/webhooks/{endpoint_id}", summary="Enable or disable an endpoint")
def patch_webhook(
    platform: PlatformDep, conn: ConnDep, principal: Admin, endpoint_id: str, body: EndpointPatch
) -> dict[str, Any]:
    endpoint = endpoints.set_enabled(
        conn, tenant_id=principal.tenant_id, endpoint_id=endpoint_id, enabled=body.enabled, now=_now(platform)
    )
    return endpoint.to_json()


@router.post("/webhooks/{endpoint_id}/rotate", summary="New secret; the old one also signs for 24 h")
def rotate_webhook(platform: PlatformDep, conn: ConnDep, principal: Admin, endpoint_id: str) -> dict[str, Any]:
    endpoint = endpoints.rotate_secret(conn, tenant_id=principal.tenant_id, endpoint_id=endpoint_id, now=_now(platform))
    return _with_secret(platform, endpoint)


@router.delete("/webhooks/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(conn: ConnDep, principal: Admin, endpoint_id: str) -> Response:
    endpoints.delete_endpoint(conn, tenant_id=principal.tenant_id, endpoint_id=endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/outbox", summary="Delivery state of the app channel (no shopper identifiers)")
def list_outbox(
    conn: ConnDep,
    principal: Reader,
    status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    query = (
        select(o.id, o.coupon_id, o.campaign_id, o.channel, o.status, o.attempts, o.next_attempt_at, o.last_error,
               o.created_at, o.sent_at)
        .where(o.tenant_id == principal.tenant_id)
        .order_by(o.id.desc())
        .limit(limit)
    )  # fmt: skip
    if status_:
        query = query.where(o.status == status_)
    rows = conn.execute(query).mappings()
    return {
        "outbox": [
            {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}
            for row in rows
        ]
    }


@router.post("/outbox/{outbox_id}/retry", summary="Send a dead or failed delivery again (attempts start over)")
def retry_outbox(platform: PlatformDep, conn: ConnDep, principal: Admin, outbox_id: int) -> dict[str, Any]:
    row = conn.execute(select(o.status).where(o.tenant_id == principal.tenant_id, o.id == outbox_id)).first()
    if row is None:
        raise NotFound("no such outbox row in this tenant")
    if row.status not in (Status.DEAD, Status.FAILED):
        raise Conflict(f"only dead or failed deliveries are retried; this one is {row.status}")
    conn.execute(
        update(offer_outbox)
        .where(o.id == outbox_id)
        .values(status=Status.PENDING, attempts=0, next_attempt_at=_now(platform), last_error=None)
    )
    delivery_of(platform).sender.wake()
    return {"id": outbox_id, "status": Status.PENDING}
