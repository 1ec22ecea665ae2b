"""The merchant's privacy page (``/privacy``, admin and staff): how many shoppers chose each tier — released
through the ``ReleaseGuard`` (k floor + Laplace noise, ε from the weekly budget) — the budget used this
week, and the log of data-subject requests. No personal data and no subject reference is shown.

The tier distribution is one release per ISO week: the query name carries the week, and the guard returns
its stored result (spending nothing) on every repeat within that week, so the page can be opened any
number of times and averaging reloads learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import HTMLResponse

from tradeoff.platform.auth import Role
from tradeoff.platform.container import Platform
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.release import BudgetExhausted, Release, ReleaseGuard, Statistic
from tradeoff.web import portal_data
from tradeoff.web.nav import add_nav_item
from tradeoff.web.portal_view import TIERS
from tradeoff.web.privacy_queries import subject_tiers
from tradeoff.web.render import UserDep, render

router = APIRouter(include_in_schema=False)

TIER_EPSILON = 0.1  # a tenth of the default weekly budget, spent once a week
TIER_GROUPS = tuple(tier.tier for tier in TIERS)  # public keys: the tiers exist whoever chose them
DSR_LOG_ROWS = 100
RELEASE_ACTOR = "dashboard"  # the page releases, whoever opens it first in the week


def tier_query_name(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"privacy.consent-tiers/week={year}-W{week:02d}"


@dataclass(frozen=True, slots=True)
class TierRow:
    tier: int
    title: str
    subjects: int | None  # None: suppressed (fewer than k subjects, or a noisy count under k)


@dataclass(frozen=True, slots=True)
class TierDistribution:
    rows: tuple[TierRow, ...]
    release: Release | None
    refused: BudgetExhausted | None  # the week's budget could not pay for the first release

    @property
    def next_period_start(self) -> date | None:
        return self.refused.budget_status.period_start + timedelta(days=7) if self.refused else None


def tier_distribution(guard: ReleaseGuard, *, platform: Platform, tenant_id: str, actor: str) -> TierDistribution:
    at = guard.clock.now()
    try:
        release = guard.release_counts(
            tenant_id,
            query_name=tier_query_name(at),
            rows=subject_tiers(platform.app_engine, tenant_id=tenant_id, at=at),
            epsilon=TIER_EPSILON,
            max_contributions_per_subject=1,  # a subject has exactly one current tier
            statistic=Statistic.SUBJECTS,
            groups=TIER_GROUPS,
            actor=actor,
        )
    except BudgetExhausted as refused:
        rows = tuple(TierRow(tier.tier, tier.title, None) for tier in TIERS)
        return TierDistribution(rows, None, refused)
    rows = tuple(TierRow(tier.tier, tier.title, release.value(tier.tier)) for tier in TIERS)
    return TierDistribution(rows, release, None)


@router.get("/privacy", response_class=HTMLResponse)
def privacy_page(request: Request, user: UserDep, platform: PlatformDep) -> HTMLResponse:
    guard = privacy_of(platform).release_guard
    distribution = tier_distribution(guard, platform=platform, tenant_id=user.tenant_id, actor=RELEASE_ACTOR)
    context = {
        "title": "Privacy",
        "distribution": distribution,
        "budget": guard.budget(user.tenant_id),  # after the release: it shows what this week has spent
        "min_group_size": guard.config.min_group_size,
        "dsr_log": portal_data.dsr_log(platform, tenant_id=user.tenant_id, limit=DSR_LOG_ROWS),
    }
    return render(request, "privacy.html", context)


def install(app: FastAPI, platform: Platform) -> None:
    app.include_router(router)
    add_nav_item(app, "Privacy", "/privacy", roles={Role.ADMIN, Role.STAFF}, order=80)
