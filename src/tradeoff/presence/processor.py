"""Bus processor: ``presence.sighting`` → a ``LiveTracker`` per tenant → derived ``presence.*`` events.

Derived events (``presence.zone_entered`` / ``zone_exited`` / ``dwell_reached`` / ``journey_ended`` /
``beacon_near``) are **appended to the event log inside this processor's transaction**, so the offers
processor (and any later consumer: analytics, the live dashboard) reads them like any other event, and
they commit atomically with the checkpoint and the projections. Their ids are a hash of what happened
(type, entity, zone, effective time), so re-deriving them — after a crash, on another worker — adds
nothing twice. Appends hold the log's append lock (PostgreSQL advisory lock; on SQLite the transaction
already holds the write lock), so ``seq`` order stays commit order.

Time is the log's: the tracker ticks on event time (``min(occurred_at, received_at)``, so a device clock
running ahead cannot expire everyone), and ``device.heartbeat`` events move it too, so exits and dwell
marks are decided during silence as long as some gateway of the tenant still reports.

Restart: the tracker state is not stored; it is **rebuilt** by replaying the tenant's sightings of the
last ``rebuild_window`` (default 30 min, more than the journey gap) with every output suppressed. The
same happens when another worker applied events of this tenant since this process last did.
"""

from __future__ import annotations

import hashlib
import time as monotonic
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from tradeoff.core.clock import Clock, SystemClock
from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import Event
from tradeoff.platform import tenancy
from tradeoff.platform.db.tables import events as events_table
from tradeoff.platform.eventlog import append_events, lock_appends, row_to_event
from tradeoff.presence.gateways.sighting import EVENT_TYPE as SIGHTING
from tradeoff.presence.gateways.sighting import Sighting
from tradeoff.presence.store import presence_visits, presence_zone_occupancy
from tradeoff.presence.tracking import (
    CombinedZones,
    FingerprintZones,
    JourneyEnded,
    LiveTracker,
    PathLossZones,
    PresenceEvent,
    Receiver,
    TrackerConfig,
    ZoneEntered,
    ZoneEstimator,
    distance_m,
)

HEARTBEAT = "device.heartbeat"
SOURCE = "presence"
TRANSPORT = "derived"
SUBJECT_PREFIX = "subject:"
TICK_S = 5.0
ESTIMATOR_TTL_S = 300.0
REPLAY_LIMIT = 200_000
REPLAY_PAGE = 2_000
ZONE_CHARS = 64  # the projections' zone column (gateway room names may be longer)
DEFAULT_MARKS = (30.0, 60.0, 120.0, 300.0, 600.0)
EstimatorSource = Callable[[Connection, str], ZoneEstimator]


@dataclass(frozen=True, slots=True)
class BeaconNear:
    """An opted-in shopper's phone came within ``near_m`` of a beacon (a product shelf, a display)."""

    entity: str
    beacon: str
    at: datetime
    distance_m: float
    type: str = "presence.beacon_near"

    def to_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "beacon": self.beacon, "at": self.at.isoformat(), "decided_at": _iso(self.at),
                "distance_m": round(self.distance_m, 2)}  # fmt: skip


Derived = PresenceEvent | BeaconNear
Output = tuple[Derived, bool]  # (what happened, whether a zone entry opened a journey: the store entry)


def floor_plan_zones(conn: Connection, tenant_id: str) -> ZoneEstimator:
    """Receivers placed with the store-setup tools (``presence.setup``: gateways by external id, beacons by
    identity key), plus any listed in ``sites.floor_plan["receivers"]`` as ``[{"key", "zone",
    "measured_power"?, "exponent"?, "radius_m"?}]``. With none at all, gateway rooms are the zones
    (ESPresense / room-assistant rooms).

    A site with an installed fingerprint model (``tradeoff presence install-model``, ``PUT
    /v1/sites/{site_id}/zone-model``) is scored by that model for the receivers it covers; path-loss keeps
    the receivers no model covers (``CombinedZones``)."""
    receivers: dict[str, Receiver] = {}
    for site in tenancy.list_sites(conn, tenant_id=tenant_id):
        receivers.update(_setup_receivers(conn, tenant_id, site.id))
        for item in site.floor_plan.get("receivers", []) or []:
            if isinstance(item, dict) and isinstance(item.get("key"), str) and isinstance(item.get("zone"), str):
                options = {k: float(item[k]) for k in ("measured_power", "exponent", "radius_m") if k in item}
                receivers[item["key"]] = Receiver(zone=item["zone"], **options)
    models = _installed_models(conn, tenant_id)
    path_loss = PathLossZones(receivers=receivers, rooms_as_zones=not receivers and not models)
    if not models:
        return path_loss
    return CombinedZones([models[site] for site in sorted(models)], fallback=path_loss)


