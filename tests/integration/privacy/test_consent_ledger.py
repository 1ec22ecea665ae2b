"""The consent ledger on SQLite and PostgreSQL: append-only records, state now and as of any time,
renewal, GPC, closed subjects, and the cache that never outlives a change made in this process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from tradeoff.core.errors import InvalidInput, NotFound
from tradeoff.platform import tenancy
from tradeoff.privacy.consent import (
    RENEWAL_PERIOD,
    Basis,
    ConsentCache,
    ConsentChange,
    Purpose,
    Source,
    apply_gpc,
    change_consent,
    changes_for_tier,
    consent_history,
    consent_state,
    may,
    record_consent,
)
from tradeoff.privacy.consent.store import consent_records
from tradeoff.privacy.subjects import close_subject, register_subject

A, P, L = Purpose.ANALYTICS, Purpose.PERSONALIZATION, Purpose.PURCHASE_LINKING
T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)


@pytest.fixture
def ids(engine: Engine) -> dict[str, str]:
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
        subject = register_subject(conn, tenant_id=tenant, at=T0).subject.subject_id
    return {"tenant": tenant, "subject": subject}


def tier(engine: Engine, ids: dict[str, str], n: int, at: datetime, *, gpc: bool = False) -> None:
    change = ConsentChange(changes_for_tier(n), "v1", Source.APP, gpc=gpc)
    change_consent(engine, tenant_id=ids["tenant"], subject_id=ids["subject"], change=change, at=at)


def test_grant_withdraw_and_history(engine: Engine, ids: dict[str, str]) -> None:
    t, s = ids["tenant"], ids["subject"]
    with engine.connect() as conn:
        assert not may(conn, tenant_id=t, subject_id=s, purpose=A, at=T0)
    tier(engine, ids, 2, T0)
    tier(engine, ids, 1, T0 + timedelta(hours=1))
    with engine.connect() as conn:
        state = consent_state(conn, tenant_id=t, subject_id=s)
        assert state.purposes(T0 + timedelta(hours=2)) == {A}
        assert state.latest[A].renew_by == T0 + timedelta(hours=1) + RENEWAL_PERIOD
        assert state.latest[P].renew_by is None and not state.latest[P].granted
        history = consent_history(conn, tenant_id=t, subject_id=s)
        # Reconstruction: as things stood half an hour in, tier 2 was in force.
        assert may(conn, tenant_id=t, subject_id=s, purpose=P, at=T0 + timedelta(minutes=30))
        assert not may(conn, tenant_id=t, subject_id=s, purpose=P, at=T0 + timedelta(hours=2))
        assert conn.execute(select(func.count()).select_from(consent_records)).scalar_one() == 6
    assert [(r.purpose, r.granted) for r in history] == [(A, True), (P, True), (L, False)] + [
        (A, True),
        (P, False),
        (L, False),
    ]
    assert {r.policy_version for r in history} == {"v1"} and {r.source for r in history} == {Source.APP}


def test_renewal_expiry_and_renewing(engine: Engine, ids: dict[str, str]) -> None:
    t, s = ids["tenant"], ids["subject"]
    tier(engine, ids, 1, T0)
    with engine.connect() as conn:
        assert may(conn, tenant_id=t, subject_id=s, purpose=A, at=T0 + RENEWAL_PERIOD - timedelta(seconds=1))
        assert not may(conn, tenant_id=t, subject_id=s, purpose=A, at=T0 + RENEWAL_PERIOD)
    renewed = T0 + RENEWAL_PERIOD + timedelta(days=3)
    tier(engine, ids, 1, renewed)
    with engine.connect() as conn:
        assert may(conn, tenant_id=t, subject_id=s, purpose=A, at=renewed + timedelta(days=1))


def test_gpc_blocks_purchase_linking_and_records_the_conflict(engine: Engine, ids: dict[str, str]) -> None:
    t, s = ids["tenant"], ids["subject"]
    tier(engine, ids, 3, T0, gpc=True)
    with engine.connect() as conn:
        state = consent_state(conn, tenant_id=t, subject_id=s)
    assert state.purposes(T0) == {A, P}
    conflict = state.latest[L]
    assert (conflict.requested, conflict.granted, conflict.gpc, conflict.basis) == (
        True,
        False,
        True,
        Basis.GPC_CONFLICT,
    )
    # Later, without GPC, the subject grants linking explicitly; a GPC signal afterwards withdraws it.
    tier(engine, ids, 3, T0 + timedelta(days=1))
    with engine.begin() as conn:
        assert may(conn, tenant_id=t, subject_id=s, purpose=L, at=T0 + timedelta(days=1))
        [withdrawal] = apply_gpc(conn, tenant_id=t, subject_id=s, source=Source.WEB, at=T0 + timedelta(days=2))
        assert (withdrawal.purpose, withdrawal.basis, withdrawal.requested) == (L, Basis.GPC, None)
        assert apply_gpc(conn, tenant_id=t, subject_id=s, source=Source.WEB, at=T0 + timedelta(days=2)) == []
        assert consent_state(conn, tenant_id=t, subject_id=s).purposes(T0 + timedelta(days=3)) == {A, P}


def test_closed_and_unknown_subjects(engine: Engine, ids: dict[str, str]) -> None:
    t, s = ids["tenant"], ids["subject"]
    tier(engine, ids, 3, T0)
    with engine.begin() as conn:
        close_subject(conn, tenant_id=t, subject_id=s, at=T0 + timedelta(days=1))
    with engine.begin() as conn:
        assert not may(conn, tenant_id=t, subject_id=s, purpose=A, at=None)
        assert may(conn, tenant_id=t, subject_id=s, purpose=A, at=T0 + timedelta(hours=1))  # history is kept
        with pytest.raises(NotFound):
            record_consent(
                conn,
                tenant_id=t,
                subject_id=s,
                changes={A: True},
                policy_version="v1",
                source=Source.APP,
                gpc=False,
                at=T0,
            )
        with pytest.raises(NotFound):
            record_consent(
                conn,
                tenant_id=t,
                subject_id="nobody",
                changes={A: True},
                policy_version="v1",
                source=Source.APP,
                gpc=False,
                at=T0,
            )
        other = tenancy.create_tenant(conn, slug="zeta", name="Zeta").id
        assert not consent_state(conn, tenant_id=other, subject_id=s).known  # subject ids are per tenant
        with pytest.raises(InvalidInput):
            record_consent(
                conn,
                tenant_id=t,
                subject_id=s,
                changes={A: True},
                policy_version=" ",
                source=Source.APP,
                gpc=False,
                at=T0,
            )


def test_cache_forgets_a_change_at_once(engine: Engine, ids: dict[str, str]) -> None:
    t, s = ids["tenant"], ids["subject"]
    cache = ConsentCache(engine, ttl_seconds=3600)
    tier(engine, ids, 1, T0)
    assert may(cache, tenant_id=t, subject_id=s, purpose=A)
    assert may(cache, tenant_id=t, subject_id=s, purpose=A)
    assert cache.reads == 1  # the second answer came from the cache
    tier(engine, ids, 0, T0 + timedelta(minutes=1))  # through the service: invalidates after commit
    assert not may(cache, tenant_id=t, subject_id=s, purpose=A)
    assert cache.reads == 2


def test_cache_without_ttl_reads_every_time(engine: Engine, ids: dict[str, str]) -> None:
    """The default: a change made by another process (here: behind the service's back) counts at once."""
    t, s = ids["tenant"], ids["subject"]
    cache = ConsentCache(engine)
    tier(engine, ids, 1, T0)
    assert may(cache, tenant_id=t, subject_id=s, purpose=A)
    with engine.begin() as conn:
        record_consent(
            conn,
            tenant_id=t,
            subject_id=s,
            changes={A: False},
            policy_version="v1",
            source=Source.IN_STORE,
            gpc=False,
            at=T0,
        )
    assert not may(cache, tenant_id=t, subject_id=s, purpose=A)
