"""The background service that dispatches without a human: on a schedule, and when a machine calls.

Time is the CLOCK's (the platform pipeline's: a simulator may run it fast); only the polling cadence is
wall time. Per depot: a daily plan at ``hour`` depot-local time (before the shifts start) and a safety
replan every ``replan`` of clock time since the depot's last plan; with ``interval`` set, simply every
``interval``. Every ``poll`` seconds it asks ``calling_machines`` and replans the depots of machines that
started calling since it last looked (reason ``called``). The first poll after start sees every calling
machine as new: a restarted server catches up at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import Engine, select

from tradeoff.core.clock import Clock
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.vending import validate
from tradeoff.vending.dispatch import ForecastSource, calling_machines, run_dispatch
from tradeoff.vending.fleet import Depot, list_depots, list_machines
from tradeoff.vending.plan_store import StoredPlan
from tradeoff.vending.store import vending_machines

log = logging.getLogger(__name__)


def next_local_hour(after: datetime, hour: int, timezone: str) -> datetime:
    """The first ``hour``:00 in ``timezone`` strictly after ``after``, in UTC."""
    zone = validate.timezone(timezone)
    local = after.astimezone(zone)
    for days in (0, 1, 2):
        candidate = datetime.combine(local.date() + timedelta(days=days), clock_time(hour), tzinfo=zone)
        if candidate.astimezone(UTC) > after:
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable: two days on is always later")


class VendingDispatcher:
    """A thread that keeps every vending tenant's depots planned; ``start``/``stop``/``connected`` like a
    platform transport. ``check_schedule`` and ``check_calls`` are one step each (the thread's body; tests
    call them directly)."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        interval: timedelta | None = None,
        poll: float = 30.0,
        hour: int = 5,
        replan: timedelta = timedelta(hours=6),
        seconds: float = 5.0,
        tick: float = 1.0,
        forecasts: ForecastSource | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.interval = interval
        self.poll = poll
        self.hour = hour
        self.replan = replan
        self.seconds = seconds
        self.tick = min(tick, poll)
        self.forecasts = forecasts
        self._last: dict[tuple[str, str], datetime] = {}  # (tenant, depot) → clock time of its last plan
        self._handled: dict[str, set[str]] = {}  # tenant → calling machines already planned for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- service life cycle ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.connected:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vending-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop between steps; a plan being solved finishes first (bounded by its routing seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else 3 * self.seconds + 5)
            self._thread = None

    def _loop(self) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            try:
                self.check_schedule(self.clock.now())
                if time.monotonic() >= next_poll and not self._stop.is_set():
                    self.check_calls(self.clock.now())
                    next_poll = time.monotonic() + self.poll
            except Exception:  # keep dispatching: one tenant's bad data must not stop the others
                log.exception("vending dispatch step failed")
            self._stop.wait(self.tick)

    # -- the steps ---------------------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        """Tenants that have vending machines (read across tenants: the owner engine)."""
        with self.engine.connect() as conn:
            return sorted(row[0] for row in conn.execute(select(vending_machines.c.tenant_id).distinct()))

    def _depots(self, tenant_id: str) -> list[Depot]:
        with self.engine.connect() as conn, conn.begin():
            scope_to_tenant(conn, tenant_id)
            return list_depots(conn, tenant_id=tenant_id)

    def due_at(self, depot: Depot, last: datetime) -> datetime:
        if self.interval is not None:
            return last + self.interval
        return min(next_local_hour(last, self.hour, depot.timezone), last + self.replan)

    def check_schedule(self, now: datetime) -> list[StoredPlan]:
        """Plan every depot whose scheduled time has come (a depot seen for the first time starts its clock)."""
        made: list[StoredPlan] = []
        for tenant_id in self.tenants():
            planned = False
            for depot in self._depots(tenant_id):
                if self._stop.is_set():
                    return made
                last = self._last.setdefault((tenant_id, depot.id), now)
                if now >= self.due_at(depot, last):
                    made += self._dispatch(tenant_id, depot.id, now, "scheduled")
                    planned = True
            if planned:
                self._handled[tenant_id] = self._calling(tenant_id, now)
        return made

    def check_calls(self, now: datetime) -> list[StoredPlan]:
        """Replan the depots of machines that began calling since the last look."""
        made: list[StoredPlan] = []
        for tenant_id in self.tenants():
            calling = self._calling(tenant_id, now)
            new = calling - self._handled.get(tenant_id, set())
            if new:
                for depot_id in self._depots_of(tenant_id, new):
                    if self._stop.is_set():
                        return made
                    made += self._dispatch(tenant_id, depot_id, now, "called")
                calling = self._calling(tenant_id, now) | new  # those still unplanned do not call again
            self._handled[tenant_id] = calling
        return made

    def _calling(self, tenant_id: str, now: datetime) -> set[str]:
        with self.engine.connect() as conn, conn.begin():
            scope_to_tenant(conn, tenant_id)
            return set(calling_machines(conn, tenant_id=tenant_id, now=now))

    def _depots_of(self, tenant_id: str, machines: Iterable[str]) -> list[str]:
        wanted = set(machines)
        with self.engine.connect() as conn, conn.begin():
            scope_to_tenant(conn, tenant_id)
            found = {m.depot_id for m in list_machines(conn, tenant_id=tenant_id) if m.id in wanted}
        return sorted(d for d in found if d is not None)

    def _dispatch(self, tenant_id: str, depot_id: str, now: datetime, reason: str) -> list[StoredPlan]:
        self._last[(tenant_id, depot_id)] = now
        plans = run_dispatch(
            self.engine,
            tenant_id=tenant_id,
            now=now,
            reason=reason,
            seconds=self.seconds,
            depot_id=depot_id,
            forecasts=self.forecasts,
        )
        for stored in plans:
            stops = sum(len(t.stops) for t in stored.plan.trucks)
            log.info(
                "vending plan %s (%s) tenant=%s depot=%s trucks=%d stops=%d deferred=%d at %s",
                stored.id, reason, tenant_id, depot_id, len(stored.plan.trucks), stops,
                len(stored.plan.deferred), now.isoformat(),
            )  # fmt: skip
        return plans
