"""Release guard on SQLite and PostgreSQL: budget accounting and refusal, cached repeats, noise scale end to
end, k-suppression, audit entries and the export gate."""

from __future__ import annotations

import math
import statistics
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tradeoff.core.clock import FixedClock
from tradeoff.core.errors import InvalidInput
from tradeoff.privacy.audit import AuditTrail, CheckpointFile, SigningKeys
from tradeoff.privacy.audit.service import read_entries
from tradeoff.privacy.keys import LocalKeyProvider
from tradeoff.privacy.release import (
    BudgetExhausted,
    ExportRefused,
    ReleaseConfig,
    ReleaseGuard,
    Statistic,
)
from tradeoff.privacy.release.store import privacy_budget_spend, privacy_releases

THURSDAY = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # ISO week starting Monday 2026-11-30
ZONES = ["entrance", "fresh", "bakery", "tills"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(THURSDAY)


@pytest.fixture
def trail(tmp_path: Path, clock: FixedClock) -> AuditTrail:
    directory = tmp_path / "keys"
    return AuditTrail(
        keys=LocalKeyProvider(directory / "keyring.json"),
        signing=SigningKeys(directory),
        checkpoint_file=CheckpointFile(directory / "audit-checkpoints.jsonl"),
        clock=clock,
    )


@pytest.fixture
def guard(engine: Engine, clock: FixedClock, trail: AuditTrail) -> ReleaseGuard:
    return ReleaseGuard(engine, clock, ReleaseConfig(), audit=trail)


def visits(per_zone: dict[str, int]) -> list[tuple[str, str]]:
    """``n`` distinct shoppers per zone; every shopper also appears twice more in the same zone."""
    rows = []
    for zone, n in per_zone.items():
        for s in range(n):
            rows.extend([(f"{zone}-shopper-{s}", zone)] * 3)
    return rows


def test_release_suppresses_small_cells_and_records_everything(
    guard: ReleaseGuard, engine: Engine, trail: AuditTrail
) -> None:
    rows = visits({"entrance": 400, "fresh": 250, "bakery": 4, "tills": 9})
    release = guard.release_counts(
        "t1", query_name="zone-visitors/2026-12-02", rows=rows, epsilon=0.5, groups=ZONES, actor="dashboard"
    )
    assert {c.key for c in release.cells} == {"entrance", "fresh"}
    assert set(release.suppressed) == {"bakery", "tills"}
    assert release.value("bakery") is None
    assert abs((release.value("entrance") or 0) - 400) < 60  # b = 2: |noise| < 60 has probability 1 − e⁻³⁰
    assert release.noise_scale == pytest.approx(2.0) and release.delta == 0.0
    assert release.period_start.isoformat() == "2026-11-30" and not release.cached
    assert guard.budget("t1").spent == pytest.approx(0.5)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(privacy_releases)).scalar() == 1
        audit = read_entries(conn, tenant_id="t1")
    assert [(e.action, e.actor) for e in audit] == [("release.published", "dashboard")]
    assert audit[0].details["suppressed"] == 2 and audit[0].details["epsilon"] == 0.5
    assert trail.verify(engine, "t1").ok


def test_repeat_returns_the_stored_release_without_spending(guard: ReleaseGuard, clock: FixedClock) -> None:
    def ask() -> object:
        return guard.release_counts(
            "t1", query_name="zone-visitors/2026-12-02", rows=visits({"entrance": 300}), epsilon=0.4, groups=ZONES
        )

    first = ask()
    clock.advance(timedelta(days=2))  # Saturday: same ISO week
    repeats = [ask() for _ in range(5)]
    assert all(r.cached and r.cells == first.cells for r in repeats)  # type: ignore[attr-defined]
    assert guard.budget("t1").spent == pytest.approx(0.4)
    clock.advance(timedelta(days=2))  # Monday: a new week, a new release (and a new spend)
    fresh = ask()
    assert not fresh.cached  # type: ignore[attr-defined]
    assert guard.budget("t1").spent == pytest.approx(0.4)
    assert guard.budget("t1").period_start.isoformat() == "2026-12-07"


def test_rows_are_not_read_for_a_cached_release(guard: ReleaseGuard) -> None:
    guard.release_counts("t1", query_name="q", rows=visits({"fresh": 50}), epsilon=0.1, groups=ZONES)

    def exploding() -> object:
        raise AssertionError("a cached release must not touch the data")
        yield  # pragma: no cover

    again = guard.release_counts("t1", query_name="q", rows=exploding(), epsilon=0.1, groups=ZONES)  # type: ignore[arg-type]
    assert again.cached


