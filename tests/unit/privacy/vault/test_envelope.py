"""Envelope format properties: round-trip, and any tampered or moved ciphertext is rejected."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeoff.privacy.vault.envelope import (
    MAX_KEY_VERSION,
    OVERHEAD,
    CipherContext,
    key_version_of,
    new_dek,
    seal,
    unseal,
)
from tradeoff.privacy.vault.errors import DecryptionError, MalformedCiphertext

DEK = new_dek()
names = st.text(min_size=1, max_size=40)
contexts = st.builds(CipherContext, names, names, names, names, names)
versions = st.integers(min_value=1, max_value=MAX_KEY_VERSION)
FIELDS = [f.name for f in dataclasses.fields(CipherContext)]


@given(plaintext=st.binary(max_size=2048), context=contexts, key_version=versions)
def test_round_trip(plaintext: bytes, context: CipherContext, key_version: int) -> None:
    ciphertext = seal(DEK, key_version, plaintext, context)
    assert len(ciphertext) == len(plaintext) + OVERHEAD
    assert ciphertext[:2] == b"v1"
    assert key_version_of(ciphertext) == key_version
    assert unseal(DEK, ciphertext, context) == plaintext


@given(plaintext=st.binary(max_size=256), context=contexts, data=st.data())
def test_any_single_bit_flip_is_rejected(plaintext: bytes, context: CipherContext, data: st.DataObject) -> None:
    ciphertext = bytearray(seal(DEK, 1, plaintext, context))
    bit = data.draw(st.integers(min_value=0, max_value=len(ciphertext) * 8 - 1), label="bit")
    ciphertext[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        unseal(DEK, bytes(ciphertext), context)


@given(plaintext=st.binary(max_size=256), context=contexts, data=st.data())
def test_truncation_is_rejected(plaintext: bytes, context: CipherContext, data: st.DataObject) -> None:
    ciphertext = seal(DEK, 1, plaintext, context)
    cut = data.draw(st.integers(min_value=0, max_value=len(ciphertext) - 1), label="keep")
    with pytest.raises(DecryptionError):
        unseal(DEK, ciphertext[:cut], context)


@given(plaintext=st.binary(max_size=256), context=contexts, extra=st.binary(min_size=1, max_size=64))
def test_extension_is_rejected(plaintext: bytes, context: CipherContext, extra: bytes) -> None:
    ciphertext = seal(DEK, 1, plaintext, context)
    with pytest.raises(DecryptionError):
        unseal(DEK, ciphertext + extra, context)
    with pytest.raises(DecryptionError):
        unseal(DEK, ciphertext[:6] + extra + ciphertext[6:], context)


@given(plaintext=st.binary(max_size=256), context=contexts, field=st.sampled_from(FIELDS), other=names)
def test_moved_ciphertext_is_rejected(plaintext: bytes, context: CipherContext, field: str, other: str) -> None:
    """Decrypting for another tenant, subject, table, column or row — any one field changed — fails."""
    moved = dataclasses.replace(context, **{field: other})
    ciphertext = seal(DEK, 1, plaintext, context)
    if moved == context:
        assert unseal(DEK, ciphertext, moved) == plaintext
        return
    with pytest.raises(DecryptionError):
        unseal(DEK, ciphertext, moved)


@given(a=st.lists(names, min_size=5, max_size=5), b=st.lists(names, min_size=5, max_size=5))
def test_associated_data_is_injective(a: list[str], b: list[str]) -> None:
    """Different contexts never encode to the same associated data (no 'ab'+'c' == 'a'+'bc')."""
    ctx_a, ctx_b = CipherContext(*a), CipherContext(*b)
    assert (ctx_a.associated_data(b"h") == ctx_b.associated_data(b"h")) == (ctx_a == ctx_b)


def test_boundary_shift_between_fields_is_rejected() -> None:
    context = CipherContext("t1", "subject", "ab", "c", "1")
    ciphertext = seal(DEK, 1, b"x", context)
    with pytest.raises(DecryptionError):
        unseal(DEK, ciphertext, CipherContext("t1", "subject", "a", "bc", "1"))


def test_another_key_is_rejected() -> None:
    context = CipherContext("t1", "s1", "profiles", "email", "1")
    with pytest.raises(DecryptionError):
        unseal(new_dek(), seal(DEK, 1, b"secret", context), context)


def test_malformed_input_gets_a_clear_error() -> None:
    context = CipherContext("t1", "s1", "profiles", "email", "1")
    with pytest.raises(MalformedCiphertext, match="at least 34"):
        unseal(DEK, b"v1", context)
    with pytest.raises(MalformedCiphertext, match="unknown ciphertext format"):
        unseal(DEK, b"v9" + seal(DEK, 1, b"x", context)[2:], context)


def test_nonces_differ() -> None:
    context = CipherContext("t1", "s1", "profiles", "email", "1")
    assert seal(DEK, 1, b"same", context) != seal(DEK, 1, b"same", context)
