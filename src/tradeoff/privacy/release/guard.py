"""``ReleaseGuard``: the only way merchant-facing numbers leave the system.

Every release: contributions bounded per subject → aggregated → (budget approved) → OpenDP Laplace noise →
suppressed below the k floors → ledger + stored result (+ audit entry) in one transaction. A repeat of the
same query in the same ISO week returns the stored numbers and spends nothing, so averaging repeated
pulls learns nothing new. Rows are consumed outside any transaction; noise is drawn only after the
budget is approved, under a per-tenant lock, and never returned unless committed.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import orjson
from sqlalchemy import Connection, Engine, insert, select, text

from tradeoff.core.clock import Clock, SystemClock, ensure_utc
from tradeoff.core.errors import InvalidInput
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.settings import Settings
from tradeoff.privacy.audit.chain import Action
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.release import budget
from tradeoff.privacy.release.budget import DEFAULT_EPSILON_PER_WEEK, BudgetExhausted, BudgetStatus
from tradeoff.privacy.release.mechanisms import (
    Aggregates,
    CellRelease,
    GroupKey,
    Statistic,
    aggregate_counts,
    aggregate_sums,
    release_counts,
    release_sums,
)
from tradeoff.privacy.release.result import Release, key_json, normal_key
from tradeoff.privacy.release.store import privacy_releases
from tradeoff.privacy.release.unicity import DEFAULT_MAX_UNICITY, DEFAULT_POINTS, ExportRefused, Point, UnicityReport
from tradeoff.privacy.release.unicity import check_row_export as _check_row_export

_LOCK_CLASS = 0x72656C73  # "rels"
DEFAULT_MIN_GROUP_SIZE = 10
DEFAULT_DELTA = 1e-6


@dataclass(frozen=True, slots=True)
class ReleaseConfig:
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE  # k: no cell from fewer distinct subjects
    epsilon_per_week: float = DEFAULT_EPSILON_PER_WEEK  # default per-tenant budget (privacy_budget_config overrides)
    delta: float = DEFAULT_DELTA  # per query, only when the group keys are not public (thresholding)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReleaseConfig:
        """``TRADEOFF_RELEASE_MIN_GROUP_SIZE``, ``…_EPSILON_PER_WEEK``, ``…_DELTA`` when the settings
        declare them; the documented defaults otherwise."""
        return cls(
            min_group_size=int(getattr(settings, "release_min_group_size", DEFAULT_MIN_GROUP_SIZE)),
            epsilon_per_week=float(getattr(settings, "release_epsilon_per_week", DEFAULT_EPSILON_PER_WEEK)),
            delta=float(getattr(settings, "release_delta", DEFAULT_DELTA)),
        )


def _tenant_lock_id(tenant_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(tenant_id.encode(), digest_size=4).digest(), "big", signed=True)


@dataclass(frozen=True, slots=True)
class _Query:
    tenant_id: str
    query_name: str
    statistic: Statistic
    epsilon: float
    max_contributions: int
    bounds: tuple[int, int] | None
    groups: tuple[GroupKey, ...] | None
    actor: str

    def fingerprint(self, config: ReleaseConfig) -> str:
        document = {
            "statistic": self.statistic.value,
            "epsilon": self.epsilon,
            "max_contributions": self.max_contributions,
            "bounds": list(self.bounds) if self.bounds is not None else None,
            "groups": [key_json(g) for g in self.groups] if self.groups is not None else None,
            "min_group_size": config.min_group_size,
            "delta": config.delta if self.groups is None else 0.0,
        }
        return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ReleaseGuard:
    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        config: ReleaseConfig | None = None,
        *,
        audit: AuditTrail | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.config = config or ReleaseConfig()
        if self.config.min_group_size < 1:
            raise ValueError("min_group_size must be at least 1")
        self.audit = audit
        self._rng = rng or random.Random(secrets.randbits(64))  # which contributions a bound drops

    # -- budget -----------------------------------------------------------------------------------
    def budget(self, tenant_id: str) -> BudgetStatus:
        with self.engine.connect() as conn:
            scope_to_tenant(conn, tenant_id)
            return budget.status(conn, tenant_id, at=self._now(), default=self.config.epsilon_per_week)

    def set_budget(self, tenant_id: str, *, epsilon_per_week: float, actor: str) -> BudgetStatus:
        now = self._now()
        with write_transaction(self.engine) as conn:
            self._lock(conn, tenant_id)
            budget.set_weekly_budget(conn, tenant_id=tenant_id, epsilon_per_week=epsilon_per_week, actor=actor, at=now)
            if self.audit is not None:
                details = {"epsilon_per_week": float(epsilon_per_week)}
                self.audit.record(conn, tenant_id=tenant_id, actor=actor, action=Action.BUDGET_CHANGED, details=details)
            return budget.status(conn, tenant_id, at=now, default=self.config.epsilon_per_week)

    # -- releases ---------------------------------------------------------------------------------
    def release_counts(
        self,
        tenant_id: str,
        *,
        query_name: str,
        rows: Iterable[tuple[Hashable, GroupKey]],
        epsilon: float,
        max_contributions_per_subject: int = 1,
        statistic: Statistic = Statistic.SUBJECTS,
        groups: Sequence[GroupKey] | None = None,
        actor: str = "system",
    ) -> Release:
        """Noisy counts per group: distinct subjects (``Statistic.SUBJECTS``, each subject in at most
        ``max_contributions_per_subject`` groups) or rows (``Statistic.CONTRIBUTIONS``, at most that many
        rows per subject). Pass ``groups`` when the key set is public (zones of a floor plan × hours): the
        release is then ε-DP and suppressed cells are listed; otherwise keys come from the data and the
        OpenDP threshold mechanism decides which appear ((ε, δ)-DP, floor τ ≥ k)."""
        if statistic is Statistic.SUM:
            raise InvalidInput("statistic", "use release_sums for sums")
        query = self._query(
            tenant_id, query_name, statistic, epsilon, max_contributions_per_subject, None, groups, actor
        )

        def aggregate() -> Aggregates:
            return aggregate_counts(rows, statistic=statistic, max_contributions=query.max_contributions, rng=self._rng)

        def noise(aggregates: Aggregates) -> CellRelease:
            return release_counts(
                aggregates,
                statistic=statistic,
                epsilon=query.epsilon,
                max_contributions=query.max_contributions,
                min_group_size=self.config.min_group_size,
                groups=query.groups,
                delta=self.config.delta,
            )

        return self._release(query, aggregate, noise)

    def release_sums(
        self,
        tenant_id: str,
        *,
        query_name: str,
        rows: Iterable[tuple[Hashable, GroupKey, int]],
        epsilon: float,
        bounds: tuple[int, int],
        max_contributions_per_subject: int = 1,
        groups: Sequence[GroupKey] | None = None,
        actor: str = "system",
    ) -> Release:
        """Noisy sums of integer values (e.g. basket totals in minor units) clamped into ``bounds``, with a
        noisy distinct-subject count per cell (``Cell.count``); ε is split evenly between the two."""
        low, high = (int(bounds[0]), int(bounds[1]))
        if low > high:
            raise InvalidInput("bounds", "must be (low, high) with low ≤ high")
        query = self._query(
            tenant_id, query_name, Statistic.SUM, epsilon, max_contributions_per_subject, (low, high), groups, actor
        )

        def aggregate() -> Aggregates:
            return aggregate_sums(rows, bounds=(low, high), max_contributions=query.max_contributions, rng=self._rng)

        def noise(aggregates: Aggregates) -> CellRelease:
            return release_sums(
                aggregates,
                epsilon=query.epsilon,
                bounds=(low, high),
                max_contributions=query.max_contributions,
                min_group_size=self.config.min_group_size,
                groups=query.groups,
                delta=self.config.delta,
            )

        return self._release(query, aggregate, noise)

    def check_row_export(
        self,
        tenant_id: str,
        *,
        export_name: str,
        traces: Mapping[Hashable, Iterable[Point]],
        actor: str = "system",
        points: int = DEFAULT_POINTS,
        threshold: float = DEFAULT_MAX_UNICITY,
        trials: int = 3,
        seed: int | None = None,
    ) -> UnicityReport:
        """The unicity gate for a row-level export; a refusal is recorded in the audit chain."""
        try:
            return _check_row_export(
                traces, export_name=export_name, points=points, threshold=threshold, trials=trials, seed=seed
            )
        except ExportRefused as refused:
            if self.audit is not None:
                details = {"export": export_name, **refused.details}
                with write_transaction(self.engine) as conn:
                    scope_to_tenant(conn, tenant_id)
                    self.audit.record(
                        conn, tenant_id=tenant_id, actor=actor, action=Action.EXPORT_REFUSED, details=details
                    )
            raise

    # -- internals --------------------------------------------------------------------------------
    def _now(self) -> datetime:
        return ensure_utc(self.clock.now())

    def _query(
        self,
        tenant_id: str,
        query_name: str,
        statistic: Statistic,
        epsilon: float,
        max_contributions: int,
        bounds: tuple[int, int] | None,
        groups: Sequence[GroupKey] | None,
        actor: str,
    ) -> _Query:
        if not query_name or len(query_name) > 200:
            raise InvalidInput("query_name", "1–200 characters naming the question and its data window")
        if max_contributions < 1:
            raise InvalidInput("max_contributions_per_subject", "must be at least 1")
        frozen_groups = None if groups is None else tuple(dict.fromkeys(normal_key(g) for g in groups))
        return _Query(
            tenant_id,
            query_name,
            statistic,
            budget.check_epsilon(epsilon),
            int(max_contributions),
            bounds,
            frozen_groups,
            actor,
        )

    def _lock(self, conn: Connection, tenant_id: str) -> None:
        """Bind the transaction to the tenant (RLS) and serialize its budget decisions."""
        scope_to_tenant(conn, tenant_id)
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:cls, :obj)"),
                {"cls": _LOCK_CLASS, "obj": _tenant_lock_id(tenant_id)},
            )

    def _cached(self, conn: Connection, query: _Query, period: date, fingerprint: str) -> Release | None:
        stored = conn.execute(
            select(privacy_releases.c.result).where(
                privacy_releases.c.tenant_id == query.tenant_id,
                privacy_releases.c.period_start == period,
                privacy_releases.c.query_name == query.query_name,
                privacy_releases.c.fingerprint == fingerprint,
            )
        ).scalar()
        return None if stored is None else Release.from_json(stored, cached=True)

    def _approved(self, conn: Connection, query: _Query, now: datetime) -> BudgetStatus:
        status = budget.status(conn, query.tenant_id, at=now, default=self.config.epsilon_per_week)
        if not status.allows(query.epsilon):
            raise BudgetExhausted(status, requested=query.epsilon, query_name=query.query_name)
        return status

    def _release(
        self, query: _Query, aggregate: Callable[[], Aggregates], noise: Callable[[Aggregates], CellRelease]
    ) -> Release:
        now = self._now()
        period = budget.period_start(now)
        fingerprint = query.fingerprint(self.config)
        with self.engine.connect() as conn:  # cheap answers first, without the lock or the data
            scope_to_tenant(conn, query.tenant_id)
            cached = self._cached(conn, query, period, fingerprint)
            if cached is not None:
                return cached
            self._approved(conn, query, now)
        aggregates = aggregate()  # consumes the rows, outside any transaction
        with write_transaction(self.engine) as conn:
            self._lock(conn, query.tenant_id)
            cached = self._cached(conn, query, period, fingerprint)  # released meanwhile by another process
            if cached is not None:
                return cached
            self._approved(conn, query, now)
            cells = noise(aggregates)
            release = Release(
                tenant_id=query.tenant_id,
                query_name=query.query_name,
                statistic=query.statistic,
                period_start=period,
                released_at=now,
                epsilon=query.epsilon,
                delta=cells.delta,
                noise_scale=cells.noise_scale,
                count_scale=cells.count_scale,
                threshold=cells.threshold,
                min_group_size=self.config.min_group_size,
                max_contributions=query.max_contributions,
                bounds=query.bounds,
                cells=cells.cells,
                suppressed=cells.suppressed,
            )
            release_id = conn.execute(
                insert(privacy_releases)
                .values(
                    tenant_id=query.tenant_id,
                    period_start=period,
                    query_name=query.query_name,
                    fingerprint=fingerprint,
                    statistic=query.statistic.value,
                    epsilon=query.epsilon,
                    delta=cells.delta,
                    released_at=now,
                    result=release.to_json(),
                )
                .returning(privacy_releases.c.id)
            ).scalar_one()
            budget.spend(
                conn,
                tenant_id=query.tenant_id,
                period=period,
                query_name=query.query_name,
                epsilon=query.epsilon,
                delta=cells.delta,
                at=now,
                release_id=int(release_id),
            )
            if self.audit is not None:
                details = {
                    "query_name": query.query_name,
                    "statistic": query.statistic.value,
                    "epsilon": query.epsilon,
                    "delta": cells.delta,
                    "cells": len(cells.cells),
                    "suppressed": len(cells.suppressed),
                    "contributions_dropped": aggregates.dropped,
                    "period_start": period.isoformat(),
                }
                self.audit.record(
                    conn, tenant_id=query.tenant_id, actor=query.actor, action=Action.RELEASE_PUBLISHED, details=details
                )
        return release
