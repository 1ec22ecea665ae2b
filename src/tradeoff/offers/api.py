"""HTTP: ``/v1/offers/…`` (campaigns, settings, stats; admin/staff), ``/v1/coupons/{code}/…`` (the till; pos/
admin), ``/v1/me/coupons`` (the shopper's wallet; app token). The tenant always comes from the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tradeoff.offers import service
from tradeoff.offers.campaigns import Campaign, CampaignSpec
from tradeoff.offers.coupons.keyring import coupon_key
from tradeoff.offers.segments.service import check_audience
from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.container import Platform
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import READERS, ConnDep, PlatformDep, roles
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.me_api import Me

router = APIRouter(tags=["offers"])
Reader = Annotated[Principal, roles(*READERS)]
Admin = Annotated[Principal, roles(Role.ADMIN)]
Till = Annotated[Principal, roles(Role.POS, Role.ADMIN)]


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fatigue_per_day: int = Field(ge=1, le=20, description="offers per shopper in any 24 h, all campaigns")
    fatigue_min_gap_s: float = Field(ge=0, le=86_400, description="seconds between two offers to a shopper")


class PosCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")


def _now(platform: Platform) -> datetime:
    return platform.pipeline.clock.now()


def _key(platform: Platform, tenant_id: str) -> bytes:
    return coupon_key(keys=privacy_of(platform).keys, tenant_id=tenant_id)


def _campaign(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "created_at": campaign.created_at.isoformat(),
        "updated_at": campaign.updated_at.isoformat(),
        **campaign.spec.model_dump(mode="json"),
    }


@router.get("/v1/offers/campaigns", summary="The tenant's campaigns")
def list_campaigns(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"campaigns": [_campaign(c) for c in service.list_campaigns(conn, tenant_id=principal.tenant_id)]}


@router.post("/v1/offers/campaigns", status_code=status.HTTP_201_CREATED, summary="Create a campaign")
def create_campaign(platform: PlatformDep, conn: ConnDep, principal: Reader, body: CampaignSpec) -> dict[str, Any]:
    check_audience(conn, tenant_id=principal.tenant_id, spec=body)
    campaign = service.create_campaign(conn, tenant_id=principal.tenant_id, spec=body, now=_now(platform))
    return _campaign(campaign)


@router.get("/v1/offers/campaigns/{campaign_id}")
def get_campaign(conn: ConnDep, principal: Reader, campaign_id: str) -> dict[str, Any]:
    return _campaign(service.get_campaign(conn, tenant_id=principal.tenant_id, campaign_id=campaign_id))


@router.put("/v1/offers/campaigns/{campaign_id}", summary="Replace a campaign (trigger/offer fixed once used)")
def put_campaign(
    platform: PlatformDep, conn: ConnDep, principal: Reader, campaign_id: str, body: CampaignSpec
) -> dict[str, Any]:
    stored = service.get_campaign(conn, tenant_id=principal.tenant_id, campaign_id=campaign_id)
    check_audience(conn, tenant_id=principal.tenant_id, spec=body, already=stored.spec.audience.segments)
    campaign = service.update_campaign(
        conn, tenant_id=principal.tenant_id, campaign_id=campaign_id, spec=body, now=_now(platform)
    )
    return _campaign(campaign)


@router.delete("/v1/offers/campaigns/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_campaign(conn: ConnDep, principal: Reader, campaign_id: str) -> Response:
    service.delete_campaign(conn, tenant_id=principal.tenant_id, campaign_id=campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/offers/campaigns/{campaign_id}/stats", summary="Issued, held out, delivered, redeemed, skips")
def campaign_stats(conn: ConnDep, principal: Reader, campaign_id: str) -> dict[str, Any]:
    return service.campaign_stats(conn, tenant_id=principal.tenant_id, campaign_id=campaign_id)


@router.get("/v1/offers/settings", summary="The global fatigue cap per shopper")
def get_settings(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    settings = service.load_settings(conn, tenant_id=principal.tenant_id)
    return {"fatigue_per_day": settings.fatigue_per_day, "fatigue_min_gap_s": settings.fatigue_min_gap_s}


@router.put("/v1/offers/settings")
def put_settings(platform: PlatformDep, conn: ConnDep, principal: Admin, body: SettingsIn) -> dict[str, Any]:
    settings = service.update_settings(conn, tenant_id=principal.tenant_id, now=_now(platform), **body.model_dump())
    return {"fatigue_per_day": settings.fatigue_per_day, "fatigue_min_gap_s": settings.fatigue_min_gap_s}


def _till(
    platform: Platform, conn: Any, principal: Principal, code: str, action: service.PosAction, body: PosCommand
) -> dict[str, Any]:
    return service.pos_command(
        conn,
        tenant_id=principal.tenant_id,
        code=code,
        action=action,
        transaction_id=body.transaction_id,
        key=_key(platform, principal.tenant_id),
        at=_now(platform),
    )


@router.post("/v1/coupons/{code}/reserve", summary="Hold a coupon for an open POS transaction")
def reserve(platform: PlatformDep, conn: ConnDep, principal: Till, code: str, body: PosCommand) -> dict[str, Any]:
    return _till(platform, conn, principal, code, "reserve", body)


@router.post("/v1/coupons/{code}/redeem", summary="Redeem (directly, or the reservation of this transaction)")
def redeem(platform: PlatformDep, conn: ConnDep, principal: Till, code: str, body: PosCommand) -> dict[str, Any]:
    return _till(platform, conn, principal, code, "redeem", body)


@router.post("/v1/coupons/{code}/release", summary="Give back the reservation of an abandoned transaction")
def release(platform: PlatformDep, conn: ConnDep, principal: Till, code: str, body: PosCommand) -> dict[str, Any]:
    return _till(platform, conn, principal, code, "release", body)


@router.post("/v1/coupons/{code}/void", summary="The POS transaction was voided/refunded: undo its effect")
def void(platform: PlatformDep, conn: ConnDep, principal: Till, code: str, body: PosCommand) -> dict[str, Any]:
    return _till(platform, conn, principal, code, "void", body)


@router.get("/v1/me/coupons", tags=["me (shopper app)"], summary="The shopper's coupons, with codes")
def my_coupons(platform: PlatformDep, me: Me) -> dict[str, Any]:
    pseudonym = privacy_of(platform).gate.pseudonyms.stable(me.tenant_id, me.subject_id)
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, me.tenant_id)
        coupons = service.wallet(
            conn, tenant_id=me.tenant_id, pseudonym=pseudonym, key=_key(platform, me.tenant_id), at=_now(platform)
        )
    return {"coupons": coupons}
