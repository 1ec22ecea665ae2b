"""The per-tenant privacy-loss budget: ε per ISO week (UTC), a ledger of spends, refusal when spent.

Default: ε = 1 per tenant per ISO week (``DEFAULT_EPSILON_PER_WEEK``), overridable per tenant in
``privacy_budget_config``. A week's budget is spent by releases made in that week; repeats of a release
already made that week are served from ``privacy_releases`` and cost nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from tradeoff.core.errors import InvalidInput, TradeoffError
from tradeoff.privacy.release.store import privacy_budget_config, privacy_budget_spend

DEFAULT_EPSILON_PER_WEEK = 1.0
_TOLERANCE = 1e-9  # float sums of spends (0.1 × 10 = 0.9999999999999999)


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    tenant_id: str
    period_start: date
    budget: float
    spent: float

    @property
    def remaining(self) -> float:
        return max(0.0, self.budget - self.spent)

    def allows(self, epsilon: float) -> bool:
        return self.spent + epsilon <= self.budget + _TOLERANCE


class BudgetExhausted(TradeoffError):
    """The tenant's ε for this week would be exceeded; nothing was released or spent."""

    code = "privacy_budget_exhausted"
    status = 429

    def __init__(self, status: BudgetStatus, *, requested: float, query_name: str) -> None:
        super().__init__(
            f"privacy budget exhausted: {query_name!r} needs ε={requested:g} but only {status.remaining:g} of "
            f"{status.budget:g} is left for the week starting {status.period_start.isoformat()}",
            details={
                "query_name": query_name,
                "requested_epsilon": requested,
                "budget": status.budget,
                "spent": status.spent,
                "period_start": status.period_start.isoformat(),
                "next_period_start": (status.period_start + timedelta(days=7)).isoformat(),
            },
        )
        self.budget_status = status
        self.requested = requested


def period_start(at: datetime) -> date:
    """Monday of ``at``'s ISO week, in UTC."""
    day = at.astimezone(UTC).date()
    return day - timedelta(days=day.isoweekday() - 1)


def check_epsilon(value: float, field: str = "epsilon") -> float:
    if not math.isfinite(value) or value <= 0:
        raise InvalidInput(field, "must be a positive, finite number")
    return float(value)


def weekly_budget(conn: Connection, tenant_id: str, *, default: float = DEFAULT_EPSILON_PER_WEEK) -> float:
    configured = conn.execute(
        select(privacy_budget_config.c.epsilon_per_week).where(privacy_budget_config.c.tenant_id == tenant_id)
    ).scalar()
    return float(configured) if configured is not None else default


def spent(conn: Connection, tenant_id: str, period: date) -> float:
    total = conn.execute(
        select(func.coalesce(func.sum(privacy_budget_spend.c.epsilon), 0.0)).where(
            privacy_budget_spend.c.tenant_id == tenant_id, privacy_budget_spend.c.period_start == period
        )
    ).scalar()
    return float(total or 0.0)


def status(
    conn: Connection, tenant_id: str, *, at: datetime, default: float = DEFAULT_EPSILON_PER_WEEK
) -> BudgetStatus:
    period = period_start(at)
    budget = weekly_budget(conn, tenant_id, default=default)
    return BudgetStatus(tenant_id, period, budget, spent(conn, tenant_id, period))


def set_weekly_budget(conn: Connection, *, tenant_id: str, epsilon_per_week: float, actor: str, at: datetime) -> None:
    """Configure a tenant's weekly ε (takes effect for the current week too)."""
    epsilon_per_week = check_epsilon(epsilon_per_week, "epsilon_per_week")
    values = {"epsilon_per_week": epsilon_per_week, "updated_at": at, "updated_by": actor}
    changed = conn.execute(
        update(privacy_budget_config).where(privacy_budget_config.c.tenant_id == tenant_id).values(**values)
    ).rowcount
    if not changed:
        conn.execute(insert(privacy_budget_config).values(tenant_id=tenant_id, **values))


def spend(
    conn: Connection,
    *,
    tenant_id: str,
    period: date,
    query_name: str,
    epsilon: float,
    delta: float,
    at: datetime,
    release_id: int | None,
) -> None:
    conn.execute(
        insert(privacy_budget_spend).values(
            tenant_id=tenant_id,
            period_start=period,
            query_name=query_name,
            epsilon=epsilon,
            delta=delta,
            spent_at=at,
            release_id=release_id,
        )
    )
