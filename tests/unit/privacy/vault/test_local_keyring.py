"""The local keyring: refused when others can read it, shared safely between processes."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from tradeoff.privacy.keys import KeyringError, LocalKeyProvider, SupportsRewrap, WrappedKey


def test_group_readable_keyring_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    LocalKeyProvider(path).current_version("t1")
    os.chmod(path, 0o644)
    with pytest.raises(KeyringError, match="readable by others"):
        LocalKeyProvider(path).wrap("t1", b"k" * 32)


def test_new_keyring_is_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    LocalKeyProvider(path).current_version("t1")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o077 == 0


def test_rotation_in_another_instance_is_seen(tmp_path: Path) -> None:
    """A server process sees the KEK version a `rotate-keys` process created, without a restart."""
    path = tmp_path / "keyring.json"
    server, operator = LocalKeyProvider(path), LocalKeyProvider(path)
    old = server.wrap("t1", b"k" * 32)
    assert operator.rotate("t1") == 2
    new = operator.wrap("t1", b"k" * 32)
    assert server.current_version("t1") == 2
    assert server.unwrap("t1", new) == b"k" * 32
    assert server.unwrap("t1", old) == b"k" * 32


def test_rewrap_moves_to_the_current_version(tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path / "keyring.json")
    assert isinstance(provider, SupportsRewrap)
    wrapped = provider.wrap("t1", b"k" * 32)
    provider.rotate("t1")
    rewrapped = provider.rewrap("t1", wrapped)
    assert rewrapped.kek_version == 2
    assert provider.unwrap("t1", rewrapped) == b"k" * 32


def test_missing_version_is_a_keyring_error(tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path / "keyring.json")
    wrapped = provider.wrap("t1", b"k" * 32)
    with pytest.raises(KeyringError, match="no key version 7"):
        provider.unwrap("t1", WrappedKey(7, wrapped.blob))


def test_vanished_keyring_is_not_silently_replaced(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    provider = LocalKeyProvider(path)
    provider.current_version("t1")
    path.unlink()
    with pytest.raises(KeyringError, match="disappeared"):
        provider.current_version("t2")
    assert not path.exists()


def _create_tenant_keys(path: str, tenant: str, queue: multiprocessing.Queue[tuple[str, bytes]]) -> None:
    provider = LocalKeyProvider(Path(path))
    queue.put((tenant, provider.wrap(tenant, b"k" * 32).blob))


def test_concurrent_first_use_in_several_processes_yields_one_kek(tmp_path: Path) -> None:
    """Processes creating the same tenant's keys at once must not overwrite each other's KEK: every key
    any of them wrapped still unwraps under the keyring that survives."""
    path = tmp_path / "keyring.json"
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[str, bytes]] = ctx.Queue()
    workers = [ctx.Process(target=_create_tenant_keys, args=(str(path), f"t{i % 3}", queue)) for i in range(9)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert set(json.loads(path.read_text())["tenants"]) == {"t0", "t1", "t2"}
    provider = LocalKeyProvider(path)
    for tenant, blob in results:
        assert provider.unwrap(tenant, WrappedKey(1, blob)) == b"k" * 32


def test_a_keyring_opened_up_while_in_use_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    provider = LocalKeyProvider(path)
    provider.current_version("t1")
    os.chmod(path, 0o640)
    with pytest.raises(KeyringError, match="readable by others"):
        provider.current_version("t1")
