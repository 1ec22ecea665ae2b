"""``KeyProvider`` over HashiCorp Vault's Transit engine (or OpenBao): the KEKs never leave Vault.

Per tenant two Transit keys (``aes256-gcm96``), created on first use:

* ``<prefix><tenant_id>`` wraps data keys: ``POST /v1/<mount>/encrypt/<key>`` (base64 plaintext DEK →
  ``vault:v<N>:…``, stored as the wrapped blob with ``kek_version = N``), ``decrypt`` to unwrap,
  ``rewrap`` to move a wrapped DEK to the latest version without the DEK leaving Vault, and
  ``keys/<key>/rotate`` to rotate;
* ``<prefix><tenant_id>-mac`` computes HMAC-SHA256: ``POST /v1/<mount>/hmac/<key>/sha2-256`` pinned to
  ``key_version`` 1, so tokens, pseudonyms and ledger MACs never change when someone rotates it. The
  purpose is bound into the input (``uint16 length || purpose || data``).

Every request carries ``X-Vault-Token`` (and ``X-Vault-Namespace`` when set). See ``docs/privacy-vault.md``.
"""

from __future__ import annotations

import base64
import re
import ssl
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tradeoff.privacy.keys import KeyringError, WrappedKey

_CIPHERTEXT = re.compile(r"^vault:v(\d+):")
_NAME_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAC_KEY_VERSION = 1


def token_from_file(path: Path) -> Callable[[], str]:
    """Read the token at every request: Vault Agent keeps renewing the file it writes."""

    def read() -> str:
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise KeyringError(f"cannot read the Vault token file {path}: {exc}") from exc

    return read


class VaultTransitKeyProvider:
    def __init__(
        self,
        addr: str,
        token: str | Callable[[], str],
        *,
        mount: str = "transit",
        key_prefix: str = "tradeoff-",
        namespace: str = "",
        timeout: float = 10.0,
        verify: bool | ssl.SSLContext = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not addr:
            raise KeyringError("TRADEOFF_VAULT_ADDR is not set")
        self._token = token if callable(token) else (lambda: token)
        self.mount = mount.strip("/")
        self.key_prefix = key_prefix
        headers = {"X-Vault-Namespace": namespace} if namespace else {}
        self._client = httpx.Client(
            base_url=addr.rstrip("/"), timeout=timeout, verify=verify, headers=headers, transport=transport
        )
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    # --- HTTP ---------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"/v1/{self.mount}/{path}"
        token = self._token()
        if not token:
            raise KeyringError("no Vault token (TRADEOFF_VAULT_TOKEN or TRADEOFF_VAULT_TOKEN_FILE)")
        try:
            response = self._client.request(method, url, json=body, headers={"X-Vault-Token": token})
        except httpx.HTTPError as exc:
            raise KeyringError(f"Vault {method} {url}: {exc}") from exc
        if response.status_code == 404:
            raise _NotFound(f"Vault {method} {url}: not found")
        if response.status_code >= 400:
            raise KeyringError(f"Vault {method} {url}: HTTP {response.status_code} {_errors(response)}")
        if response.status_code == 204 or not response.content:
            return {}
        try:
            payload = response.json()
        except ValueError as exc:
            raise KeyringError(f"Vault {method} {url}: response is not JSON") from exc
        data = payload.get("data") if isinstance(payload, dict) else None
        return data if isinstance(data, dict) else {}

    def _ensure(self, name: str) -> None:
        """Create the Transit key unless it exists (once per process and key)."""
        if name in self._ready:
            return
        with self._lock:
            if name in self._ready:
                return
            try:
                self._request("GET", f"keys/{name}")
            except _NotFound:
                self._request("POST", f"keys/{name}", {"type": "aes256-gcm96"})
            self._ready.add(name)

    def key_name(self, tenant_id: str) -> str:
        if not _NAME_SAFE.match(tenant_id):
            raise KeyringError(f"tenant id {tenant_id!r} cannot name a Vault key")
        return f"{self.key_prefix}{tenant_id}"

    def mac_key_name(self, tenant_id: str) -> str:
        return f"{self.key_name(tenant_id)}-mac"

    # --- KeyProvider --------------------------------------------------------------------------------

    def current_version(self, tenant_id: str) -> int:
        name = self.key_name(tenant_id)
        self._ensure(name)
        data = self._request("GET", f"keys/{name}")
        if "latest_version" in data:
            return int(data["latest_version"])
        versions = data.get("keys")
        if isinstance(versions, dict) and versions:
            return max(int(v) for v in versions)
        raise KeyringError(f"Vault key {name} reports no versions")

    def wrap(self, tenant_id: str, key: bytes) -> WrappedKey:
        name = self.key_name(tenant_id)
        self._ensure(name)
        data = self._request("POST", f"encrypt/{name}", {"plaintext": base64.b64encode(key).decode()})
        return _wrapped(data, name)

    def unwrap(self, tenant_id: str, wrapped: WrappedKey) -> bytes:
        name = self.key_name(tenant_id)
        _check_blob(wrapped)
        data = self._request("POST", f"decrypt/{name}", {"ciphertext": wrapped.blob.decode("ascii")})
        try:
            return base64.b64decode(str(data["plaintext"]), validate=True)
        except (KeyError, ValueError) as exc:
            raise KeyringError(f"Vault decrypt/{name}: no plaintext in the response") from exc

    def rewrap(self, tenant_id: str, wrapped: WrappedKey) -> WrappedKey:
        name = self.key_name(tenant_id)
        _check_blob(wrapped)
        data = self._request("POST", f"rewrap/{name}", {"ciphertext": wrapped.blob.decode("ascii")})
        return _wrapped(data, name)

    def rotate(self, tenant_id: str) -> int:
        name = self.key_name(tenant_id)
        self._ensure(name)
        self._request("POST", f"keys/{name}/rotate")
        return self.current_version(tenant_id)

    def mac(self, tenant_id: str, purpose: str, data: bytes) -> bytes:
        name = self.mac_key_name(tenant_id)
        self._ensure(name)
        label = purpose.encode("utf-8")
        message = struct.pack(">H", len(label)) + label + data
        body = {"input": base64.b64encode(message).decode(), "key_version": MAC_KEY_VERSION}
        result = self._request("POST", f"hmac/{name}/sha2-256", body)
        value = str(result.get("hmac", ""))
        encoded = value.split(":", 2)[2] if value.startswith("vault:") else value
        try:
            digest = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise KeyringError(f"Vault hmac/{name}: unreadable hmac in the response") from exc
        if len(digest) != 32:
            raise KeyringError(f"Vault hmac/{name}: expected a 32-byte HMAC-SHA256, got {len(digest)} bytes")
        return digest


class _NotFound(KeyringError):
    pass


def _errors(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text[:200]
    return "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""


def _wrapped(data: dict[str, Any], name: str) -> WrappedKey:
    ciphertext = str(data.get("ciphertext", ""))
    match = _CIPHERTEXT.match(ciphertext)
    if match is None:
        raise KeyringError(f"Vault {name}: expected a 'vault:v<N>:…' ciphertext in the response")
    return WrappedKey(int(match.group(1)), ciphertext.encode("ascii"))


def _check_blob(wrapped: WrappedKey) -> None:
    match = _CIPHERTEXT.match(wrapped.blob.decode("ascii", errors="replace"))
    if match is None or int(match.group(1)) != wrapped.kek_version:
        raise KeyringError(f"wrapped key is not a Vault v{wrapped.kek_version} ciphertext")
