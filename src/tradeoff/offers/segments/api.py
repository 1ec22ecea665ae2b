"""HTTP: ``/v1/offers/segments`` (the tenant's segment catalogue; admin/staff) and ``/v1/me/preferences``
(the segments the shopper releases; app token). The tenant always comes from the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tradeoff.offers.segments import service
from tradeoff.offers.segments.service import KEY_PATTERN, MAX_SEGMENTS, CatalogueIn
from tradeoff.platform.auth import Principal
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import READERS, ConnDep, PlatformDep, roles
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.me_api import Me

router = APIRouter(tags=["offers"])
Reader = Annotated[Principal, roles(*READERS)]
SegmentKey = Annotated[str, Field(pattern=KEY_PATTERN)]


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segments: list[SegmentKey] = Field(max_length=MAX_SEGMENTS, description="keys from the store's catalogue")


def _now(platform: Platform) -> datetime:
    return platform.pipeline.clock.now()


@router.get("/v1/offers/segments", summary="The segments shoppers may choose from")
def get_segments(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"segments": [s.to_json() for s in service.catalogue(conn, tenant_id=principal.tenant_id)]}


@router.put("/v1/offers/segments", summary="Replace the segment catalogue")
def put_segments(platform: PlatformDep, conn: ConnDep, principal: Reader, body: CatalogueIn) -> dict[str, Any]:
    """A segment taken out stops counting at once for every shopper and every campaign naming it."""
    found = service.replace_catalogue(conn, tenant_id=principal.tenant_id, segments=body.segments, now=_now(platform))
    return {"segments": [s.to_json() for s in found]}


def shopper_view(platform: Platform, tenant_id: str, subject_id: str) -> dict[str, Any]:
    """What ``GET /v1/me/preferences`` answers (also the wallet page's interests form)."""
    vault = privacy_of(platform).vault
    at = _now(platform)
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, tenant_id)
        offered = service.catalogue(conn, tenant_id=tenant_id)
        chosen = service.stored_preferences(conn, vault=vault, tenant_id=tenant_id, subject_id=subject_id)
        allowed = service.personalization_allowed(conn, tenant_id=tenant_id, subject_id=subject_id, at=at)
    keys = {s.key for s in offered}
    return {
        "segments": sorted(chosen & keys),
        "retired": sorted(chosen - keys),  # chosen, but the store no longer offers them: not used
        "catalogue": [s.to_json() for s in offered],
        "personalization": allowed,  # without it, nothing here is used for offers
    }


@router.get("/v1/me/preferences", tags=["me (shopper app)"], summary="The segments this shopper released")
def get_preferences(platform: PlatformDep, me: Me) -> dict[str, Any]:
    return shopper_view(platform, me.tenant_id, me.subject_id)


@router.put("/v1/me/preferences", tags=["me (shopper app)"], summary="Choose segments (needs tier 2+)")
def put_preferences(platform: PlatformDep, me: Me, body: PreferencesIn) -> dict[str, Any]:
    """Replaces the choice (an empty list deletes it). 403 ``personalization_not_granted`` without
    personalization consent (nothing is stored); 422 for a key the store's catalogue does not have."""
    release(platform, tenant_id=me.tenant_id, subject_id=me.subject_id, segments=body.segments, at=_now(platform))
    return shopper_view(platform, me.tenant_id, me.subject_id)


def release(platform: Platform, *, tenant_id: str, subject_id: str, segments: list[str], at: datetime) -> None:
    """``service.release_preferences`` in its own tenant-bound transaction (the app API and the wallet form)."""
    with write_transaction(platform.app_engine) as conn:
        scope_to_tenant(conn, tenant_id)
        service.release_preferences(
            conn, vault=privacy_of(platform).vault, tenant_id=tenant_id, subject_id=subject_id, segments=segments, at=at
        )


@router.delete(
    "/v1/me/preferences", tags=["me (shopper app)"], status_code=status.HTTP_204_NO_CONTENT, summary="Forget them"
)
def delete_preferences(platform: PlatformDep, me: Me) -> Response:
    with write_transaction(platform.app_engine) as conn:
        scope_to_tenant(conn, me.tenant_id)
        service.forget_preferences(conn, tenant_id=me.tenant_id, subject_id=me.subject_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
