"""The vault's table: each subject's data keys, wrapped by the tenant's KEK (which is never stored here).

One row per DEK generation of a subject. Crypto-shredding deletes the subject's rows: with them goes
the only copy of the keys, so every ciphertext of the subject becomes unreadable, including copies in
backups of the data tables. No tombstone is kept (it would keep the subject id after erasure); the
erasure ledger outside the database records the erasure under a MAC of the subject id.
"""

from __future__ import annotations

from sqlalchemy import Integer, LargeBinary, String, Table

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS

subject_keys = Table(
    "subject_keys",
    metadata,
    classified("tenant_id", String(32), primary_key=True, privacy=OPS),
    # The data subject (an internal id or pseudonym, never a name or e-mail); erasure finds the row by it.
    classified("subject_id", String(128), primary_key=True, privacy=PSEUDO, subject_key=True),
    classified("key_version", Integer(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("kek_version", Integer(), nullable=False, privacy=OPS),
    # Key material, useless without the tenant KEK; deleted (not exported) when the subject is erased.
    classified("wrapped_dek", LargeBinary(), nullable=False, privacy=OPS, secret=True),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    # Erasure: ``Vault.shred`` deletes these rows (and the erasure ledger spares keys made afterwards).
    info={"time_column": "created_at", "dsr_erase": "shred"},
)
