"""Tiers, the GPC rule and lapsing grants: the pure part of the consent ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.privacy.fakes import state_with
from tradeoff.privacy.consent import (
    GPC_RESTRICTED,
    RENEWAL_PERIOD,
    Basis,
    Purpose,
    changes_for_tier,
    purposes_for_tier,
    tier_of,
)
from tradeoff.privacy.consent.model import decide

A, P, L = Purpose.ANALYTICS, Purpose.PERSONALIZATION, Purpose.PURCHASE_LINKING
T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_tiers_bundle_purposes() -> None:
    assert [purposes_for_tier(t) for t in range(4)] == [set(), {A}, {A, P}, {A, P, L}]
    assert [tier_of(purposes_for_tier(t)) for t in range(4)] == [0, 1, 2, 3]
    assert tier_of(frozenset({P, L})) == 0  # personalization without analytics is no tier
    assert changes_for_tier(1) == {A: True, P: False, L: False}
    with pytest.raises(ValueError):
        purposes_for_tier(4)


def test_gpc_refuses_restricted_grants_and_withdraws_standing_ones() -> None:
    assert {L} == GPC_RESTRICTED
    refused = decide(changes_for_tier(3), gpc=True, in_force=frozenset())
    assert [(d.purpose, d.requested, d.granted, d.basis) for d in refused] == [
        (A, True, True, Basis.EXPLICIT),
        (P, True, True, Basis.EXPLICIT),
        (L, True, False, Basis.GPC_CONFLICT),
    ]
    withdrawn = decide({}, gpc=True, in_force=frozenset({A, L}))
    assert [(d.purpose, d.requested, d.granted, d.basis) for d in withdrawn] == [(L, None, False, Basis.GPC)]
    assert decide({}, gpc=True, in_force=frozenset({A})) == []
    assert [d.granted for d in decide({L: True}, gpc=False, in_force=frozenset())] == [True]


def test_grants_lapse_at_renewal() -> None:
    state = state_with("t", "s", {A, P}, at=T0)
    assert state.allows(A, T0 + RENEWAL_PERIOD - timedelta(seconds=1))
    assert not state.allows(A, T0 + RENEWAL_PERIOD)
    assert state.tier(T0 + timedelta(days=1)) == 2 and state.tier(T0 + RENEWAL_PERIOD) == 0
    assert not state.renewal_due(T0) and state.renewal_due(T0 + RENEWAL_PERIOD - timedelta(days=10))


def test_unknown_subject_allows_nothing() -> None:
    state = state_with("t", "s", {A, P, L}, at=T0, known=False)
    assert state.purposes(T0) == frozenset() and not state.stable_pseudonym(T0)


def test_stable_pseudonym_needs_personalization_or_linking() -> None:
    assert not state_with("t", "s", {A}, at=T0).stable_pseudonym(T0)
    assert state_with("t", "s", {A, P}, at=T0).stable_pseudonym(T0)
    assert state_with("t", "s", {L}, at=T0).stable_pseudonym(T0)