def _setup_receivers(conn: Connection, tenant_id: str, site_id: str) -> dict[str, Receiver]:
    """The setup service's receivers; nothing while that module or its tables are not there yet."""
    try:
        from tradeoff.presence.setup.service import receivers
    except ImportError:
        return {}
    try:
        with conn.begin_nested():
            return receivers(conn, tenant_id=tenant_id, site_id=site_id)
    except DBAPIError:
        return {}


def _installed_models(conn: Connection, tenant_id: str) -> dict[str, FingerprintZones]:
    """The tenant's installed fingerprint models by site; none while that module or table is not there."""
    try:
        from tradeoff.presence.setup.zone_model import estimators
    except ImportError:
        return {}
    try:
        with conn.begin_nested():
            return estimators(conn, tenant_id=tenant_id)
    except DBAPIError:
        return {}


@dataclass
class _TenantState:
    live: LiveTracker
    loaded_at: float
    clock: float = 0.0
    last_tick: float = 0.0
    last_seq: int = 0
    near_last: dict[tuple[str, str], float] = field(default_factory=dict)


class PresenceProcessor:
    name = "presence"
    event_types: frozenset[str] | None = frozenset({SIGHTING, HEARTBEAT})
    emits = frozenset(  # appended to the log by ``apply``: the bus wakes their consumers after each run
        {"presence.zone_entered", "presence.zone_exited", "presence.dwell_reached", "presence.journey_ended",
         "presence.beacon_near"}
    )  # fmt: skip

    def __init__(
        self,
        *,
        estimators: EstimatorSource = floor_plan_zones,
        config: TrackerConfig | None = None,
        near_m: float = 1.5,
        near_repeat_s: float = 900.0,
        rebuild_window: timedelta = timedelta(minutes=30),
        clock: Clock | None = None,
    ) -> None:
        self.estimators = estimators
        self.config = config or TrackerConfig(dwell_marks_s=DEFAULT_MARKS)
        self.near_m = near_m
        self.near_repeat_s = near_repeat_s
        self.rebuild_window = rebuild_window
        self.clock = clock or SystemClock()
        self._tenants: dict[str, _TenantState] = {}

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        try:
            self._apply(conn, events)
        except Exception:
            # The transaction rolls back but the trackers already moved: forget them, rebuild from the log.
            self._tenants.clear()
            raise

    def _apply(self, conn: Connection, events: Sequence[Event]) -> None:
        by_tenant: dict[str, list[Event]] = {}
        for event in events:
            by_tenant.setdefault(event.tenant_id, []).append(event)
        derived: list[tuple[str, Output]] = []
        for tenant_id, batch in by_tenant.items():
            state = self._state(conn, tenant_id, batch[0].seq)
            for event in batch:
                derived.extend((tenant_id, out) for out in self._step(state, event))
            state.last_seq = batch[-1].seq
        if derived:
            self._emit(conn, derived)

    # -- tracking ------------------------------------------------------------------------------------------
    def _state(self, conn: Connection, tenant_id: str, first_seq: int) -> _TenantState:
        state = self._tenants.get(tenant_id)
        if state is None or self._missed(conn, tenant_id, state.last_seq, first_seq):
            return self._rebuild(conn, tenant_id, first_seq)
        if monotonic.monotonic() - state.loaded_at >= ESTIMATOR_TTL_S:  # receivers moved or added
            state.live.estimator = self.estimators(conn, tenant_id)
            state.loaded_at = monotonic.monotonic()
        return state

    def _missed(self, conn: Connection, tenant_id: str, after: int, before: int) -> bool:
        """Did another worker apply events of this tenant since this process did?"""
        query = select(
            exists().where(
                events_table.c.tenant_id == tenant_id,
                events_table.c.seq > after,
                events_table.c.seq < before,
                events_table.c.type.in_(sorted(self.event_types or ())),
            )
        )
        return bool(conn.execute(query).scalar())

    def _rebuild(self, conn: Connection, tenant_id: str, before_seq: int) -> _TenantState:
        """A fresh tracker fed the tenant's recent sightings, outputs discarded (they were emitted then)."""
        state = _TenantState(LiveTracker(self.estimators(conn, tenant_id), config=self.config), monotonic.monotonic())
        for event in self._recent(conn, tenant_id, before_seq):
            self._step(state, event)
        state.last_seq = before_seq - 1
        self._tenants[tenant_id] = state
        return state

    def _recent(self, conn: Connection, tenant_id: str, before_seq: int) -> list[Event]:
        """The tenant's events of ``rebuild_window`` before ``before_seq``, read backwards by page (an index
        range scan on (tenant_id, seq)), in log order."""
        wanted = sorted(self.event_types or ())
        found: list[Event] = []
        cutoff = None
        cursor = before_seq
        while len(found) < REPLAY_LIMIT:
            query = (
                select(events_table)
                .where(events_table.c.tenant_id == tenant_id, events_table.c.seq < cursor,
                       events_table.c.type.in_(wanted))
                .order_by(events_table.c.seq.desc())
                .limit(REPLAY_PAGE)
            )  # fmt: skip
            page = [row_to_event(row) for row in conn.execute(query)]
            for event in page:
                cutoff = cutoff or event.received_at - self.rebuild_window
                if event.received_at < cutoff:
                    return found[::-1]
                found.append(event)
            if len(page) < REPLAY_PAGE:
                break
            cursor = page[-1].seq
        return found[::-1]

    def _step(self, state: _TenantState, event: Event) -> list[Output]:
        t = min(event.occurred_at, event.received_at).timestamp()
        state.clock = max(state.clock, t)
        out: list[Output] = []
        if state.clock - state.last_tick >= TICK_S:
            out.extend((item, False) for item in state.live.tick(datetime.fromtimestamp(state.clock, UTC)))
            state.last_tick = state.clock
        if event.type != SIGHTING:
            return out
        try:
            sighting = Sighting.from_event(payload=event.payload, occurred_at=event.occurred_at, source=event.source)
        except InvalidInput:
            return out  # not a sighting we can place; the decoder's tests own its shape
        entity, _receiver = state.live.keys(sighting)
        before = state.live.zones.state(entity)
        open_journey = before is not None and (before.zone is not None or bool(before.visits))
        for item in state.live.observe(sighting):
            out.append((item, isinstance(item, ZoneEntered) and not open_journey))
            if isinstance(item, JourneyEnded):
                open_journey = False
            elif isinstance(item, ZoneEntered):
                open_journey = True
        near = self._near(state, sighting, entity)
        if near is not None:
            out.append((near, False))
        return out

    def _near(self, state: _TenantState, sighting: Sighting, entity: str) -> BeaconNear | None:
        if sighting.subject is None or sighting.identity.anonymous:
            return None
        beacon = sighting.identity.key
        level = state.live.bank.snapshot(entity, sighting.at).get(beacon)
        if level is None:
            return None
        distance = distance_m(level, float(sighting.measured_power or -59), 2.0)
        t = sighting.at.timestamp()
        last = state.near_last.get((entity, beacon))
        if distance > self.near_m or (last is not None and t - last < self.near_repeat_s):
            return None
        state.near_last[(entity, beacon)] = t
        return BeaconNear(entity, beacon, sighting.at, distance)

    # -- output --------------------------------------------------------------------------------------------
    def _emit(self, conn: Connection, derived: list[tuple[str, Output]]) -> None:
        now = self.clock.now()
        rows = [_row(tenant_id, item, start, now) for tenant_id, (item, start) in derived]
        unique = list({(row["tenant_id"], row["event_id"]): row for row in rows}.values())
        lock_appends(conn)
        added = append_events(conn, unique)
        fresh = [row for row in unique if (row["tenant_id"], row["event_id"]) in added]
        _project(conn, fresh, now)


