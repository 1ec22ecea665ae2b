"""The portal's and the privacy page's view of data-subject requests, through the privacy DSR service.

``export_document`` and ``erase`` are the very use cases behind ``GET /v1/me/data`` and ``DELETE /v1/me``;
``held`` summarizes an export for the page (per table: a label, the row count, the first rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradeoff.platform.container import Platform
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.errors import error_body
from tradeoff.privacy import dsr
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.dsr import export_subject
from tradeoff.privacy.dsr.own import erase_own, export_own
from tradeoff.privacy.subjects import SubjectErased
from tradeoff.web.portal_session import Shopper, portal_now

PREVIEW_ROWS = 50
EVENTS = "events"
LABELS = {
    "subjects": "Your profile (a random id, no name or contact)",
    "consent_records": "Your consent choices",
    EVENTS: "Visits, offers and purchases (events)",
    "subject_keys": "Keys protecting your data",
    "audit": "Records of your requests and choices",
}
DSR_LABELS = {"dsr.export": "Export", "dsr.erase": "Erasure"}
SKIPPED = frozenset({"audit"})  # proof of what was done, kept after erasure: not "data held about you"


@dataclass(frozen=True, slots=True)
class HeldItem:
    name: str
    label: str
    count: int
    rows: tuple[Mapping[str, Any], ...]  # the first ``PREVIEW_ROWS`` (only when asked for)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.rows)) if self.rows else 0


@dataclass(frozen=True, slots=True)
class Held:
    exported_at: datetime | None
    items: tuple[HeldItem, ...]

    @property
    def empty(self) -> bool:
        return not any(item.count for item in self.items)


def label(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def summarize(document: Mapping[str, Any], *, rows: bool = False) -> Held:
    """The non-empty tables of a ``tradeoff-dsr/1`` export, then its events."""
    sections: list[tuple[str, list[Any]]] = [
        (str(name), list(values or [])) for name, values in sorted((document.get("tables") or {}).items())
    ]
    sections.append((EVENTS, list(document.get(EVENTS) or [])))
    items = tuple(
        HeldItem(name, label(name), len(values), tuple(values[:PREVIEW_ROWS]) if rows else ())
        for name, values in sections
        if values and name not in SKIPPED
    )
    exported = document.get("exported_at")
    return Held(datetime.fromisoformat(exported) if isinstance(exported, str) else None, items)


def held(platform: Platform, shopper: Shopper, *, rows: bool = False) -> Held:
    """What is held about the shopper. With ``rows`` (the values themselves) this is an export, audited as
    ``dsr.export`` like ``GET /v1/me/data``; without, only counts leave the server, read by the same code."""
    if rows:
        return summarize(_export(platform, shopper), rows=True)
    services = privacy_of(platform)
    with platform.app_engine.connect() as conn:
        scope_to_tenant(conn, shopper.tenant_id)
        document = export_subject(
            conn,
            tenant_id=shopper.tenant_id,
            subject_id=shopper.subject_id,
            vault=services.vault,
            audit_keys=services.audit.keys,
            at=portal_now(platform),
        )
    return summarize(document)


def export_document(platform: Platform, shopper: Shopper) -> tuple[int, dict[str, Any]]:
    """``(200, document)``, or ``(410, {"error": {"code": "erased", …}})`` once the subject is erased."""
    try:
        return 200, _export(platform, shopper)
    except SubjectErased as erased:
        return erased.status, error_body(erased.code, erased.message, erased.details)


def erase(platform: Platform, shopper: Shopper) -> dict[str, Any]:
    """Erase the shopper (crypto-shred, delete rows and events, close the subject): ``DELETE /v1/me``'s
    use case, audited as ``dsr.erase``."""
    return erase_own(platform, tenant_id=shopper.tenant_id, subject_id=shopper.subject_id)


def _export(platform: Platform, shopper: Shopper) -> dict[str, Any]:
    return export_own(platform, tenant_id=shopper.tenant_id, subject_id=shopper.subject_id, at=portal_now(platform))


@dataclass(frozen=True, slots=True)
class DsrLogEntry:
    seq: int
    recorded_at: datetime
    action: str
    actor: str
    details: Mapping[str, Any]

    @property
    def label(self) -> str:
        return DSR_LABELS.get(self.action, self.action)


def dsr_log(platform: Platform, *, tenant_id: str, limit: int) -> list[DsrLogEntry]:
    """The tenant's newest exports and erasures (``GET /v1/privacy/dsr-log``'s service): no subject refs."""
    with platform.app_engine.connect() as conn:
        scope_to_tenant(conn, tenant_id)
        page = dsr.dsr_log(conn, tenant_id=tenant_id, limit=limit)
    return [
        DsrLogEntry(
            seq=int(entry["seq"]),
            recorded_at=datetime.fromisoformat(entry["recorded_at"]),
            action=str(entry["action"]),
            actor=str(entry["actor"]),
            details=dict(entry["details"]),
        )
        for entry in page["entries"]
    ]
