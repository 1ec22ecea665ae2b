"""What the tracker decides: zone entries, exits, dwell marks, finished visits and journeys.

Times are *effective* times: an entry is dated when the entity started to qualify (before the debounce
confirmed it), an exit when it stopped (its last good reading, or its last sighting on a timeout), so
visit durations are not skewed by the confirmation delays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ExitReason = Literal["left", "switched", "timeout"]


@dataclass(frozen=True, slots=True)
class ZoneEntered:
    entity: str
    zone: str
    at: datetime
    decided_at: datetime
    type: str = "presence.zone_entered"

    def to_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "zone": self.zone, "at": self.at.isoformat(), "decided_at": _iso(self)}


@dataclass(frozen=True, slots=True)
class ZoneExited:
    entity: str
    zone: str
    at: datetime
    decided_at: datetime
    entered_at: datetime
    reason: ExitReason
    type: str = "presence.zone_exited"

    @property
    def dwell_s(self) -> float:
        return (self.at - self.entered_at).total_seconds()

    @property
    def visit(self) -> Visit:
        return Visit(self.entity, self.zone, self.entered_at, self.at, self.reason)

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "zone": self.zone,
            "at": self.at.isoformat(),
            "decided_at": _iso(self),
            "entered_at": self.entered_at.isoformat(),
            "dwell_s": round(self.dwell_s, 3),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DwellReached:
    entity: str
    zone: str
    at: datetime  # entered_at + dwell_s
    decided_at: datetime
    dwell_s: float
    type: str = "presence.dwell_reached"

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "zone": self.zone,
            "at": self.at.isoformat(),
            "decided_at": _iso(self),
            "dwell_s": self.dwell_s,
        }


@dataclass(frozen=True, slots=True)
class Visit:
    """One stay in one zone, enter → exit."""

    entity: str
    zone: str
    entered_at: datetime
    exited_at: datetime
    reason: ExitReason

    @property
    def dwell_s(self) -> float:
        return (self.exited_at - self.entered_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "entered_at": self.entered_at.isoformat(),
            "exited_at": self.exited_at.isoformat(),
            "dwell_s": round(self.dwell_s, 3),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class JourneyEnded:
    """The zone sequence of one trip (closed after ``journey_gap_s`` outside every zone)."""

    entity: str
    started_at: datetime
    ended_at: datetime
    decided_at: datetime
    visits: tuple[Visit, ...]
    type: str = "presence.journey_ended"

    @property
    def zones(self) -> list[tuple[str, float]]:
        """``[(zone, dwell seconds), …]`` in order."""
        return [(visit.zone, visit.dwell_s) for visit in self.visits]

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "decided_at": _iso(self),
            "steps": [visit.to_json() for visit in self.visits],
        }


PresenceEvent = ZoneEntered | ZoneExited | DwellReached | JourneyEnded


def _iso(event: ZoneEntered | ZoneExited | DwellReached | JourneyEnded) -> str:
    return event.decided_at.isoformat()
