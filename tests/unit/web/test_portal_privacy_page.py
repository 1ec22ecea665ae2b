"""The merchant's privacy page (``/privacy``): the tier distribution released through the guard (k floor,
weekly cache), the ε budget of the week, and the DSR log — without any subject id or reference."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.unit.web.test_portal import PASSWORD, Env, csrf_of, make_env
from tradeoff.platform.db.engine import write_transaction
from tradeoff.privacy.audit import read_entries
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.consent import Source, changes_for_tier, record_consent
from tradeoff.privacy.subjects import register_subject
from tradeoff.web.merchant_privacy import TIER_EPSILON, tier_query_name


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with make_env(tmp_path) as value:
        yield value


def login(client: TestClient, username: str = "alice") -> None:
    csrf = csrf_of(client.get("/login").text)
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf, "next": "/"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def add_subjects(env: Env, tenant_id: str, counts: dict[int, int]) -> None:
    """``counts[tier]`` new subjects at that tier, straight through the privacy services."""
    at = datetime.now(UTC)
    with write_transaction(env.platform.engine) as conn:
        for tier, n in counts.items():
            for _ in range(n):
                subject_id = register_subject(conn, tenant_id=tenant_id, at=at).subject.subject_id
                record_consent(
                    conn,
                    tenant_id=tenant_id,
                    subject_id=subject_id,
                    changes=changes_for_tier(tier),
                    policy_version="2026-11",
                    source=Source.APP,
                    gpc=False,
                    at=at,
                )


def tier_cell(html: str, tier: int) -> int | None:
    """The released count of ``tier``, or None when the page shows it as suppressed."""
    if f'data-testid="suppressed-{tier}"' in html:
        return None
    match = re.search(rf'data-testid="tier-count-{tier}">(\d+)<', html)
    assert match, f"tier {tier} is neither released nor suppressed"
    return int(match.group(1))


def spent(html: str) -> float:
    match = re.search(r'data-testid="budget-spent"><span class="value">([\d.]+)<', html)
    assert match
    return float(match.group(1))


def test_the_privacy_page_needs_a_dashboard_login_and_is_in_the_nav(env: Env) -> None:
    response = env.client.get("/privacy", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/privacy"
    login(env.client, "sam")  # staff may see it
    page = env.client.get("/privacy")
    assert page.status_code == 200 and '<a href="/privacy" aria-current="page">Privacy</a>' in page.text


def test_the_tier_distribution_is_released_once_a_week_with_k_suppression(env: Env) -> None:
    add_subjects(env, env.acme_id, {2: 150, 3: 2})
    login(env.client)
    first = env.client.get("/privacy").text
    released = tier_cell(first, 2)
    assert released is not None and abs(released - 150) < 100  # noisy (Laplace, b = 10), never suppressed here
    assert tier_cell(first, 0) is None and tier_cell(first, 1) is None
    assert tier_cell(first, 3) is None  # 2 shoppers: under k, whatever the noise
    assert spent(first) == TIER_EPSILON and 'data-testid="release-info"' in first

    add_subjects(env, env.acme_id, {1: 50})
    second = env.client.get("/privacy").text  # the same week: the stored release, nothing spent
    assert tier_cell(second, 2) == released and tier_cell(second, 1) is None and spent(second) == TIER_EPSILON

    with env.platform.engine.connect() as conn:
        entries = read_entries(conn, tenant_id=env.acme_id)
    releases = [entry for entry in entries if entry.action == "release.published"]
    assert len(releases) == 1
    assert releases[0].details["query_name"] == tier_query_name(datetime.now(UTC))


def test_the_query_name_names_the_iso_week() -> None:
    assert tier_query_name(datetime(2027, 1, 1, tzinfo=UTC)) == "privacy.consent-tiers/week=2026-W53"
    assert tier_query_name(datetime(2026, 12, 7, tzinfo=UTC)) == "privacy.consent-tiers/week=2026-W50"


def test_a_spent_budget_shows_every_tier_suppressed(env: Env) -> None:
    add_subjects(env, env.acme_id, {2: 150})
    privacy_of(env.platform).release_guard.set_budget(env.acme_id, epsilon_per_week=TIER_EPSILON / 2, actor="test")
    login(env.client)
    page = env.client.get("/privacy")
    assert page.status_code == 200 and 'data-testid="tiers-refused"' in page.text
    assert all(tier_cell(page.text, tier) is None for tier in range(4))
    assert spent(page.text) == 0.0


def test_the_dsr_log_lists_requests_without_naming_anyone(env: Env) -> None:
    subject_id, token = env.register(tier=2)
    env.enter(token)
    assert env.client.get("/portal/export.json").status_code == 200
    csrf = csrf_of(env.client.get("/portal/erase").text)
    env.client.post("/portal/erase", data={"csrf_token": csrf, "confirm": "yes"})

    login(env.client)
    page = env.client.get("/privacy").text
    log = page[page.index('data-testid="dsr-log"') :]
    assert log.index('data-action="dsr.erase"') < log.index('data-action="dsr.export"')  # newest first
    assert subject_id not in page and token not in page
    keys = privacy_of(env.platform).keys
    from tradeoff.privacy.audit import subject_ref

    assert subject_ref(keys, env.acme_id, subject_id) not in page


def test_each_tenant_sees_only_its_own_privacy_page(env: Env) -> None:
    add_subjects(env, env.acme_id, {2: 150})
    _, token = env.register(tier=2)
    env.enter(token)
    csrf = csrf_of(env.client.get("/portal/erase").text)
    env.client.post("/portal/erase", data={"csrf_token": csrf, "confirm": "yes"})
    login(env.client, "olga")
    page = env.client.get("/privacy").text
    assert "No exports or erasures yet." in page
    assert all(tier_cell(page, tier) is None for tier in range(4))
