"""Budget periods are ISO weeks in UTC; BudgetStatus arithmetic tolerates float sums."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from tradeoff.privacy.release.budget import BudgetExhausted, BudgetStatus, period_start


def test_period_is_the_iso_week_in_utc() -> None:
    assert period_start(datetime(2026, 12, 3, 12, tzinfo=UTC)) == date(2026, 11, 30)  # Thursday → Monday
    assert period_start(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == date(2026, 11, 30)
    assert period_start(datetime(2026, 11, 29, 23, 59, tzinfo=UTC)) == date(2026, 11, 23)  # Sunday
    # Monday 01:00 in UTC+2 is still Sunday in UTC
    assert period_start(datetime(2026, 11, 30, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == date(2026, 11, 23)
    assert period_start(datetime(2027, 1, 1, tzinfo=UTC)) == date(2026, 12, 28)  # ISO week across the year end


def test_status_allows_exactly_the_budget() -> None:
    status = BudgetStatus("t", date(2026, 11, 30), 1.0, sum([0.1] * 9))
    assert status.allows(0.1)  # 0.1 × 10 sums to 0.9999999999999999 — still within budget
    assert not status.allows(0.11)
    assert status.remaining == 1.0 - sum([0.1] * 9)
    refused = BudgetExhausted(status, requested=0.5, query_name="visits")
    assert refused.status == 429 and refused.details["next_period_start"] == "2026-12-07"


def test_documented_defaults() -> None:
    from tradeoff.platform.settings import Settings
    from tradeoff.privacy.release import DEFAULT_DELTA, DEFAULT_EPSILON_PER_WEEK, DEFAULT_MIN_GROUP_SIZE, ReleaseConfig

    assert (DEFAULT_MIN_GROUP_SIZE, DEFAULT_EPSILON_PER_WEEK, DEFAULT_DELTA) == (10, 1.0, 1e-6)
    assert ReleaseConfig.from_settings(Settings()) == ReleaseConfig()
