"""Key providers: where tenant key-encryption keys and MAC keys live — never in the database.

The database holds only wrapped data keys, ciphertext and MACs. A provider wraps/unwraps data keys
under a versioned per-tenant KEK and computes per-tenant, per-purpose HMACs. ``LocalKeyProvider``
keeps a keyring file outside the database (refusing one that others can read);
``docs/privacy.md`` describes the HashiCorp Vault Transit provider for scale-out.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap


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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class LocalKeyProvider:
    """A JSON keyring file (mode 0600, outside the database and its backups)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] | None = None
        self._mac_keys: dict[tuple[str, str], bytes] = {}

    def _load(self) -> dict[str, Any]:
        if self._data is not None:
            return self._data
        if not self.path.exists():
            self._data = {"tenants": {}}
            return self._data
        mode = self.path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"{self.path} is readable by others (mode {stat.filemode(mode)}); chmod 600 it")
        try:
            self._data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise KeyringError(f"cannot read keyring {self.path}: {exc}") from exc
        return self._data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def _tenant(self, tenant_id: str) -> dict[str, Any]:
        with self._lock:
            data = self._load()
            tenant = data["tenants"].get(tenant_id)
            if tenant is None:
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
        version = self.current_version(tenant_id)
        return WrappedKey(version, aes_key_wrap(self._kek(tenant_id, version), key))

    def unwrap(self, tenant_id: str, wrapped: WrappedKey) -> bytes:
        return aes_key_unwrap(self._kek(tenant_id, wrapped.kek_version), wrapped.blob)

    def rotate(self, tenant_id: str) -> int:
        self._tenant(tenant_id)
        with self._lock:
            data = self._load()
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
