"""The same stream end to end through the platform as shipped, on a fresh SQLite file.

``build_platform`` + ``start()``: the ingest pipeline (decoders, privacy gate, one transaction per batch,
``synchronous=FULL``) and the bus processors in their threads (device state, presence, offers, …) with the
default poll interval. A feeder thread plays the transports: every ``tick_s`` it hands in what arrived in
that tick — the gateways' readings as one ESPresense message each, in one ``ingest_many`` transaction as
the MQTT transport batches them, and each app's beacons as one report (``report_events`` + ``json-batch``,
what ``POST /v1/me/presence`` does). Latency from a sighting to its coupon is the coupon's ``issued_at``
(the offers processor's clock inside its transaction) minus the scheduled arrival of the sighting that
confirmed the zone entry (its ``decided_at``, which is the app sighting's own time = its schedule).
"""

from __future__ import annotations

import gc
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from tradeoff.bench.offers_world import World, campaign_specs, espresense_payload, gateway_id, heard_beacon
from tradeoff.bench.stats import percentile
from tradeoff.offers import service as offers_service
from tradeoff.offers.campaigns import parse_spec
from tradeoff.offers.decision import SIGNAL_TYPES
from tradeoff.offers.store import offer_campaign_counters, offer_coupons, offer_decisions
from tradeoff.platform import tenancy
from tradeoff.platform.container import build_platform
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.db.tables import events, processor_checkpoints
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.settings import Settings
from tradeoff.presence.app_reports import APP_SOURCE, AppReport, report_events
from tradeoff.presence.processor import PresenceProcessor
from tradeoff.privacy.consent.ledger import consent_state, record_consent
from tradeoff.privacy.consent.model import ConsentState, Source, changes_for_tier
from tradeoff.privacy.subjects.service import register_subject

SIGHTING = "presence.sighting"
Progress = Callable[[str], None]


def _setup(engine: Engine, world: World, now: datetime) -> tuple[str, dict[int, tuple[str, ConsentState]]]:
    """Tenant, one site carrying the chain's receivers, app users registered at their tier, campaigns."""
    subjects: dict[int, tuple[str, ConsentState]] = {}
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="bench-chain", name="Bench Chain").id
        plan = {"width_m": 60, "height_m": 40, "zones": [], "receivers": world.receivers()}
        tenancy.create_site(conn, tenant_id=tenant, name="Chain", floor_plan=plan)
        for index, shopper in enumerate(world.shoppers):
            if shopper.tier is None:
                continue
            subject_id = register_subject(conn, tenant_id=tenant, at=now - timedelta(days=1)).subject.subject_id
            changes = changes_for_tier(shopper.tier)
            record_consent(conn, tenant_id=tenant, subject_id=subject_id, changes=changes, policy_version="bench",
                           source=Source.APP, gpc=False, at=now - timedelta(days=1))  # fmt: skip
            subjects[index] = (subject_id, consent_state(conn, tenant_id=tenant, subject_id=subject_id))
        for spec in campaign_specs(world, now=now):
            offers_service.create_campaign(conn, tenant_id=tenant, spec=parse_spec(spec), now=now)
    return tenant, subjects


