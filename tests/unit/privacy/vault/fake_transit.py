"""A stand-in for Vault's Transit HTTP API (request and response shapes as in Vault's API reference):
versioned keys, encrypt/decrypt/rewrap and hmac. Records every request so tests can assert on them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class FakeTransit:
    """Just enough of Transit: versioned keys, encrypt/decrypt/rewrap, hmac; records every request."""

    token: str = "s.root"
    keys: dict[str, int] = field(default_factory=dict)  # name → latest version
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("X-Vault-Token") != self.token:
            return httpx.Response(403, json={"errors": ["permission denied"]})
        parts = request.url.path.split("/")  # ['', 'v1', 'transit', op, name, ...]
        assert parts[:3] == ["", "v1", "transit"], request.url.path
        op, name = parts[3], parts[4]
        body: dict[str, Any] = json.loads(request.content) if request.content else {}
        if op == "keys" and request.method == "GET":
            if name not in self.keys:
                return httpx.Response(404, json={"errors": []})
            versions = {str(v): 1442851412 for v in range(1, self.keys[name] + 1)}
            return httpx.Response(
                200, json={"data": {"name": name, "keys": versions, "latest_version": self.keys[name]}}
            )
        if op == "keys" and len(parts) == 5:
            assert body == {"type": "aes256-gcm96"}
            self.keys.setdefault(name, 1)
            return httpx.Response(204)
        if op == "keys" and parts[5] == "rotate":
            self.keys[name] += 1
            return httpx.Response(204)
        if op == "encrypt":
            return self._ciphertext(name, self.keys[name], base64.b64decode(body["plaintext"]))
        if op == "decrypt":
            version, plaintext = self._open(name, body["ciphertext"])
            return httpx.Response(200, json={"data": {"plaintext": base64.b64encode(plaintext).decode()}})
        if op == "rewrap":
            _, plaintext = self._open(name, body["ciphertext"])
            return self._ciphertext(name, self.keys[name], plaintext)
        if op == "hmac":
            assert parts[5] == "sha2-256"
            key = f"{name}/v{body['key_version']}".encode()
            digest = hmac.new(key, base64.b64decode(body["input"]), hashlib.sha256).digest()
            return httpx.Response(
                200, json={"data": {"hmac": f"vault:v{body['key_version']}:" + base64.b64encode(digest).decode()}}
            )
        return httpx.Response(404, json={"errors": []})

    def _ciphertext(self, name: str, version: int, plaintext: bytes) -> httpx.Response:
        sealed = base64.b64encode(f"{name}|{version}|".encode() + plaintext[::-1]).decode()
        return httpx.Response(200, json={"data": {"ciphertext": f"vault:v{version}:{sealed}"}})

    def _open(self, name: str, ciphertext: str) -> tuple[int, bytes]:
        _, version, sealed = ciphertext.split(":", 2)
        key_name, key_version, body = base64.b64decode(sealed).split(b"|", 2)
        assert key_name.decode() == name and key_version.decode() == version[1:]
        return int(version[1:]), body[::-1]
