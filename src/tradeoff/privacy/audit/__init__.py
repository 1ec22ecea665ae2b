"""Tamper-evident audit chain: consent changes, DSR exports and erasures, key operations, staff reads of
personal data and releases go to a per-tenant HMAC chain with signed checkpoints kept outside the database.
See ``docs/privacy-audit-and-release.md``."""

from tradeoff.privacy.audit.chain import Action, AuditEntry, subject_ref
from tradeoff.privacy.audit.service import entries_for_subject, read_entries, record
from tradeoff.privacy.audit.signing import Checkpoint, CheckpointFile, SigningKeys
from tradeoff.privacy.audit.trail import AuditCheckpointer, AuditTrail
from tradeoff.privacy.audit.verify import Break, BreakKind, TenantReport, VerifyReport, verify

__all__ = [
    "Action",
    "AuditCheckpointer",
    "AuditEntry",
    "AuditTrail",
    "Break",
    "BreakKind",
    "Checkpoint",
    "CheckpointFile",
    "SigningKeys",
    "TenantReport",
    "VerifyReport",
    "entries_for_subject",
    "read_entries",
    "record",
    "subject_ref",
    "verify",
]
