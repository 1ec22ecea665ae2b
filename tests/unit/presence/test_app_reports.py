"""The app's beacon report: consent tier ≥ 1 or nothing; beacons only; subject carried for the gate to
pseudonymize (daily at tier 1); items that cannot be sightings name their field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tests.unit.privacy.fakes import FakeConsent, MemoryKeys, state_with
from tradeoff.core.clock import FixedClock
from tradeoff.core.errors import InvalidInput
from tradeoff.platform.ingest.validation import validate_event
from tradeoff.presence.app_reports import AppReport, report_events
from tradeoff.privacy.consent import Purpose
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.subjects import Pseudonymizer

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
SUBJECT = "sub_123"


def report(*items: dict[str, Any]) -> AppReport:
    return AppReport.model_validate({"report_id": "r-42", "sightings": list(items)})


IBEACON = {
    "at": NOW.isoformat(),
    "rssi": -71,
    "kind": "ibeacon",
    "uuid": "426C7565436861726D426561636F6E73",
    "major": 3838,
    "minor": 4949,
}
FRAME = {"at": NOW.isoformat(), "rssi": -65, "frame": "0201060303aafe1716aafe00e3123456789012346789010000000000010000"}


def test_no_consent_drops_the_report() -> None:
    none = state_with("t1", SUBJECT, set(), at=NOW - timedelta(days=1))
    outcome = report_events(report(IBEACON), subject_id=SUBJECT, consent=none, now=NOW)
    assert outcome.events == [] and outcome.dropped == "no_consent"


def test_tier_one_gives_sightings_about_the_subject() -> None:
    tier1 = state_with("t1", SUBJECT, {Purpose.ANALYTICS}, at=NOW - timedelta(days=1))
    outcome = report_events(report(IBEACON, FRAME), subject_id=SUBJECT, consent=tier1, now=NOW)
    first, second = outcome.events
    assert first["type"] == "presence.sighting" and first["source"] == "app"
    assert first["payload"]["subject"] == SUBJECT
    assert first["payload"]["identity"] == {"kind": "ibeacon", "id": "426c7565-4368-6172-6d42-6561636f6e73/3838/4949"}
    assert second["payload"]["identity"] == {"kind": "eddystone", "id": "12345678901234678901/000000000001"}
    assert second["payload"]["measured_power"] == -29 - 41
    assert first["event_id"] != second["event_id"]


def test_gate_pseudonymizes_daily_at_tier_one() -> None:
    consent = FakeConsent()
    consent.states[("t1", SUBJECT)] = state_with("t1", SUBJECT, {Purpose.ANALYTICS}, at=NOW - timedelta(days=1))
    gate = PrivacyGate(consent=consent, pseudonyms=Pseudonymizer(MemoryKeys()), clock=FixedClock(NOW))
    [envelope] = report_events(
        report(IBEACON), subject_id=SUBJECT, consent=consent.states[("t1", SUBJECT)], now=NOW
    ).events
    stored = gate.check(tenant_id="t1", event=validate_event(envelope, bound_source="app"))
    assert stored is not None
    assert str(stored.payload["subject"]).startswith("pd_")  # the daily pseudonym
    assert stored.event_id != envelope["event_id"]  # re-keyed: the app's report id does not survive


@pytest.mark.parametrize(
    "item",
    [
        {"at": NOW.isoformat(), "rssi": -70},  # neither kind nor frame
        {**IBEACON, "frame": FRAME["frame"]},  # both
        {**IBEACON, "kind": "device"},  # other phones may not be reported
        {**IBEACON, "rssi": 50},
        {**IBEACON, "at": "2026-11-29T12:00:00"},  # no zone
        {**IBEACON, "mac": "aa:bb:cc:dd:ee:ff"},  # unknown field
    ],
)
def test_model_rejects(item: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        report(item)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({**IBEACON, "uuid": "nope"}, "sightings[0].uuid"),
        ({**IBEACON, "minor": None}, "sightings[0].uuid"),
        ({**FRAME, "frame": "0201060303aafe1116aafe20000b1813000000146700002ac4"}, "sightings[0].frame"),  # TLM only
        ({**FRAME, "frame": "4c000215fda50693a4e24fb1afcfc6eb07647825000100021a"}, "sightings[0].measured_power"),
        ({**IBEACON, "at": (NOW + timedelta(hours=1)).isoformat()}, "sightings[0].at"),
        ({**IBEACON, "at": (NOW - timedelta(days=3)).isoformat()}, "sightings[0].at"),
    ],
)
def test_items_that_cannot_be_sightings_name_their_field(item: dict[str, Any], field: str) -> None:
    tier1 = state_with("t1", SUBJECT, {Purpose.ANALYTICS}, at=NOW - timedelta(days=1))
    with pytest.raises(InvalidInput) as caught:
        report_events(report(item), subject_id=SUBJECT, consent=tier1, now=NOW)
    assert caught.value.field == field