def _iso(at: datetime) -> str:
    return at.isoformat()


def _occurred(item: Derived) -> datetime:
    return item.ended_at if isinstance(item, JourneyEnded) else item.at


def _row(tenant_id: str, item: Derived, journey_start: bool, now: datetime) -> dict[str, Any]:
    """The log row of a derived event. A shopper is named as the event names them elsewhere
    (``payload.subject`` = the pseudonym), so data-subject requests find these events too."""
    payload = item.to_json()
    entity = payload.pop("entity")
    if entity.startswith(SUBJECT_PREFIX):
        payload["subject"] = entity.removeprefix(SUBJECT_PREFIX)
    else:
        payload["entity"] = entity
    if isinstance(item, ZoneEntered):
        payload["journey_start"] = journey_start
    stable = {key: value for key, value in payload.items() if key != "decided_at"}
    digest = hashlib.sha256(orjson.dumps([item.type, stable], option=orjson.OPT_SORT_KEYS)).hexdigest()
    return {
        "tenant_id": tenant_id,
        "event_id": f"prs-{digest[:40]}",
        "type": item.type,
        "schema_version": 1,
        "source": SOURCE,
        "occurred_at": _occurred(item),
        "received_at": now,
        "transport": TRANSPORT,
        "payload": payload,
    }


