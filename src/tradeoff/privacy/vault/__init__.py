"""The vault: per-subject envelope encryption (AES-256-GCM), keyed tokens, KEK rotation and
crypto-shredding with an erasure ledger kept outside the database. See ``docs/privacy-vault.md``."""

from tradeoff.privacy.vault.erasure_ledger import (
    ErasedSubject,
    ErasureHook,
    ErasureLedger,
    ReplayReport,
    register_erasure_hook,
)
from tradeoff.privacy.vault.errors import DecryptionError, MalformedCiphertext, SubjectKeyDestroyed
from tradeoff.privacy.vault.service import RotationReport, ShredReport, Vault
from tradeoff.privacy.vault.tokens import TokenKind

__all__ = [
    "DecryptionError",
    "ErasedSubject",
    "ErasureHook",
    "ErasureLedger",
    "MalformedCiphertext",
    "ReplayReport",
    "RotationReport",
    "ShredReport",
    "SubjectKeyDestroyed",
    "TokenKind",
    "Vault",
    "register_erasure_hook",
]
