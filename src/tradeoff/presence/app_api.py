"""``POST /v1/me/presence``: the shopper's app reports the store beacons it heard (app token auth).

Consent is checked here first (without analytics consent nothing reaches the pipeline: the answer says
``dropped`` with ``reason: no_consent``), then the report's sightings go through the ingest pipeline as
a json-batch from source ``app``, where the privacy gate checks consent again and swaps the subject for
its pseudonym before anything is stored. A resent report (same ``report_id``) is acknowledged as
duplicates and stored once.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter

from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.presence.app_reports import APP_SOURCE, AppReport, report_events
from tradeoff.privacy.consent import consent_state
from tradeoff.privacy.me_api import Me

router = APIRouter(prefix="/v1/me", tags=["me (shopper app)"])


@router.post("/presence", summary="Beacons the app heard in a store (about its own subject)")
def post_presence(platform: PlatformDep, me: Me, body: AppReport) -> dict[str, Any]:
    """``{"received", "accepted", "duplicates", "dropped", "rejected", "reason", "results"}``: counts of
    sightings; ``reason`` says why sightings were dropped (``no_consent``), ``results`` are per sighting."""
    now = platform.pipeline.clock.now()
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, me.tenant_id)
        state = consent_state(conn, tenant_id=me.tenant_id, subject_id=me.subject_id)
    outcome = report_events(body, subject_id=me.subject_id, consent=state, now=now)
    received = len(body.sightings)
    if outcome.dropped is not None:
        return {
            "received": received, "accepted": 0, "duplicates": 0, "dropped": received, "rejected": 0,
            "reason": outcome.dropped, "results": [],
        }  # fmt: skip
    message = RawMessage(
        body=orjson.dumps({"events": outcome.events}),
        transport="http",
        tenant_id=me.tenant_id,
        received_at=now,
        source=APP_SOURCE,
        content_type="application/json",
    )
    report = platform.pipeline.ingest(message, decoder="json-batch").to_json()
    reason = next((item.get("reason") for item in report["results"] if item["status"] == "dropped"), None)
    return {"received": received, **report, "reason": reason}
