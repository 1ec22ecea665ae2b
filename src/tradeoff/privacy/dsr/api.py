"""``/v1/privacy``: data-subject requests handled by the tenant's staff (role ``admin``).

- ``GET /v1/privacy/subjects/{subject_id}/export`` — the export document (``tradeoff-dsr/1``); audited as
  ``dsr.export`` and ``personal.read``.
- ``DELETE /v1/privacy/subjects/{subject_id}`` — erase the subject; audited as ``dsr.erase``.
- ``GET /v1/privacy/dsr-log`` — the tenant's exports and erasures from the audit chain (time, actor,
  counts; no subject reference).

404 ``not_found`` for a subject nothing names, 410 ``erased`` for one already erased.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.http.deps import ConnDep, PlatformDep, roles
from tradeoff.privacy.audit.actors import actor_of
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.dsr.service import RequestedBy, dsr_log, erase, export_for

router = APIRouter(prefix="/v1/privacy", tags=["privacy: data-subject requests (staff)"])

Admin = Annotated[Principal, roles(Role.ADMIN)]
SubjectId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


@router.get("/subjects/{subject_id}/export", summary="Export everything held about a subject (staff read)")
def export_subject_data(platform: PlatformDep, principal: Admin, subject_id: SubjectId) -> dict[str, Any]:
    services = privacy_of(platform)
    return export_for(
        platform.app_engine,
        tenant_id=principal.tenant_id,
        subject_id=subject_id,
        vault=services.vault,
        audit=services.audit,
        actor=actor_of(principal),
        requested_by=RequestedBy.STAFF,
    )


@router.delete("/subjects/{subject_id}", summary="Erase a subject (crypto-shred, delete rows and events)")
def erase_subject_data(platform: PlatformDep, principal: Admin, subject_id: SubjectId) -> dict[str, Any]:
    services = privacy_of(platform)
    report = erase(
        platform.app_engine,
        tenant_id=principal.tenant_id,
        subject_id=subject_id,
        vault=services.vault,
        audit=services.audit,
        actor=actor_of(principal),
        requested_by=RequestedBy.STAFF,
    )
    return report.to_json()


@router.get("/dsr-log", summary="Exports and erasures recorded in the audit chain, newest first")
def get_dsr_log(
    conn: ConnDep,
    principal: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[int | None, Query(ge=1, description="page: entries before this seq")] = None,
) -> dict[str, Any]:
    return dsr_log(conn, tenant_id=principal.tenant_id, limit=limit, before_seq=before_seq)
