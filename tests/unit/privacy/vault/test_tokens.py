"""Keyed tokens: per-kind normalization, per-tenant and per-kind keys, no digit runs."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tradeoff.core.errors import InvalidInput
from tradeoff.privacy.keys import LocalKeyProvider
from tradeoff.privacy.vault import TokenKind, Vault
from tradeoff.privacy.vault.erasure_ledger import ErasureLedger
from tradeoff.privacy.vault.tokens import encode_token, normalize


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    provider = LocalKeyProvider(tmp_path / "keys" / "keyring.json")
    engine = create_engine("sqlite://")  # tokens never touch the database
    yield Vault(engine, provider, ledger=ErasureLedger(tmp_path / "keys" / "erasures.log", provider))
    engine.dispose()


def test_email_normalization(vault: Vault) -> None:
    token = vault.tokenize("t1", "email", "  Ada.Lovelace@Example.COM \n")
    assert token == vault.tokenize("t1", TokenKind.EMAIL, "ada.lovelace@example.com")
    assert re.fullmatch(r"[a-z2-7]{52}", token)


def test_email_unicode_forms_are_one_token(vault: Vault) -> None:
    composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
    assert vault.tokenize("t1", "email", composed) == vault.tokenize("t1", "email", decomposed)


def test_loyalty_ids_are_trimmed_not_case_folded(vault: Vault) -> None:
    assert vault.tokenize("t1", "loyalty_id", " AB-123 ") == vault.tokenize("t1", "loyalty_id", "AB-123")
    assert vault.tokenize("t1", "loyalty_id", "ab-123") != vault.tokenize("t1", "loyalty_id", "AB-123")


def test_card_fingerprints_are_taken_as_is(vault: Vault) -> None:
    assert vault.tokenize("t1", "card_fingerprint", "Xt5EWLLDS7FJjR1c") != vault.tokenize(
        "t1", "card_fingerprint", "xt5EWLLDS7FJjR1c"
    )
    assert vault.tokenize("t1", "card_fingerprint", " fp") != vault.tokenize("t1", "card_fingerprint", "fp")


def test_tokens_differ_by_tenant_and_kind(vault: Vault) -> None:
    value = "12345"
    tokens = {
        vault.tokenize("t1", "loyalty_id", value),
        vault.tokenize("t2", "loyalty_id", value),
        vault.tokenize("t1", "card_fingerprint", value),
    }
    assert len(tokens) == 3


def test_tokens_are_stable_across_provider_instances(vault: Vault, tmp_path: Path) -> None:
    token = vault.tokenize("t1", "email", "a@b.example")
    again = LocalKeyProvider(tmp_path / "keys" / "keyring.json")
    assert encode_token(again.mac("t1", "token:email", b"a@b.example")) == token


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("email", "   ", "not an email address"),
        ("email", "no-at-sign", "not an email address"),
        ("loyalty_id", "  ", "must not be empty"),
        ("card_fingerprint", "", "must not be empty"),
        ("phone", "+1 555", "unknown token kind"),
    ],
)
def test_bad_input_names_the_field(vault: Vault, kind: str, value: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        vault.tokenize("t1", kind, value)


def test_tokens_practically_never_hold_a_pan_length_digit_run() -> None:
    """Base32's only digits are 2-7: a 12+ digit run (what a PAN scan of a database dump looks for) has odds
    of about 1e-7 per token, against about 7 % for hex. Seeded, so the test is deterministic."""
    rng = random.Random(20261129)
    macs = [rng.randbytes(32) for _ in range(20_000)]
    pan_like = re.compile(r"\d{12,}")
    assert not any(pan_like.search(encode_token(mac)) for mac in macs)
    assert sum(bool(pan_like.search(mac.hex())) for mac in macs) > 1_000


def test_normalize_is_utf8() -> None:
    assert normalize(TokenKind.LOYALTY_ID, " \u00e9 ") == "\u00e9".encode()