def run_e2e(
    world: World, *, tick_s: float = 0.05, drain_timeout_s: float = 120.0, progress: Progress | None = None
) -> dict[str, Any]:
    say = progress or (lambda _line: None)
    with tempfile.TemporaryDirectory(prefix="tradeoff-bench-offers-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        setup_now = datetime.now(UTC)
        tenant, subjects = _setup(engine, world, setup_now)
        settings = Settings(database_url=url, var_dir=Path(tmp), keyring_path=Path(tmp) / "keys" / "keyring.json")
        platform = build_platform(settings)
        platform.start()
        thresholds = gc.get_threshold()
        gc.collect()
        gc.freeze()  # what ``tradeoff serve`` does after startup (``server._tune_collector``)
        gc.set_threshold(50_000, 20, 100)
        try:
            say(f"e2e: {len(world.arrivals):,} sightings at {world.rate:,.0f}/s into SQLite")
            feed = _feed(platform.pipeline, world, tenant, subjects, tick_s)
            caught_up = _wait_caught_up(engine, drain_timeout_s)
        finally:
            platform.close()
            gc.unfreeze()
            gc.set_threshold(*thresholds)
        result = _collect(engine, tenant, feed, caught_up)
        engine.dispose()
    return result


def _feed(
    pipeline: Any, world: World, tenant: str, subjects: dict[int, tuple[str, ConsentState]], tick_s: float
) -> dict[str, Any]:
    """Hand in each tick's arrivals when the tick ends (a transport's batching window, counted in latency)."""
    ticks: dict[int, list[int]] = defaultdict(list)
    for i, arrival in enumerate(world.arrivals):
        ticks[int(arrival.at_s / tick_s)].append(i)
    t0 = datetime.now(UTC)
    start = time.perf_counter()
    lags: list[float] = []
    accepted = 0
    for k in sorted(ticks):
        due = start + (k + 1) * tick_s
        if (wait := due - time.perf_counter()) > 0:
            time.sleep(wait)
        now = t0 + timedelta(seconds=time.perf_counter() - start)
        gateway_msgs: list[RawMessage] = []
        reports: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for i in ticks[k]:
            arrival = world.arrivals[i]
            if arrival.kind == "gateway":
                body = orjson.dumps(espresense_payload(world, arrival))
                gw = gateway_id(arrival.store, arrival.zone_index)
                gateway_msgs.append(
                    RawMessage(body=body, transport="mqtt", tenant_id=tenant, received_at=now, source=gw)
                )
            else:
                reports[arrival.shopper].append(heard_beacon(arrival, t0 + timedelta(seconds=arrival.at_s)))
        app_msgs = []
        for shopper, heard in reports.items():
            subject_id, state = subjects[shopper]
            report = AppReport.model_validate({"report_id": f"r{k}-{shopper}", "sightings": heard})
            envelopes = report_events(report, subject_id=subject_id, consent=state, now=now).events
            body = orjson.dumps({"events": envelopes})
            app_msgs.append(RawMessage(body=body, transport="http", tenant_id=tenant, received_at=now,
                                       source=APP_SOURCE, content_type="application/json"))  # fmt: skip
        for messages, decoder in ((gateway_msgs, "espresense"), (app_msgs, "json-batch")):
            if messages:
                for report in pipeline.ingest_many(messages, decoder=decoder):
                    accepted += 0 if report is None else report.count("accepted")
        lags.append(time.perf_counter() - due)
    return {"t0": t0, "start": start, "fed_s": time.perf_counter() - start, "accepted": accepted, "lags": lags}


def _wait_caught_up(engine: Engine, timeout_s: float) -> float:
    """Until the presence and offers processors have applied everything they take (derived events
    included): each one's stored checkpoint has passed the last event of its types. Not the log's top: a
    runner stores how far it skipped entries it does not take only now and then (``bus``), so an idle
    one's stored checkpoint may stay behind the top although nothing is left for it."""
    deadline = time.perf_counter() + timeout_s
    wanted = {"presence": PresenceProcessor.event_types or frozenset(), "offers": SIGNAL_TYPES}
    while time.perf_counter() < deadline:
        with engine.connect() as conn:
            marks = dict(
                conn.execute(select(processor_checkpoints.c.processor, processor_checkpoints.c.last_seq)).all()
            )
            last = {
                name: conn.execute(select(func.max(events.c.seq)).where(events.c.type.in_(sorted(types)))).scalar() or 0
                for name, types in wanted.items()
            }
        if all(marks.get(name, 0) >= seq for name, seq in last.items()):
            return time.perf_counter()
        time.sleep(0.05)
    raise TimeoutError(f"the processors did not catch up within {timeout_s:.0f} s")


def _collect(engine: Engine, tenant: str, feed: dict[str, Any], caught_up: float) -> dict[str, Any]:
    with engine.connect() as conn:
        by_type: dict[str, int] = dict(conn.execute(select(events.c.type, func.count()).group_by(events.c.type)).all())
        rows = conn.execute(
            select(offer_coupons.c.issued_at, events.c.payload)
            .select_from(offer_coupons.join(offer_decisions, offer_decisions.c.coupon_id == offer_coupons.c.id)
                         .join(events, (events.c.event_id == offer_decisions.c.trigger_event_id)
                               & (events.c.tenant_id == offer_decisions.c.tenant_id)))
        ).all()  # fmt: skip
        decisions = conn.execute(select(func.count()).select_from(offer_decisions)).scalar_one()
        skipped = sum(
            int(n) for s in conn.execute(select(offer_campaign_counters.c.skipped)).scalars() for n in s.values()
        )
        holdouts = conn.execute(select(func.count()).where(offer_decisions.c.outcome == "holdout")).scalar_one()
    latencies = [(issued - datetime.fromisoformat(p["decided_at"])).total_seconds() for issued, p in rows]
    sightings = int(by_type.get(SIGHTING, 0))
    presence = sum(int(n) for t, n in by_type.items() if t.startswith("presence.") and t != SIGHTING)
    elapsed = caught_up - feed["start"]
    lags = feed["lags"]
    return {
        "sightings_committed": sightings,
        "ingest_accepted": feed["accepted"],
        "presence_events": presence,
        "decisions": int(decisions) + int(skipped),
        "holdouts": int(holdouts),
        "coupons": len(rows),
        "fed_s": round(feed["fed_s"], 3),
        "caught_up_s": round(elapsed, 3),
        "sightings_per_s": round(sightings / elapsed, 1) if elapsed > 0 else 0.0,
        "ingest_lag_p99_ms": round(percentile(lags, 99) * 1000, 2) if lags else 0.0,
        "coupon_latency_ms": _pcts(latencies),
    }


def _pcts(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    return {
        name: round(percentile(values, q) * 1000, 2)
        for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
    }
