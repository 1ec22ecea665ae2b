"""A shopper's own requests (from the app's ``/v1/me`` or the privacy portal): export and erasure with the
subject as the audited actor, on the tenant-bound application engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tradeoff.platform.container import Platform
from tradeoff.privacy.audit.actors import SUBJECT
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.dsr.service import RequestedBy, erase, export_for


def export_own(platform: Platform, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> dict[str, Any]:
    services = privacy_of(platform)
    return export_for(
        platform.app_engine,
        tenant_id=tenant_id,
        subject_id=subject_id,
        vault=services.vault,
        audit=services.audit,
        actor=SUBJECT,
        requested_by=RequestedBy.SUBJECT,
        at=at,
    )


def erase_own(platform: Platform, *, tenant_id: str, subject_id: str) -> dict[str, Any]:
    """``{"erased": true, "erased_at", "rows_deleted", "events_deleted", "tables"}``."""
    services = privacy_of(platform)
    report = erase(
        platform.app_engine,
        tenant_id=tenant_id,
        subject_id=subject_id,
        vault=services.vault,
        audit=services.audit,
        actor=SUBJECT,
        requested_by=RequestedBy.SUBJECT,
    )
    return report.to_json()
