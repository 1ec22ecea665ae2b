"""Zone state machine per tracked entity: hysteresis, debounce, minimum stay and exit timeouts.

The complaints this answers (research §f): rooms flapping at a boundary, late exits, ghost presence.
- **Hysteresis**: enter a zone at score ≥ ``enter_score``; stay while ≥ ``exit_score`` (lower).
- **Debounce**: a zone must qualify for ``enter_confirm_s`` before it is entered; another zone must beat
  the current one by ``switch_margin`` for ``switch_confirm_s`` before a switch.
- **Minimum stay** (stickiness): no switch or exit within ``min_stay_s`` of an entry, so whatever the
  noise, zone changes are at least ``min_stay_s`` apart.
- **Exit confirmation**: below ``exit_score`` for ``exit_confirm_s`` → exit, dated when it fell below.
- **Exit timeout**: no sighting at all for ``exit_timeout_s`` → exit dated at the last sighting (``tick``
  must be called periodically: silence produces no observations).
Entries and exits are back-dated to when the condition began, so delays cost latency, not accuracy.
Pure and deterministic: time is passed in; one zone per entity at a time (zones are rooms/areas).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tradeoff.presence.tracking.events import (
    DwellReached,
    ExitReason,
    JourneyEnded,
    PresenceEvent,
    Visit,
    ZoneEntered,
    ZoneExited,
)
from tradeoff.presence.tracking.zones import best_zone


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    enter_score: float = 0.6
    exit_score: float = 0.35
    switch_margin: float = 0.2
    enter_confirm_s: float = 4.0
    switch_confirm_s: float = 8.0
    exit_confirm_s: float = 10.0
    min_stay_s: float = 30.0
    exit_timeout_s: float = 30.0
    dwell_marks_s: tuple[float, ...] = (30.0, 120.0, 600.0)  # engaged/visitor marks (Tapway: 2 / 10 min)
    journey_gap_s: float = 900.0  # Cloud4Wi's default session timeout: 15 min

    def __post_init__(self) -> None:
        if not 0 <= self.exit_score <= self.enter_score <= 1:
            raise ValueError("need 0 <= exit_score <= enter_score <= 1 (hysteresis)")
        if (
            min(self.enter_confirm_s, self.switch_confirm_s, self.exit_confirm_s, self.min_stay_s) < 0
            or self.exit_timeout_s <= 0
        ):
            raise ValueError("durations must be >= 0 and exit_timeout_s > 0")
        if list(self.dwell_marks_s) != sorted(self.dwell_marks_s):
            raise ValueError("dwell_marks_s must be ascending")


@dataclass(slots=True)
class EntityState:
    zone: str | None = None
    entered_at: float = 0.0  # effective entry (back-dated)
    confirmed_at: float = 0.0  # when the entry was decided (minimum stay counts from here)
    candidate: str | None = None
    candidate_since: float = 0.0
    below_since: float | None = None
    last_seen: float | None = None
    marks_done: int = 0
    visits: list[Visit] = field(default_factory=list)  # the open journey
    journey_last: float | None = None  # last exit of the open journey


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class ZoneTracker:
    """Feed ``observe(entity, at, scores)`` in time order per entity and call ``tick(now)`` periodically."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._states: dict[str, EntityState] = {}
        self.late_observations = 0

    def state(self, entity: str) -> EntityState | None:
        return self._states.get(entity)

    def zone_of(self, entity: str) -> str | None:
        state = self._states.get(entity)
        return None if state is None else state.zone

    def observe(self, entity: str, at: datetime, scores: dict[str, float]) -> list[PresenceEvent]:
        t = at.timestamp()
        state = self._states.setdefault(entity, EntityState())
        if state.last_seen is not None and t < state.last_seen:
            self.late_observations += 1  # out of order: the decision for that moment has been made
            return []
        out = self._expire(entity, state, t)
        state.last_seen = t
        if state.zone is None:
            self._idle(entity, state, t, scores, out)
        else:
            self._inside(entity, state, t, scores, out)
        self._dwell(entity, state, t, t, out)
        return out

    def tick(self, now: datetime) -> list[PresenceEvent]:
        """Timeouts, dwell marks and journey ends that silence decides."""
        t = now.timestamp()
        out: list[PresenceEvent] = []
        for entity in sorted(self._states):
            state = self._states[entity]
            out.extend(self._expire(entity, state, t))
            if state.zone is not None and state.last_seen is not None:
                self._dwell(entity, state, state.last_seen, t, out)
        self._states = {key: s for key, s in self._states.items() if s.zone is not None or s.visits or _recent(s, t)}
        return out

    # -- transitions ---------------------------------------------------------------------------------------
    def _idle(
        self, entity: str, state: EntityState, t: float, scores: dict[str, float], out: list[PresenceEvent]
    ) -> None:
        zone, score = best_zone(scores)
        if zone is None or score < self.config.enter_score:
            state.candidate = None
            return
        if state.candidate != zone:
            state.candidate, state.candidate_since = zone, t
        if t - state.candidate_since >= self.config.enter_confirm_s:
            self._enter(entity, state, zone, state.candidate_since, t, out)

    def _inside(
        self, entity: str, state: EntityState, t: float, scores: dict[str, float], out: list[PresenceEvent]
    ) -> None:
        config = self.config
        assert state.zone is not None
        current = scores.get(state.zone, 0.0)
        if current >= config.exit_score:
            state.below_since = None
        elif state.below_since is None:
            state.below_since = t
        rival, rival_score = best_zone({zone: s for zone, s in scores.items() if zone != state.zone})
        if rival is not None and rival_score >= config.enter_score and rival_score >= current + config.switch_margin:
            if state.candidate != rival:
                state.candidate, state.candidate_since = rival, t
        else:
            state.candidate = None
        settled = t - state.confirmed_at >= config.min_stay_s
        if not settled:
            return
        if state.candidate is not None and t - state.candidate_since >= config.switch_confirm_s:
            since = max(state.candidate_since, state.entered_at)
            self._exit(entity, state, since, t, "switched", out)
            self._enter(entity, state, state.candidate, since, t, out)
        elif state.below_since is not None and t - state.below_since >= config.exit_confirm_s:
            self._exit(entity, state, max(state.below_since, state.entered_at), t, "left", out)

    def _expire(self, entity: str, state: EntityState, t: float) -> list[PresenceEvent]:
        out: list[PresenceEvent] = []
        last = state.last_seen
        if state.zone is not None and last is not None and t - last > self.config.exit_timeout_s:
            self._dwell(entity, state, last, t, out)
            gone = last if state.below_since is None else min(last, state.below_since)
            self._exit(entity, state, max(gone, state.entered_at), t, "timeout", out)
        if (
            state.zone is None
            and state.candidate is not None
            and last is not None
            and t - last > self.config.exit_timeout_s
        ):
            state.candidate = None
        gap = None if state.journey_last is None else t - state.journey_last
        if state.zone is None and state.visits and gap is not None and gap >= self.config.journey_gap_s:
            visits = tuple(state.visits)
            out.append(JourneyEnded(entity, visits[0].entered_at, visits[-1].exited_at, _dt(t), visits))
            state.visits, state.journey_last = [], None
        return out

    def _enter(
        self, entity: str, state: EntityState, zone: str, since: float, t: float, out: list[PresenceEvent]
    ) -> None:
        state.zone, state.entered_at, state.confirmed_at = zone, since, t
        state.candidate, state.below_since, state.marks_done = None, None, 0
        out.append(ZoneEntered(entity, zone, _dt(since), _dt(t)))

    def _exit(
        self, entity: str, state: EntityState, at: float, t: float, reason: ExitReason, out: list[PresenceEvent]
    ) -> None:
        assert state.zone is not None
        event = ZoneExited(entity, state.zone, _dt(at), _dt(t), _dt(state.entered_at), reason)
        out.append(event)
        state.visits.append(event.visit)
        state.zone, state.below_since, state.journey_last = None, None, at
        if reason != "switched":
            state.candidate = None

    def _dwell(self, entity: str, state: EntityState, until: float, t: float, out: list[PresenceEvent]) -> None:
        """Dwell marks reached by ``until``, never past a moment a pending exit or switch would be dated at."""
        if state.zone is None:
            return
        end = until if state.below_since is None else min(until, state.below_since)
        if state.candidate is not None:  # a pending switch would end this stay when the rival started
            end = min(end, state.candidate_since)
        marks = self.config.dwell_marks_s
        while state.marks_done < len(marks) and end - state.entered_at >= marks[state.marks_done]:
            mark = marks[state.marks_done]
            out.append(DwellReached(entity, state.zone, _dt(state.entered_at + mark), _dt(t), mark))
            state.marks_done += 1


def _recent(state: EntityState, t: float) -> bool:
    return state.last_seen is not None and t - state.last_seen < 3600