def _project(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> None:
    """Occupancy deltas per zone and finished visits of shoppers, for the events just appended."""
    deltas: dict[tuple[str, str], int] = {}
    visits = []
    for row in rows:
        payload, type_ = row["payload"], row["type"]
        if type_ in ("presence.zone_entered", "presence.zone_exited"):
            key = (row["tenant_id"], str(payload["zone"])[:ZONE_CHARS])
            deltas[key] = deltas.get(key, 0) + (1 if type_ == "presence.zone_entered" else -1)
        if type_ == "presence.zone_exited" and "subject" in payload:
            visits.append(
                {
                    "tenant_id": row["tenant_id"],
                    "pseudonym": payload["subject"],
                    "zone": str(payload["zone"])[:ZONE_CHARS],
                    "entered_at": datetime.fromisoformat(payload["entered_at"]),
                    "exited_at": datetime.fromisoformat(payload["at"]),
                    "dwell_s": payload["dwell_s"],
                    "reason": payload["reason"],
                    "event_id": row["event_id"],
                }
            )
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    if deltas:
        occ = presence_zone_occupancy.c
        tenants = sorted({tenant for tenant, _ in deltas})
        current = {
            (row.tenant_id, row.zone): row.occupants
            for row in conn.execute(select(occ.tenant_id, occ.zone, occ.occupants).where(occ.tenant_id.in_(tenants)))
        }
        stmt = insert(presence_zone_occupancy)
        upsert = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "zone"],
            set_={"occupants": stmt.excluded.occupants, "updated_at": stmt.excluded.updated_at},
        )
        values = [
            {"tenant_id": t, "zone": z, "occupants": max(current.get((t, z), 0) + d, 0), "updated_at": now}
            for (t, z), d in deltas.items()
        ]
        conn.execute(upsert, values)
    if visits:
        conn.execute(insert(presence_visits).on_conflict_do_nothing(index_elements=["tenant_id", "event_id"]), visits)


def zone_occupancy(conn: Connection, *, tenant_id: str) -> dict[str, int]:
    """Current count per zone (anonymous)."""
    query = select(presence_zone_occupancy.c.zone, presence_zone_occupancy.c.occupants).where(
        presence_zone_occupancy.c.tenant_id == tenant_id
    )
    return {row.zone: row.occupants for row in conn.execute(query)}
