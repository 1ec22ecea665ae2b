"""The shopper app's beacon report (HTTP) → ``presence.sighting`` events about its own subject.

The app is authenticated by its subject's app token (``authenticate_app_token``; the route is the
lead's). Only store beacons may be reported — an app that reported the other phones it heard would be
collecting other people's data — so every item names an iBeacon, AltBeacon or Eddystone UID, directly or
as the raw advertisement it received. Consent: analytics (tier ≥ 1) must be in force, else the whole
report is dropped here; the privacy gate checks again and swaps the subject for its pseudonym (daily at
tier 1, stable at tier 2+) and re-keys the event ids, so nothing the app chose survives as a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.ble import FrameError, decode_advertisement
from tradeoff.presence.gateways.events import envelope
from tradeoff.presence.gateways.sighting import (
    Identity,
    Sighting,
    altbeacon,
    eddystone,
    ibeacon,
    identity_of_frame,
    one_metre_power,
)
from tradeoff.privacy.consent.model import ConsentState, Purpose

APP_SOURCE = "app"
DIALECT = "app"
MAX_ITEMS = 200
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=2)  # an app offline longer than this has nothing useful left for presence
ReportId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class HeardBeacon(BaseModel):
    """One beacon the phone heard: its ids (``kind`` + fields), or ``frame``, the advertisement in hex."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    rssi: float = Field(ge=-130, le=20)
    kind: Literal["ibeacon", "altbeacon", "eddystone"] | None = None
    uuid: str | None = Field(default=None, max_length=40, description="iBeacon/AltBeacon id1, dashes optional")
    major: int | None = Field(default=None, ge=0, le=0xFFFF)
    minor: int | None = Field(default=None, ge=0, le=0xFFFF)
    namespace: str | None = Field(default=None, max_length=22)
    instance: str | None = Field(default=None, max_length=14)
    frame: str | None = Field(default=None, max_length=130, description="raw advertising payload, hex")
    measured_power: int | None = Field(default=None, ge=-127, le=-1, description="dBm at 1 m")
    distance_m: float | None = Field(default=None, ge=0, le=1000, description="the OS's estimate")

    @model_validator(mode="after")
    def _one_identity(self) -> HeardBeacon:
        if (self.kind is None) == (self.frame is None):
            raise ValueError("give either kind (with its ids) or frame")
        return self

    def identity(self) -> tuple[Identity, int | None]:
        """The beacon and its 1 m power (``InvalidInput`` naming the bad field)."""
        if self.frame is not None:
            frame = decode_advertisement(self.frame)
            named = identity_of_frame(frame)
            if named is None:
                raise FrameError("frame", "a telemetry frame names no beacon")
            return named, self.measured_power if self.measured_power is not None else one_metre_power(frame)
        if self.kind == "eddystone":
            return eddystone(self.namespace or "", self.instance or ""), self.measured_power
        if self.uuid is None or self.major is None or self.minor is None:
            raise InvalidInput("uuid", f"{self.kind} needs uuid, major and minor")
        make = ibeacon if self.kind == "ibeacon" else altbeacon
        return make(self.uuid, self.major, self.minor), self.measured_power


class AppReport(BaseModel):
    """``POST`` body: ``report_id`` is the app's idempotency key for this batch (a resend is a duplicate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: ReportId
    sightings: list[HeardBeacon] = Field(min_length=1, max_length=MAX_ITEMS)


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    events: list[dict[str, Any]]  # envelopes for the ingest pipeline (source ``app``)
    dropped: str | None = None  # why nothing was produced ("no_consent")


def report_events(report: AppReport, *, subject_id: str, consent: ConsentState, now: datetime) -> ReportOutcome:
    """Pure: the report as ``presence.sighting`` envelopes naming ``subject_id``, or nothing without
    analytics consent. ``InvalidInput`` (field ``sightings[i]…``) for an item that cannot be a sighting."""
    if not consent.allows(Purpose.ANALYTICS, now):
        return ReportOutcome(events=[], dropped="no_consent")
    events: list[dict[str, Any]] = []
    for index, heard in enumerate(report.sightings):
        where = f"sightings[{index}]"
        if heard.at > now + MAX_CLOCK_SKEW:
            raise InvalidInput(f"{where}.at", "is in the future")
        if heard.at < now - MAX_AGE:
            raise InvalidInput(f"{where}.at", f"is older than {MAX_AGE.days} days")
        try:
            identity, power = heard.identity()
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.{exc.field}", exc.reason) from None
        sighting = Sighting(
            dialect=DIALECT,
            gateway=APP_SOURCE,
            identity=identity,
            at=heard.at,
            rssi=heard.rssi,
            measured_power=power,
            distance_m=heard.distance_m,
            subject=subject_id,
        )
        events.append(envelope(sighting, event_id=f"app-{report.report_id}-{index}", source=APP_SOURCE))
    return ReportOutcome(events=events)
