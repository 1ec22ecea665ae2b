"""Projection of each device's last contact and latest telemetry, fed by the bus."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Insert, case, select
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.core.events import Event
from tradeoff.platform.db.tables import device_state

TELEMETRY_TYPES = frozenset({"device.heartbeat", "device.telemetry"})
OFFLINE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    source: str
    last_seen_at: datetime
    last_type: str
    events_count: int
    last_telemetry: dict[str, Any] | None

    def online(self, now: datetime) -> bool:
        return now - self.last_seen_at <= OFFLINE_AFTER


class DeviceStateProcessor:
    """Keeps ``device_state``: one upsert per device per batch, counts add up exactly once."""

    name = "device_state"
    event_types: frozenset[str] | None = None

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        latest: dict[tuple[str, str], Event] = {}
        counts: dict[tuple[str, str], int] = {}
        telemetry: dict[tuple[str, str], dict[str, Any]] = {}
        for event in events:  # every event of the log passes here: one dict lookup each, no more
            key = (event.tenant_id, event.source)
            counts[key] = counts.get(key, 0) + 1
            current = latest.get(key)
            if current is None or event.occurred_at >= current.occurred_at:
                latest[key] = event
            if event.type in TELEMETRY_TYPES:
                telemetry[key] = event.payload
        rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for key, event in latest.items():
            rows[key in telemetry].append(
                {
                    "tenant_id": key[0],
                    "source": key[1],
                    "last_seen_at": event.occurred_at,
                    "last_type": event.type,
                    "events_count": counts[key],
                    "last_telemetry": telemetry.get(key),
                }
            )
        for with_telemetry, batch in rows.items():
            if batch:  # one executemany per batch instead of one statement built per device
                conn.execute(_upsert(conn.dialect.name, with_telemetry), batch)


@functools.cache
def _upsert(dialect: str, with_telemetry: bool) -> Insert:
    """The upsert, built once: building it per device cost more than running it."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(device_state)
    newer = stmt.excluded.last_seen_at >= device_state.c.last_seen_at
    set_: dict[str, Any] = {
        "events_count": device_state.c.events_count + stmt.excluded.events_count,
        "last_seen_at": _greatest(newer, stmt.excluded.last_seen_at, device_state.c.last_seen_at),
        "last_type": _greatest(newer, stmt.excluded.last_type, device_state.c.last_type),
    }
    if with_telemetry:
        set_["last_telemetry"] = stmt.excluded.last_telemetry
    return stmt.on_conflict_do_update(index_elements=["tenant_id", "source"], set_=set_)


def _greatest(condition: Any, new: Any, old: Any) -> Any:
    return case((condition, new), else_=old)


def list_device_status(conn: Connection, *, tenant_id: str) -> list[DeviceStatus]:
    query = select(device_state).where(device_state.c.tenant_id == tenant_id).order_by(device_state.c.source)
    return [
        DeviceStatus(
            source=row.source,
            last_seen_at=row.last_seen_at,
            last_type=row.last_type,
            events_count=row.events_count,
            last_telemetry=row.last_telemetry,
        )
        for row in conn.execute(query)
    ]
