"""Signed checkpoints and where they live outside the database.

The Ed25519 signing key is a PEM file next to the keyring (mode 0600); its public key is also written to
``audit-public-keys/<key_id>.pem`` so a verifier can trust retired keys after a rotation. Every
checkpoint is appended as one JSON line to an off-database file (fsync'd) as well as to the
``audit_checkpoints`` table: a database-only attacker can cut the log's tail and the table, but not the file.
Ship the file off the box (log shipping, WORM bucket) for protection against a host-level attacker.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tradeoff.privacy.keys import KeyringError

SIGNING_KEY_FILE = "audit-signing-key.pem"
PUBLIC_KEYS_DIR = "audit-public-keys"
CHECKPOINT_FILE = "audit-checkpoints.jsonl"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    tenant_id: str
    seq: int
    mac: str  # hex MAC of entry ``seq``
    signed_at: datetime
    key_id: str
    signature: str  # hex Ed25519 signature over ``payload()``

    def payload(self) -> bytes:
        return checkpoint_payload(self.tenant_id, self.seq, self.mac, self.signed_at, self.key_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "tenant_id": self.tenant_id,
            "seq": self.seq,
            "mac": self.mac,
            "signed_at": _iso(self.signed_at),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, value: Any) -> Checkpoint:
        if not isinstance(value, dict):
            raise ValueError("a checkpoint is a JSON object")
        signed_at = datetime.fromisoformat(str(value["signed_at"]))
        if signed_at.tzinfo is None:
            raise ValueError("signed_at has no timezone")
        seq = value["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError("seq is not an integer")
        return cls(
            tenant_id=str(value["tenant_id"]),
            seq=seq,
            mac=str(value["mac"]),
            signed_at=signed_at.astimezone(UTC),
            key_id=str(value["key_id"]),
            signature=str(value["signature"]),
        )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def checkpoint_payload(tenant_id: str, seq: int, mac: str, signed_at: datetime, key_id: str) -> bytes:
    document = {
        "v": 1,
        "kind": "tradeoff-audit-checkpoint",
        "tenant_id": tenant_id,
        "seq": seq,
        "mac": mac,
        "signed_at": _iso(signed_at),
        "key_id": key_id,
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


class SigningKeys:
    """The checkpoint signing key (created on first use) and the public keys a verifier trusts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.private_path = directory / SIGNING_KEY_FILE
        self.public_dir = directory / PUBLIC_KEYS_DIR
        self._key: tuple[str, Ed25519PrivateKey] | None = None

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        if self._key is None:
            key = self._load() if self.private_path.exists() else self._create()
            key_id = key_id_of(key.public_key())
            self._publish(key_id, key.public_key())
            self._key = (key_id, key)
        return self._key

    def sign(self, *, tenant_id: str, seq: int, mac: str, signed_at: datetime) -> Checkpoint:
        key_id, key = self.signing_key()
        signature = key.sign(checkpoint_payload(tenant_id, seq, mac, signed_at, key_id)).hex()
        return Checkpoint(tenant_id, seq, mac, signed_at.astimezone(UTC), key_id, signature)

    def trusted_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every public key in ``audit-public-keys/`` (current and retired), by key id."""
        found: dict[str, Ed25519PublicKey] = {}
        if self.public_dir.is_dir():
            for path in sorted(self.public_dir.glob("*.pem")):
                public = serialization.load_pem_public_key(path.read_bytes())
                if isinstance(public, Ed25519PublicKey):
                    found[key_id_of(public)] = public
        return found

    def check(self, checkpoint: Checkpoint, trusted: dict[str, Ed25519PublicKey]) -> str | None:
        """None when the signature is valid under a trusted key, else why not."""
        public = trusted.get(checkpoint.key_id)
        if public is None:
            return f"signed by unknown key {checkpoint.key_id!r}"
        try:
            public.verify(bytes.fromhex(checkpoint.signature), checkpoint.payload())
        except (InvalidSignature, ValueError):
            return "signature does not verify"
        return None

    def _load(self) -> Ed25519PrivateKey:
        mode = self.private_path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"{self.private_path} is readable by others (mode {stat.filemode(mode)}); chmod 600 it")
        key = serialization.load_pem_private_key(self.private_path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyringError(f"{self.private_path} is not an Ed25519 private key")
        return key

    def _create(self) -> Ed25519PrivateKey:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(self.private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return self._load()
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(self.directory)
        return key

    def _publish(self, key_id: str, public: Ed25519PublicKey) -> None:
        path = self.public_dir / f"{key_id}.pem"
        if path.exists():
            return
        self.public_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        os.replace(tmp, path)
        _fsync_dir(self.public_dir)


@dataclass(frozen=True, slots=True)
class FileContents:
    checkpoints: list[Checkpoint]
    unreadable: list[int]  # line numbers (1-based) that are not a checkpoint


class CheckpointFile:
    """Append-only JSON lines outside the database; each append is one write, flock'd and fsync'd."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        created = not self.path.exists()
        line = orjson.dumps(checkpoint.to_json(), option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock
        if created:
            _fsync_dir(self.path.parent)

    def read(self) -> FileContents:
        if not self.path.exists():
            return FileContents([], [])
        checkpoints: list[Checkpoint] = []
        unreadable: list[int] = []
        for number, line in enumerate(self.path.read_bytes().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                checkpoints.append(Checkpoint.from_json(orjson.loads(line)))
            except (ValueError, KeyError, TypeError):
                unreadable.append(number)
        return FileContents(checkpoints, unreadable)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
