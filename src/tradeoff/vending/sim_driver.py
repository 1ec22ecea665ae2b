"""The simulated drivers: follow the dispatched plans, fill the machines at the stops' ETAs, close the plans.

``Drivers`` is pure logic over a ``PlanClient`` (``HttpPlanClient`` speaks the plan and fill API with an
admin key; tests pass a fake). Every ``poll`` of simulated time it reads the dispatched plans; a stop whose
ETA has come is served: the picks go into the physical machine (capped at capacity), the units actually
put in are posted as a fill dated at the visit, and a plan whose stops are all served is completed. A plan
that stops being dispatched (superseded) is dropped with whatever it had left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from tradeoff.core.clock import ensure_utc
from tradeoff.sim.base import iso

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stop:
    plan_id: str
    truck: int
    index: int
    machine_id: str
    eta: datetime
    picks: Mapping[str, int]  # selection -> units


@dataclass(frozen=True, slots=True)
class DispatchedPlan:
    plan_id: str
    stops: tuple[Stop, ...]


class PlanClient(Protocol):
    def dispatched(self) -> list[DispatchedPlan]: ...

    def post_fill(self, machine_id: str, units: Mapping[str, int], at: datetime) -> None: ...

    def complete(self, plan_id: str) -> None: ...


def parse_plan(body: Mapping[str, Any]) -> DispatchedPlan:
    """A plan as the plan API returns it: ``{"id", "plan": {"trucks": [{"stops": [...]}]}}`` (or trucks at the top)."""
    plan_id = str(body.get("id") or body.get("plan_id"))
    nested = body.get("plan")
    inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else body
    stops = []
    for t, truck in enumerate(inner.get("trucks") or []):
        for s, stop in enumerate(truck.get("stops") or []):
            picks = {str(p["selection"]): int(p["quantity"]) for p in stop.get("picks") or []}
            eta = ensure_utc(datetime.fromisoformat(str(stop["eta"]).replace("Z", "+00:00")))
            stops.append(Stop(plan_id, t, s, str(stop["machine_id"]), eta, picks))
    return DispatchedPlan(plan_id, tuple(stops))


class HttpPlanClient:
    """The plan API (``/v1/vending/plans``) and the fill API with one admin (or staff) key."""

    def __init__(self, base_url: str, *, api_key: str, timeout: float = 10.0) -> None:
        self.client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout)

    def dispatched(self) -> list[DispatchedPlan]:
        response = self.client.get("/v1/vending/plans", params={"status": "dispatched"})
        response.raise_for_status()
        body = response.json()
        items = body.get("plans", []) if isinstance(body, Mapping) else body
        plans = []
        for item in items:
            has_trucks = isinstance(item.get("plan"), Mapping) or "trucks" in item
            if not has_trucks:
                detail = self.client.get(f"/v1/vending/plans/{item['id']}")
                detail.raise_for_status()
                item = detail.json()
            plans.append(parse_plan(item))
        return plans

    def post_fill(self, machine_id: str, units: Mapping[str, int], at: datetime) -> None:
        lines = [{"selection": s, "units": n} for s, n in sorted(units.items())]
        response = self.client.post(
            f"/v1/vending/machines/{machine_id}/fills", json={"lines": lines, "filled_at": iso(at)}
        )
        response.raise_for_status()

    def complete(self, plan_id: str) -> None:
        self.client.post(f"/v1/vending/plans/{plan_id}/complete").raise_for_status()

    def close(self) -> None:
        self.client.close()


# (machine id, picks, at) -> (units put in per selection, when the visit really happened)
Filler = Callable[[str, Mapping[str, int], datetime], tuple[dict[str, int], datetime]]


@dataclass
class DriverStats:
    plans_seen: int = 0
    plans_completed: int = 0
    plans_dropped: int = 0
    stops_served: int = 0
    units_filled: int = 0
    errors: int = 0


@dataclass
class Drivers:
    client: PlanClient
    fill: Filler
    poll: timedelta = timedelta(minutes=20)
    next_poll: datetime | None = None
    stats: DriverStats = field(default_factory=DriverStats)
    _pending: dict[str, list[Stop]] = field(default_factory=dict)  # plan id -> stops not yet served
    _known: set[str] = field(default_factory=set)

    def due(self, now: datetime) -> list[Stop]:
        """Poll when it is time; then every pending stop whose ETA has come, in ETA order."""
        if self.next_poll is None or now >= self.next_poll:
            self.next_poll = now + self.poll
            self._refresh()
        stops = [stop for stops in self._pending.values() for stop in stops if stop.eta <= now]
        return sorted(stops, key=lambda s: (s.eta, s.plan_id, s.truck, s.index))

    def serve(self, stop: Stop, at: datetime) -> None:
        """Fill the machine, post the fill, complete the plan after its last stop."""
        pending = self._pending.get(stop.plan_id)
        if pending is None or stop not in pending:
            return
        pending.remove(stop)
        added, at = self.fill(stop.machine_id, stop.picks, at)
        self.stats.stops_served += 1
        self.stats.units_filled += sum(added.values())
        try:
            if added:
                self.client.post_fill(stop.machine_id, added, at)
            if not pending:
                del self._pending[stop.plan_id]
                self.client.complete(stop.plan_id)
                self.stats.plans_completed += 1
        except (httpx.HTTPError, OSError) as exc:
            self.stats.errors += 1
            log.warning("driver: plan %s stop %s failed: %s", stop.plan_id, stop.machine_id, exc)

    def _refresh(self) -> None:
        try:
            plans: Sequence[DispatchedPlan] = self.client.dispatched()
        except (httpx.HTTPError, OSError, KeyError, ValueError) as exc:
            self.stats.errors += 1
            log.warning("driver: cannot read the dispatched plans: %s", exc)
            return
        current = {plan.plan_id for plan in plans}
        for plan_id in [p for p in self._pending if p not in current]:
            del self._pending[plan_id]  # superseded or completed elsewhere
            self.stats.plans_dropped += 1
        for plan in plans:
            if plan.plan_id in self._known:
                continue
            self._known.add(plan.plan_id)
            self.stats.plans_seen += 1
            if plan.stops:
                self._pending[plan.plan_id] = list(plan.stops)
            else:
                self._complete_empty(plan.plan_id)

    def _complete_empty(self, plan_id: str) -> None:
        try:
            self.client.complete(plan_id)
            self.stats.plans_completed += 1
        except (httpx.HTTPError, OSError) as exc:
            self.stats.errors += 1
            log.warning("driver: cannot complete plan %s: %s", plan_id, exc)