def test_budget_is_accounted_and_refused_when_spent(guard: ReleaseGuard, engine: Engine) -> None:
    rows = visits({"entrance": 100})
    for i in range(4):
        guard.release_counts("t1", query_name=f"q{i}", rows=rows, epsilon=0.25, groups=ZONES)
    status = guard.budget("t1")
    assert status.spent == pytest.approx(1.0) and status.remaining == pytest.approx(0.0)
    with pytest.raises(BudgetExhausted) as refused:
        guard.release_counts("t1", query_name="one-more", rows=rows, epsilon=0.01, groups=ZONES)
    assert refused.value.details["spent"] == pytest.approx(1.0)
    assert refused.value.details["next_period_start"] == "2026-12-07"
    with engine.connect() as conn:  # a refusal spends and stores nothing
        assert conn.execute(select(func.count()).select_from(privacy_budget_spend)).scalar() == 4
        assert conn.execute(select(func.count()).select_from(privacy_releases)).scalar() == 4
    # another tenant has its own budget
    assert guard.release_counts("t2", query_name="q0", rows=rows, epsilon=1.0, groups=ZONES).epsilon == 1.0
    with pytest.raises(BudgetExhausted):
        guard.release_counts("t2", query_name="q1", rows=rows, epsilon=0.5, groups=ZONES)


def test_fractional_spends_add_up_to_exactly_the_budget(guard: ReleaseGuard) -> None:
    for i in range(10):
        guard.release_counts("t1", query_name=f"tenth-{i}", rows=[], epsilon=0.1, groups=ZONES)
    with pytest.raises(BudgetExhausted):
        guard.release_counts("t1", query_name="eleventh", rows=[], epsilon=0.1, groups=ZONES)


def test_per_tenant_budget_configuration(guard: ReleaseGuard, engine: Engine, trail: AuditTrail) -> None:
    assert guard.budget("t1").budget == 1.0  # the documented default
    status = guard.set_budget("t1", epsilon_per_week=3.0, actor="admin-1")
    assert status.budget == 3.0
    guard.set_budget("t1", epsilon_per_week=2.0, actor="admin-1")
    guard.release_counts("t1", query_name="big", rows=[], epsilon=2.0, groups=ZONES)
    with pytest.raises(BudgetExhausted):
        guard.release_counts("t1", query_name="more", rows=[], epsilon=0.1, groups=ZONES)
    with pytest.raises(InvalidInput):
        guard.set_budget("t1", epsilon_per_week=-1, actor="admin-1")
    with engine.connect() as conn:
        actions = [e.action for e in read_entries(conn, tenant_id="t1")]
    assert actions == ["release.budget_changed", "release.budget_changed", "release.published"]


def test_bad_requests_are_refused(guard: ReleaseGuard) -> None:
    with pytest.raises(InvalidInput):
        guard.release_counts("t1", query_name="q", rows=[], epsilon=0.0, groups=ZONES)
    with pytest.raises(InvalidInput):
        guard.release_counts("t1", query_name="q", rows=[], epsilon=math.nan, groups=ZONES)
    with pytest.raises(InvalidInput):
        guard.release_counts("t1", query_name="", rows=[], epsilon=0.1, groups=ZONES)
    with pytest.raises(InvalidInput):
        guard.release_counts("t1", query_name="q", rows=[], epsilon=0.1, max_contributions_per_subject=0)
    with pytest.raises(InvalidInput):
        guard.release_sums("t1", query_name="q", rows=[], epsilon=0.1, bounds=(10, 0))
    assert guard.budget("t1").spent == 0.0


def test_noise_scale_end_to_end(engine: Engine, clock: FixedClock) -> None:
    """2,000 public cells of 50 subjects each in one release: noisy − true has variance ≈ 2b², b = c/ε."""
    guard = ReleaseGuard(engine, clock, ReleaseConfig(epsilon_per_week=10.0, min_group_size=1))
    cells = [f"cell-{i}" for i in range(2000)]
    rows = [(f"{cell}-s{j}", cell) for cell in cells for j in range(50)]
    epsilon, bound = 0.5, 2
    release = guard.release_counts(
        "t1", query_name="calibration", rows=rows, epsilon=epsilon, max_contributions_per_subject=bound, groups=cells
    )
    b = release.noise_scale
    assert b == pytest.approx(bound / epsilon)
    noise = [(release.value(cell) or 0) - 50 for cell in cells if release.value(cell) is not None]
    assert len(noise) > 1990  # at b = 4 a count of 50 practically never falls below k = 1
    t = math.exp(-1 / b)
    expected = 2 * t / (1 - t) ** 2  # discrete Laplace variance, within 1 % of 2b² = 32
    assert expected == pytest.approx(2 * b * b, rel=0.02)
    # sd of the sample variance is ≈ sqrt(5/2000) = 5 % of it: ±25 % is a 5-sd band
    assert statistics.pvariance(noise) == pytest.approx(expected, rel=0.25)
    assert abs(statistics.fmean(noise)) < 6 * math.sqrt(expected / len(noise))


