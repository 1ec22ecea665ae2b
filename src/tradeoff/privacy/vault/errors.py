"""What the vault raises. Decryption never returns wrong data: it returns the plaintext or raises."""

from __future__ import annotations

from tradeoff.core.errors import TradeoffError


class DecryptionError(TradeoffError):
    """The ciphertext cannot be decrypted here: malformed, tampered with, moved to another
    tenant/subject/table/column/row, or its subject's data key is gone."""

    code = "undecryptable"
    status = 500


class MalformedCiphertext(DecryptionError):
    """Not a vault ciphertext at all (wrong format marker, too short)."""


class SubjectKeyDestroyed(DecryptionError):
    """The subject's data key no longer exists: the subject was erased (crypto-shredded), or the
    ciphertext names a key version this subject never had."""

    code = "subject_erased"
    status = 410
