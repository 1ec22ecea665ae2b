"""Key providers: where tenant key-encryption keys and MAC keys live — never in the database.

The database holds only wrapped data keys, ciphertext and MACs. A provider wraps/unwraps data keys
under a versioned per-tenant KEK and computes per-tenant, per-purpose HMACs. ``LocalKeyProvider``
keeps a keyring file outside the database (refusing one that others can read);
``privacy.vault.vault_transit.VaultTransitKeyProvider`` keeps the keys in HashiCorp Vault's Transit
engine for scale-out (see ``docs/privacy-vault.md``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

try:  # POSIX: serialize keyring updates between processes (several servers, the CLI)
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per keyring
    fcntl = None  # type: ignore[assignment]


class KeyringError(Exception):
    """The keyring is missing, unreadable or unsafe; nothing personal can be read or written."""


@dataclass(frozen=True, slots=True)
class WrappedKey:
    kek_version: int
    blob: bytes


class KeyProvider(Protocol):
    def wrap(self, tenant_id: str, key: bytes) -> WrappedKey: ...

    def unwrap(self, tenant_id: str, wrapped: WrappedKey) -> bytes: ...

    def current_version(self, tenant_id: str) -> int: ...

    def rotate(self, tenant_id: str) -> int:
        """Make a new KEK version current; old versions stay for unwrapping until re-wrapped."""
        ...

    def mac(self, tenant_id: str, purpose: str, data: bytes) -> bytes:
        """HMAC-SHA256 under a key specific to (tenant, purpose): pseudonyms, tokens, audit chain."""
        ...


@runtime_checkable
class SupportsRewrap(Protocol):
    """Optional: re-wrap a data key under the current KEK without handing the plaintext key out
    (Vault Transit ``rewrap``). Providers without it are re-wrapped as unwrap + wrap."""

    def rewrap(self, tenant_id: str, wrapped: WrappedKey) -> WrappedKey: ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalKeyProvider:
    """A JSON keyring file (mode 0600, outside the database and its backups).

    Several processes may share the file (servers, ``tradeoff privacy rotate-keys``): updates take an
    exclusive ``flock`` on ``<keyring>.lock`` and re-read the file first, and every process re-reads the
    file when it changed on disk, so a KEK rotated by another process is seen without a restart.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._data: dict[str, Any] | None = None
        self._signature: tuple[int, int, int, int] | None = None
        self._mac_keys: dict[tuple[str, str], bytes] = {}

    def _load(self, *, force: bool = False) -> dict[str, Any]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if self._signature is not None:
                raise KeyringError(f"keyring {self.path} disappeared; restore it (no key was created)") from None
            if self._data is None:
                self._data = {"tenants": {}}
            return self._data
        signature = (st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode)  # a chmod is noticed too
        if self._data is not None and signature == self._signature and not force:
            return self._data
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"{self.path} is readable by others (mode {stat.filemode(st.st_mode)}); chmod 600 it")
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise KeyringError(f"cannot read keyring {self.path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("tenants"), dict):
            raise KeyringError(f"keyring {self.path} has no 'tenants' object")
        self._data, self._signature = data, signature
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)  # a lost KEK loses every subject's data: make the rename durable
        st = self.path.stat()
        self._data, self._signature = data, (st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode)

    @contextmanager
    def _exclusive(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under the thread lock and an inter-process file lock, on fresh data."""
        with self._lock:
            if fcntl is None:  # pragma: no cover
                yield self._load(force=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield self._load(force=True)
            finally:
                os.close(fd)  # closing releases the lock

    def _tenant(self, tenant_id: str) -> dict[str, Any]:
        with self._lock:
            tenant = self._load()["tenants"].get(tenant_id)
            if tenant is None:
                with self._exclusive() as data:
                    tenant = data["tenants"].get(tenant_id)
                    if tenant is None:  # nobody else created it meanwhile
                        tenant = {
                            "current": 1,
                            "keks": {"1": _b64(secrets.token_bytes(32))},
                            "mac_root": _b64(secrets.token_bytes(32)),
                        }
                        data["tenants"][tenant_id] = tenant
                        self._save(data)
            return dict(tenant)

    def _kek(self, tenant_id: str, version: int) -> bytes:
        try:
            return base64.b64decode(self._tenant(tenant_id)["keks"][str(version)])
        except KeyError:
            raise KeyringError(f"tenant {tenant_id} has no key version {version}") from None

    def current_version(self, tenant_id: str) -> int:
        return int(self._tenant(tenant_id)["current"])

    def wrap(self, tenant_id: str, key: bytes) -> WrappedKey:
        tenant = self._tenant(tenant_id)
        version = int(tenant["current"])
        return WrappedKey(version, aes_key_wrap(base64.b64decode(tenant["keks"][str(version)]), key))

    def unwrap(self, tenant_id: str, wrapped: WrappedKey) -> bytes:
        return aes_key_unwrap(self._kek(tenant_id, wrapped.kek_version), wrapped.blob)

    def rewrap(self, tenant_id: str, wrapped: WrappedKey) -> WrappedKey:
        return self.wrap(tenant_id, self.unwrap(tenant_id, wrapped))

    def rotate(self, tenant_id: str) -> int:
        self._tenant(tenant_id)
        with self._exclusive() as data:
            tenant = data["tenants"][tenant_id]
            version = max(int(v) for v in tenant["keks"]) + 1
            tenant["keks"][str(version)] = _b64(secrets.token_bytes(32))
            tenant["current"] = version
            self._save(data)
            return version

    def mac(self, tenant_id: str, purpose: str, data: bytes) -> bytes:
        key = self._mac_keys.get((tenant_id, purpose))
        if key is None:
            root = base64.b64decode(self._tenant(tenant_id)["mac_root"])
            key = hmac.new(root, f"tradeoff/{purpose}".encode(), hashlib.sha256).digest()
            self._mac_keys[(tenant_id, purpose)] = key
        return hmac.new(key, data, hashlib.sha256).digest()
