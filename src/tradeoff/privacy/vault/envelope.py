"""Envelope format (pure: no I/O). AES-256-GCM under a per-subject data key (DEK).

Ciphertext layout, version ``v1`` (all integers big-endian)::

    offset  size  field
    0       2     format marker  b"v1"
    2       4     key_version    the subject's DEK generation (uint32)
    6       12    nonce          random per message
    18      n+16  AES-GCM output plaintext (n bytes) encrypted, followed by the 16-byte tag

so a ciphertext is ``len(plaintext) + 34`` bytes. The associated data (authenticated, not stored) is::

    b"tradeoff/vault/v1" || header(6 bytes) || for each of tenant_id, subject_id, table, column, row_id:
        uint32 length || UTF-8 bytes

Length prefixes make the encoding injective (no two different contexts give the same bytes), so a
ciphertext copied to another tenant, subject, table, column or row — or with any byte of header, nonce,
body or tag changed, truncated or extended — fails GCM authentication and raises ``DecryptionError``.
Random 96-bit nonces: stay below ~2^32 messages per DEK (one subject never gets near that).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradeoff.privacy.vault.errors import DecryptionError, MalformedCiphertext

FORMAT_V1 = b"v1"
HEADER = struct.Struct(">2sI")
NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = HEADER.size + NONCE_SIZE + TAG_SIZE
DEK_SIZE = 32
MAX_KEY_VERSION = 2**31 - 1  # the key_version column is a 32-bit signed integer
_AAD_LABEL = b"tradeoff/vault/v1"
_FIELD = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class CipherContext:
    """Where a ciphertext belongs. Decryption must name the same place it was encrypted for."""

    tenant_id: str
    subject_id: str
    table: str
    column: str
    row_id: str

    def associated_data(self, header: bytes) -> bytes:
        parts = [_AAD_LABEL, header]
        for value in (self.tenant_id, self.subject_id, self.table, self.column, self.row_id):
            encoded = value.encode("utf-8")
            parts.append(_FIELD.pack(len(encoded)))
            parts.append(encoded)
        return b"".join(parts)


def new_dek() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(dek: bytes, key_version: int, plaintext: bytes, context: CipherContext) -> bytes:
    """Encrypt ``plaintext`` for ``context`` under ``dek`` (generation ``key_version``)."""
    if not 1 <= key_version <= MAX_KEY_VERSION:
        raise ValueError(f"key_version must be in 1..{MAX_KEY_VERSION}, got {key_version}")
    header = HEADER.pack(FORMAT_V1, key_version)
    nonce = os.urandom(NONCE_SIZE)
    body = AESGCM(dek).encrypt(nonce, plaintext, context.associated_data(header))
    return header + nonce + body


def key_version_of(ciphertext: bytes) -> int:
    """The DEK generation a ciphertext names (to find its key). Not authenticated until ``unseal``."""
    if len(ciphertext) < OVERHEAD:
        raise MalformedCiphertext(f"not a vault ciphertext: {len(ciphertext)} bytes, at least {OVERHEAD} needed")
    marker, key_version = HEADER.unpack_from(ciphertext)
    if marker != FORMAT_V1:
        raise MalformedCiphertext(f"unknown ciphertext format {marker!r} (expected {FORMAT_V1!r})")
    if not 1 <= key_version <= MAX_KEY_VERSION:  # also keeps a corrupted header out of database queries
        raise MalformedCiphertext(f"key version {key_version} is outside 1..{MAX_KEY_VERSION}")
    return int(key_version)


def unseal(dek: bytes, ciphertext: bytes, context: CipherContext) -> bytes:
    """Decrypt, or raise ``DecryptionError``: never returns data that was not sealed for ``context``."""
    key_version_of(ciphertext)
    header = ciphertext[: HEADER.size]
    nonce = ciphertext[HEADER.size : HEADER.size + NONCE_SIZE]
    body = ciphertext[HEADER.size + NONCE_SIZE :]
    try:
        return AESGCM(dek).decrypt(nonce, body, context.associated_data(header))
    except InvalidTag:
        raise DecryptionError(
            f"ciphertext for {context.table}.{context.column} row {context.row_id!r} failed authentication: "
            "tampered with, or it belongs to another tenant, subject, table, column or row"
        ) from None
