"""The presence processor on a real (SQLite) log: sightings → derived presence events appended to the log,
zone occupancy and visits; a restart rebuilds the tracker without emitting anything twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

import tradeoff.presence.processor as presence_processor
from tradeoff.platform import tenancy
from tradeoff.platform.bus import ProcessorRunner
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.db.tables import events
from tradeoff.platform.eventlog import append_events, append_transaction
from tradeoff.presence.processor import PresenceProcessor, zone_occupancy
from tradeoff.presence.store import presence_visits

T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)
UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
DAIRY, WINE = f"ibeacon:{UUID}/1/1", f"ibeacon:{UUID}/1/2"
SHOPPER = "ps_" + "a" * 26


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'presence.db'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


class Store:
    def __init__(self, engine: Engine, *, receivers: bool = True) -> None:
        self.engine = engine
        plan: dict[str, Any] = {"width_m": 20, "height_m": 10, "zones": []}
        if receivers:
            plan["receivers"] = [{"key": DAIRY, "zone": "dairy"}, {"key": WINE, "zone": "wine"}]
        with engine.begin() as conn:
            self.tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
            tenancy.create_site(conn, tenant_id=self.tenant, name="Main", floor_plan=plan)
        self.n = 0

    def append(self, type_: str, at: datetime, payload: dict[str, Any], source: str = "app") -> None:
        self.n += 1
        row = {"tenant_id": self.tenant, "event_id": f"e{self.n}", "type": type_, "schema_version": 1,
               "source": source, "occurred_at": at, "received_at": at, "transport": "test",
               "payload": payload}  # fmt: skip
        with append_transaction(self.engine) as conn:
            append_events(conn, [row])

    def heard(self, beacon: str, seconds: range, rssi: float = -50.0, subject: str = SHOPPER) -> None:
        kind, ident = beacon.split(":", 1)
        for s in seconds:
            payload = {"dialect": "app", "gateway": "app", "identity": {"kind": kind, "id": ident}, "rssi": rssi,
                       "measured_power": -59, "subject": subject}  # fmt: skip
            self.append("presence.sighting", T0 + timedelta(seconds=s), payload)

    def heartbeat(self, seconds: float) -> None:
        self.append("device.heartbeat", T0 + timedelta(seconds=seconds), {"uptime_s": 1}, source="gw-1")

    def derived(self) -> list[tuple[str, dict[str, Any]]]:
        with self.engine.connect() as conn:
            query = select(events.c.type, events.c.payload).where(events.c.source == "presence").order_by(events.c.seq)
            return [(row.type, row.payload) for row in conn.execute(query)]


def drain(engine: Engine, processor: PresenceProcessor) -> None:
    runner = ProcessorRunner(engine, processor)
    while runner.run_once():
        pass


def types(derived: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [t.removeprefix("presence.") for t, _ in derived]


def test_a_visit_becomes_events_occupancy_and_a_visit_row(engine: Engine) -> None:
    store = Store(engine)
    processor = PresenceProcessor()
    store.heard(DAIRY, range(70))
    drain(engine, processor)
    got = store.derived()
    assert types(got) == ["beacon_near", "zone_entered", "dwell_reached", "dwell_reached"]
    entered = got[1][1]
    assert entered["subject"] == SHOPPER and entered["zone"] == "dairy" and entered["journey_start"] is True
    assert "entity" not in entered
    with engine.connect() as conn:
        assert zone_occupancy(conn, tenant_id=store.tenant) == {"dairy": 1}
    for s in range(80, 2000, 10):  # silence from the shopper; a gateway keeps the clock moving
        store.heartbeat(s)
    drain(engine, processor)
    assert types(store.derived())[4:] == ["zone_exited", "journey_ended"]
    with engine.connect() as conn:
        assert zone_occupancy(conn, tenant_id=store.tenant) == {"dairy": 0}
        visit = conn.execute(select(presence_visits)).one()
    assert visit.pseudonym == SHOPPER and visit.zone == "dairy" and visit.reason == "timeout"


def test_a_second_zone_is_a_switch_not_a_new_journey(engine: Engine) -> None:
    store = Store(engine)
    store.heard(DAIRY, range(40))
    store.heard(WINE, range(40, 100), rssi=-45)
    drain(engine, PresenceProcessor())
    entries = [p for t, p in store.derived() if t == "presence.zone_entered"]
    assert [(p["zone"], p["journey_start"]) for p in entries] == [("dairy", True), ("wine", False)]


def test_a_restart_rebuilds_the_tracker_and_emits_nothing_twice(engine: Engine) -> None:
    store = Store(engine)
    store.heard(DAIRY, range(40))
    drain(engine, PresenceProcessor())
    before = store.derived()
    store.heard(DAIRY, range(40, 130))
    drain(engine, PresenceProcessor())  # a new process: empty memory, rebuilt from the log
    after = store.derived()
    assert after[: len(before)] == before
    assert types(after).count("zone_entered") == 1, "the rebuilt tracker knew the shopper was inside"
    assert types(after).count("beacon_near") == 1
    assert [p["dwell_s"] for t, p in after if t == "presence.dwell_reached"] == [30.0, 60.0, 120.0]
    with engine.connect() as conn:
        assert zone_occupancy(conn, tenant_id=store.tenant) == {"dairy": 1}


def test_another_worker_in_between_makes_this_one_rebuild(engine: Engine) -> None:
    store = Store(engine)
    mine, theirs = PresenceProcessor(), PresenceProcessor()
    store.heard(DAIRY, range(10))
    drain(engine, mine)
    store.heard(DAIRY, range(10, 40))
    drain(engine, theirs)
    store.heard(DAIRY, range(40, 70))
    drain(engine, mine)
    assert types(store.derived()).count("zone_entered") == 1
    assert [p["dwell_s"] for t, p in store.derived() if t == "presence.dwell_reached"] == [30.0, 60.0]


def test_anonymous_gateway_entities_count_but_name_no_subject(engine: Engine) -> None:
    store = Store(engine, receivers=False)  # ESPresense rooms are the zones
    for s in range(20):
        payload = {"dialect": "espresense", "gateway": "gw-1", "room": "entrance", "rssi": -50,
                   "identity": {"kind": "device", "device_mac": "tokd_mac_x", "device_class": "mac"}}  # fmt: skip
        store.append("presence.sighting", T0 + timedelta(seconds=s), payload, source="gw-1")
    drain(engine, PresenceProcessor())
    got = store.derived()
    assert types(got) == ["zone_entered"]
    assert got[0][1]["entity"] == "device:tokd_mac_x" and "subject" not in got[0][1]
    with engine.connect() as conn:
        assert zone_occupancy(conn, tenant_id=store.tenant) == {"entrance": 1}
        assert conn.execute(select(presence_visits)).all() == []


def test_a_failed_batch_leaves_no_half_moved_tracker(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(engine)
    processor = PresenceProcessor()
    store.heard(DAIRY, range(20))
    real = presence_processor._project
    calls = {"n": 0}

    def flaky(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        real(*args)

    monkeypatch.setattr(presence_processor, "_project", flaky)
    drain(engine, processor)  # the batch fails once, then the bus retries event by event
    assert types(store.derived()) == ["beacon_near", "zone_entered"]
    with engine.connect() as conn:
        assert zone_occupancy(conn, tenant_id=store.tenant) == {"dairy": 1}
