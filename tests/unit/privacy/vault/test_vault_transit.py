"""The HashiCorp Vault Transit key provider against a mock of Vault's HTTP API (request shapes and
response bodies as documented in Vault's Transit API reference)."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import httpx
import pytest

from tests.unit.privacy.vault.fake_transit import FakeTransit
from tradeoff.privacy.keys import KeyProvider, KeyringError, SupportsRewrap, WrappedKey
from tradeoff.privacy.vault.vault_transit import VaultTransitKeyProvider, token_from_file

ADDR = "https://vault.test:8200"


@pytest.fixture
def transit() -> FakeTransit:
    return FakeTransit()


@pytest.fixture
def provider(transit: FakeTransit) -> VaultTransitKeyProvider:
    return VaultTransitKeyProvider(ADDR, "s.root", transport=httpx.MockTransport(transit.handler))


def test_is_a_key_provider(provider: VaultTransitKeyProvider) -> None:
    typed: KeyProvider = provider
    assert isinstance(typed, SupportsRewrap)


def test_wrap_creates_the_tenant_key_then_encrypts(provider: VaultTransitKeyProvider, transit: FakeTransit) -> None:
    dek = bytes(range(32))
    wrapped = provider.wrap("t1", dek)
    assert wrapped.kek_version == 1
    assert wrapped.blob.startswith(b"vault:v1:")
    calls = [(r.method, r.url.path) for r in transit.requests]
    assert calls == [
        ("GET", "/v1/transit/keys/tradeoff-t1"),
        ("POST", "/v1/transit/keys/tradeoff-t1"),
        ("POST", "/v1/transit/encrypt/tradeoff-t1"),
    ]
    encrypt = transit.requests[-1]
    assert json.loads(encrypt.content) == {"plaintext": base64.b64encode(dek).decode()}
    assert encrypt.headers["X-Vault-Token"] == "s.root"
    assert "X-Vault-Namespace" not in encrypt.headers
    assert provider.unwrap("t1", wrapped) == dek
    decrypt = transit.requests[-1]
    assert decrypt.url.path == "/v1/transit/decrypt/tradeoff-t1"
    assert json.loads(decrypt.content) == {"ciphertext": wrapped.blob.decode()}


def test_existing_key_is_not_recreated(provider: VaultTransitKeyProvider, transit: FakeTransit) -> None:
    transit.keys["tradeoff-t1"] = 3
    assert provider.wrap("t1", b"k" * 32).kek_version == 3
    provider.wrap("t1", b"k" * 32)
    assert [r.method for r in transit.requests] == ["GET", "POST", "POST"]  # one GET, two encrypts


def test_rotate_and_rewrap(provider: VaultTransitKeyProvider, transit: FakeTransit) -> None:
    old = provider.wrap("t1", b"k" * 32)
    assert provider.current_version("t1") == 1
    assert provider.rotate("t1") == 2
    rotate = [r for r in transit.requests if r.url.path.endswith("/rotate")]
    assert [(r.method, r.url.path) for r in rotate] == [("POST", "/v1/transit/keys/tradeoff-t1/rotate")]
    new = provider.rewrap("t1", old)
    assert transit.requests[-1].url.path == "/v1/transit/rewrap/tradeoff-t1"
    assert json.loads(transit.requests[-1].content) == {"ciphertext": old.blob.decode()}
    assert new.kek_version == 2 and new.blob.startswith(b"vault:v2:")
    assert provider.unwrap("t1", new) == provider.unwrap("t1", old) == b"k" * 32


def test_mac_uses_a_separate_pinned_key_and_binds_the_purpose(
    provider: VaultTransitKeyProvider, transit: FakeTransit
) -> None:
    digest = provider.mac("t1", "token:email", b"a@b.example")
    request = transit.requests[-1]
    assert request.url.path == "/v1/transit/hmac/tradeoff-t1-mac/sha2-256"
    body = json.loads(request.content)
    assert body["key_version"] == 1
    assert base64.b64decode(body["input"]) == struct.pack(">H", 11) + b"token:email" + b"a@b.example"
    assert len(digest) == 32
    assert provider.mac("t1", "token:email", b"a@b.example") == digest
    assert provider.mac("t1", "token:loyalty_id", b"a@b.example") != digest
    transit.keys["tradeoff-t1-mac"] += 1  # someone rotated the MAC key: tokens must not change
    assert provider.mac("t1", "token:email", b"a@b.example") == digest


def test_namespace_header(transit: FakeTransit) -> None:
    provider = VaultTransitKeyProvider(
        ADDR, "s.root", namespace="retail/", transport=httpx.MockTransport(transit.handler)
    )
    provider.wrap("t1", b"k" * 32)
    assert all(r.headers["X-Vault-Namespace"] == "retail/" for r in transit.requests)


def test_errors_become_keyring_errors_with_vault_messages(transit: FakeTransit) -> None:
    provider = VaultTransitKeyProvider(ADDR, "wrong", transport=httpx.MockTransport(transit.handler))
    with pytest.raises(KeyringError, match="HTTP 403 permission denied"):
        provider.wrap("t1", b"k" * 32)


def test_transport_failure_is_a_keyring_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    provider = VaultTransitKeyProvider(ADDR, "s.root", transport=httpx.MockTransport(down))
    with pytest.raises(KeyringError, match="connection refused"):
        provider.current_version("t1")


def test_wrapped_key_must_match_its_version(provider: VaultTransitKeyProvider) -> None:
    wrapped = provider.wrap("t1", b"k" * 32)
    with pytest.raises(KeyringError, match="not a Vault v2 ciphertext"):
        provider.unwrap("t1", WrappedKey(2, wrapped.blob))


def test_unsafe_tenant_ids_cannot_name_keys(provider: VaultTransitKeyProvider) -> None:
    with pytest.raises(KeyringError, match="cannot name a Vault key"):
        provider.wrap("../sys/seal", b"k" * 32)


def test_token_file_is_read_at_each_request(tmp_path: Path, transit: FakeTransit) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s.root\n")
    provider = VaultTransitKeyProvider(
        ADDR, token_from_file(token_file), transport=httpx.MockTransport(transit.handler)
    )
    provider.wrap("t1", b"k" * 32)
    token_file.write_text("s.renewed\n")
    transit.token = "s.renewed"
    provider.wrap("t1", b"k" * 32)
    assert transit.requests[-1].headers["X-Vault-Token"] == "s.renewed"


def test_empty_addr_or_token_is_refused(transit: FakeTransit) -> None:
    with pytest.raises(KeyringError, match="TRADEOFF_VAULT_ADDR"):
        VaultTransitKeyProvider("", "s.root")
    provider = VaultTransitKeyProvider(ADDR, "", transport=httpx.MockTransport(transit.handler))
    with pytest.raises(KeyringError, match="no Vault token"):
        provider.wrap("t1", b"k" * 32)
