"""Pseudonyms and identifier tokens: keyed, per tenant, daily ones rotate at the day boundary."""

from __future__ import annotations

import hmac
from datetime import date, timedelta
from pathlib import Path

from tests.unit.privacy.fakes import MemoryKeys
from tradeoff.privacy.keys import LocalKeyProvider
from tradeoff.privacy.scrub.identifiers import DEFAULT_IDENTIFIERS
from tradeoff.privacy.subjects import Pseudonymizer

DAY = date(2026, 11, 29)


def test_tier1_pseudonym_rotates_daily_and_differs_across_tenants() -> None:
    p = Pseudonymizer(MemoryKeys())
    today, tomorrow = p.daily("acme", "s1", DAY), p.daily("acme", "s1", DAY + timedelta(days=1))
    assert today == p.daily("acme", "s1", DAY)  # stable within the day
    assert today != tomorrow
    assert today != p.daily("zeta", "s1", DAY)
    assert today != p.daily("acme", "s2", DAY)
    week = {p.daily("acme", "s1", DAY + timedelta(days=n)) for n in range(7)}
    assert len(week) == 7
    assert today.startswith("pd_") and len(today) == 3 + 26


def test_stable_pseudonym_is_per_tenant() -> None:
    p = Pseudonymizer(MemoryKeys())
    assert p.stable("acme", "s1") == p.stable("acme", "s1")
    assert p.stable("acme", "s1") != p.stable("zeta", "s1")
    assert p.stable("acme", "s1") not in {p.daily("acme", "s1", DAY + timedelta(days=n)) for n in range(30)}
    assert p.all_pseudonyms("acme", "s1", [DAY]) == {p.stable("acme", "s1"), p.daily("acme", "s1", DAY)}


def test_tokens_normalize_then_mac() -> None:
    p = Pseudonymizer(MemoryKeys())
    email, mac = DEFAULT_IDENTIFIERS.kind("email"), DEFAULT_IDENTIFIERS.kind("mac")
    assert p.token("acme", email, " Ann@Example.org ", day=None) == p.token("acme", email, "ann@example.org", day=None)
    assert p.token("acme", mac, "AA:BB:CC:00:11:22", day=None) == p.token("acme", mac, "aabb.cc00.1122", day=None)
    stable = p.token("acme", email, "ann@example.org", day=None)
    daily = p.token("acme", email, "ann@example.org", day=DAY)
    assert stable.startswith("tok_email_") and daily.startswith("tokd_email_")
    assert daily != p.token("acme", email, "ann@example.org", day=DAY + timedelta(days=1))
    assert stable != p.token("zeta", email, "ann@example.org", day=None)
    fingerprint = DEFAULT_IDENTIFIERS.kind("card_fingerprint")  # purchase-linking keys never rotate
    assert p.token("acme", fingerprint, "fp_1", day=DAY) == p.token("acme", fingerprint, "fp_1", day=None)


def test_stable_tokens_equal_the_vault_tokens(tmp_path: Path) -> None:
    """The part after ``tok_<kind>_`` is what ``Vault.tokenize`` writes for the same value."""
    from tradeoff.privacy.vault.tokens import TokenKind, encode_token, normalize

    keys = LocalKeyProvider(tmp_path / "keyring.json")
    p = Pseudonymizer(keys)
    for kind, value in ((TokenKind.EMAIL, " Ann@Example.ORG"), (TokenKind.CARD_FINGERPRINT, "fp_Zz9")):
        vault = encode_token(keys.mac("acme", f"token:{kind.value}", normalize(kind, value)))
        ours = p.token("acme", DEFAULT_IDENTIFIERS.kind(kind.value), value, day=None)
        assert hmac.compare_digest(ours, f"tok_{kind.value}_{vault}")
