"""Read models for the dashboard pages. Every query takes the tenant it is scoped to, and filters by it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.sql import ColumnElement

from tradeoff.core.events import Event
from tradeoff.platform import tenancy
from tradeoff.platform.db.tables import dead_letters, device_state, devices, events, sites
from tradeoff.platform.device_state import OFFLINE_AFTER, DeviceStatus, list_device_status
from tradeoff.platform.eventlog import max_seq, row_to_event

DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Overview:
    tenant: tenancy.Tenant
    sites: int
    devices: int
    sources_seen: int
    sources_online: int
    events_24h: int
    dead_letters_24h: int


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A registered device and/or an event source, with its last contact (``status`` None: never seen)."""

    external_id: str
    name: str
    kind: str
    site: str | None
    registered: bool
    status: DeviceStatus | None
    online: bool

    @property
    def state(self) -> str:
        if self.status is None:
            return "never seen"
        return "online" if self.online else "offline"


def _count(conn: Connection, table: Table, *where: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def overview(conn: Connection, *, tenant_id: str, now: datetime) -> Overview:
    since = now - DAY
    online_since = now - OFFLINE_AFTER
    return Overview(
        tenant=tenancy.get_tenant(conn, tenant_id),
        sites=_count(conn, sites, sites.c.tenant_id == tenant_id),
        devices=_count(conn, devices, devices.c.tenant_id == tenant_id),
        sources_seen=_count(conn, device_state, device_state.c.tenant_id == tenant_id),
        sources_online=_count(
            conn,
            device_state,
            device_state.c.tenant_id == tenant_id,
            device_state.c.last_seen_at >= online_since,
        ),
        events_24h=_count(conn, events, events.c.tenant_id == tenant_id, events.c.received_at >= since),
        dead_letters_24h=_count(
            conn, dead_letters, dead_letters.c.tenant_id == tenant_id, dead_letters.c.received_at >= since
        ),
    )


def device_rows(conn: Connection, *, tenant_id: str, now: datetime) -> tuple[list[DeviceRow], list[DeviceRow]]:
    """(registered devices, event sources that are not registered devices), both sorted by external id."""
    statuses = {status.source: status for status in list_device_status(conn, tenant_id=tenant_id)}
    site_names = {site.id: site.name for site in tenancy.list_sites(conn, tenant_id=tenant_id)}
    registered: list[DeviceRow] = []
    for device in tenancy.list_devices(conn, tenant_id=tenant_id):
        status = statuses.pop(device.external_id, None)
        registered.append(
            DeviceRow(
                external_id=device.external_id,
                name=device.name,
                kind=device.kind,
                site=site_names.get(device.site_id) if device.site_id else None,
                registered=True,
                status=status,
                online=status is not None and status.online(now),
            )
        )
    unregistered = [
        DeviceRow(
            external_id=source,
            name="",
            kind="",
            site=None,
            registered=False,
            status=status,
            online=status.online(now),
        )
        for source, status in sorted(statuses.items())
    ]
    return registered, unregistered


def log_position(conn: Connection) -> int:
    """The log's current end: the live stream continues from here, after the rows a page rendered."""
    return max_seq(conn)


def recent_events(conn: Connection, *, tenant_id: str, up_to_seq: int, limit: int = 50) -> list[Event]:
    """The tenant's newest events at or before ``up_to_seq``, newest first."""
    query = (
        select(events)
        .where(events.c.tenant_id == tenant_id, events.c.seq <= up_to_seq)
        .order_by(events.c.seq.desc())
        .limit(limit)
    )
    return [row_to_event(row) for row in conn.execute(query)]