def test_sums_are_clamped_noised_and_suppressed(guard: ReleaseGuard) -> None:
    rows = [(f"s{i}", "dairy", 350) for i in range(200)] + [(f"t{i}", "caviar", 99_999) for i in range(3)]
    release = guard.release_sums(
        "t1", query_name="basket-value", rows=rows, epsilon=1.0, bounds=(0, 5000), groups=["dairy", "caviar"]
    )
    assert release.statistic is Statistic.SUM
    assert [c.key for c in release.cells] == ["dairy"]
    dairy = release.cells[0]
    assert dairy.count is not None and abs(dairy.count - 200) < 40
    assert abs(dairy.value - 70_000) < 5000 * 40  # b = 1 × 5000 / 0.5 = 10,000
    assert release.noise_scale == pytest.approx(10_000)
    assert release.suppressed == ("caviar",)


def test_data_derived_keys_cost_delta_and_a_higher_floor(guard: ReleaseGuard, engine: Engine) -> None:
    rows = visits({"entrance": 500, "fresh": 12})
    release = guard.release_counts("t1", query_name="open-keys", rows=rows, epsilon=0.5)
    assert release.threshold > 10 and 0 < release.delta <= 1e-6
    assert [c.key for c in release.cells] == ["entrance"]
    assert release.suppressed == ()
    with engine.connect() as conn:
        assert conn.execute(select(privacy_budget_spend.c.delta)).scalar_one() == pytest.approx(release.delta)


def test_tuple_keys_round_trip_through_the_cache(guard: ReleaseGuard) -> None:
    groups = [(zone, hour) for zone in ZONES for hour in (9, 10)]
    rows = [(f"s{i}", ("fresh", 9)) for i in range(100)]
    first = guard.release_counts("t1", query_name="zone-hour", rows=rows, epsilon=0.3, groups=groups)
    again = guard.release_counts("t1", query_name="zone-hour", rows=rows, epsilon=0.3, groups=groups)
    assert again.cached and again.value(("fresh", 9)) == first.value(("fresh", 9)) is not None
    assert ("bakery", 10) in again.suppressed


def test_concurrent_releases_never_overspend(engine: Engine, clock: FixedClock) -> None:
    guard = ReleaseGuard(engine, clock)
    outcomes: list[str] = []
    lock = threading.Lock()

    def ask(i: int) -> None:
        try:
            guard.release_counts("t1", query_name=f"q{i}", rows=visits({"fresh": 20}), epsilon=0.3, groups=ZONES)
            result = "released"
        except BudgetExhausted:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 3 + ["released"] * 3
    assert guard.budget("t1").spent == pytest.approx(0.9)


def test_export_gate_is_audited(guard: ReleaseGuard, engine: Engine) -> None:
    unique = {f"s{i}": [("zone", i), ("zone", i + 1000)] for i in range(200)}
    with pytest.raises(ExportRefused):
        guard.check_row_export("t1", export_name="raw-sightings", traces=unique, actor="analyst-2", seed=1)
    shared = {f"s{i}": [("entrance", 9), ("tills", 10)] for i in range(200)}
    assert guard.check_row_export("t1", export_name="cohorts", traces=shared, seed=1).passed
    with engine.connect() as conn:
        entries = read_entries(conn, tenant_id="t1")
    assert [(e.action, e.actor) for e in entries] == [("release.export_refused", "analyst-2")]
    assert entries[0].details["export"] == "raw-sightings" and entries[0].details["unicity"] == 1.0


_examples = iter(range(1_000_000))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(st.integers(0, 40), st.sampled_from(ZONES)), max_size=300),
    k=st.integers(1, 12),
    public=st.booleans(),
)
def test_property_no_released_cell_under_k_through_the_guard(
    engine: Engine, clock: FixedClock, rows: list[tuple[int, str]], k: int, public: bool
) -> None:
    guard = ReleaseGuard(engine, clock, ReleaseConfig(min_group_size=k, epsilon_per_week=1000.0))
    tenant = f"prop-{next(_examples)}"
    groups = ZONES if public else None
    subject_rows = [(f"s{s}", zone) for s, zone in rows]
    query = {"query_name": "zone-visitors", "epsilon": 2.0, "max_contributions_per_subject": 2, "groups": groups}
    release = guard.release_counts(tenant, rows=subject_rows, **query)  # type: ignore[arg-type]
    cached = guard.release_counts(tenant, rows=[], **query)  # type: ignore[arg-type]
    assert cached.cached and cached.cells == release.cells
    for published in (release, cached):
        for cell in published.cells:
            assert len({s for s, zone in rows if zone == cell.key}) >= k
            assert cell.value >= k
