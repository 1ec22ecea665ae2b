"""Data-subject export (GDPR Art. 15 access and Art. 20 portability): everything held about one subject,
as one JSON document, driven by the personal-data registry.

Shape (``format`` ``tradeoff-dsr/1``)::

    {"format": "tradeoff-dsr/1", "subject_id": …, "tenant_id": …, "exported_at": ISO-8601,
     "tables": {"<table>": [{column: value, …}, …], …},   # every registry table, [] when empty
     "events": [{seq, event_id, type, schema_version, source, occurred_at, received_at, transport,
                 payload, …}, …],                          # by seq
     "audit": [{seq, recorded_at, actor, action, details}, …]}   # what was done with the data

Values: datetimes are ISO-8601 strings; vault ciphertext (``encrypted=True`` columns) is decrypted, to a
string when it is UTF-8 text and ``{"base64": …}`` otherwise; other bytes are ``{"base64": …}``; a value
that does not decrypt is ``{"undecryptable": "<code>"}``. Operational secrets (``secret=True`` columns:
token verifiers, wrapped keys) are left out.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import NotFound
from tradeoff.privacy.audit.service import entries_for_subject
from tradeoff.privacy.dsr import locate
from tradeoff.privacy.dsr.registry import PersonalDataRegistry, PersonalTable, default_registry
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.subjects.service import SubjectErased
from tradeoff.privacy.subjects.store import subjects
from tradeoff.privacy.vault.errors import DecryptionError
from tradeoff.privacy.vault.service import Vault

FORMAT = "tradeoff-dsr/1"


def require_subject(conn: Connection, *, tenant_id: str, subject_id: str, registry: PersonalDataRegistry) -> None:
    """``SubjectErased`` (410) for an erased subject; ``NotFound`` (404) when nothing names the subject."""
    row = conn.execute(
        select(subjects.c.closed_at).where(subjects.c.tenant_id == tenant_id, subjects.c.subject_id == subject_id)
    ).first()
    if row is not None:
        if row.closed_at is not None:
            raise SubjectErased(row.closed_at)
        return
    for entry in registry.tables:  # a subject known to another capability (e.g. only to the vault)
        if entry.by_pseudonym:
            continue
        table = entry.table
        query = select(entry.key).where(table.c.tenant_id == tenant_id, entry.key == subject_id).limit(1)
        if conn.execute(query).first() is not None:
            return
    raise NotFound("no such subject in this tenant")


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def _plaintext(data: bytes) -> Any:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


def _export_row(
    conn: Connection, entry: PersonalTable, row: dict[str, Any], *, tenant_id: str, subject_id: str, vault: Vault
) -> dict[str, Any]:
    encrypted = entry.encrypted
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name in encrypted and value is not None and entry.row_id is not None:
            try:
                plain = vault.decrypt(
                    tenant_id,
                    subject_id,
                    bytes(value),
                    table=entry.name,
                    column=name,
                    row_id=str(row[entry.row_id.name]),
                    conn=conn,
                )
            except DecryptionError as exc:
                out[name] = {"undecryptable": exc.code}
                continue
            out[name] = _plaintext(plain)
        else:
            out[name] = json_value(value)
    return out


def export_subject(
    conn: Connection,
    *,
    tenant_id: str,
    subject_id: str,
    vault: Vault,
    registry: PersonalDataRegistry | None = None,
    audit_keys: KeyProvider | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The subject's data in every registry table, their events and their audit entries, read in ``conn``.

    ``audit_keys`` is the audit trail's key provider (default: the vault's, which the server shares)."""
    registry = registry or default_registry()
    require_subject(conn, tenant_id=tenant_id, subject_id=subject_id, registry=registry)
    pseudonyms = locate.subject_pseudonyms(
        conn, keys=vault.provider, tenant_id=tenant_id, subject_id=subject_id, registry=registry
    )
    tables: dict[str, list[dict[str, Any]]] = {}
    for entry in registry.tables:
        rows = locate.select_rows(conn, entry, tenant_id=tenant_id, subject_id=subject_id, pseudonyms=pseudonyms)
        tables[entry.name] = [
            _export_row(conn, entry, row, tenant_id=tenant_id, subject_id=subject_id, vault=vault) for row in rows
        ]
    events = [
        {name: json_value(value) for name, value in row.items()}
        for row in locate.select_events(conn, tenant_id=tenant_id, pseudonyms=pseudonyms)
    ]
    audit = [
        {
            "seq": entry.seq,
            "recorded_at": entry.recorded_at.isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "details": dict(entry.details),
        }
        for entry in entries_for_subject(
            conn, keys=audit_keys or vault.provider, tenant_id=tenant_id, subject_id=subject_id
        )
    ]
    return {
        "format": FORMAT,
        "subject_id": subject_id,
        "tenant_id": tenant_id,
        "exported_at": (at or utcnow()).isoformat(),
        "tables": tables,
        "events": events,
        "audit": audit,
    }


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """Counts only (what the audit entry of an export records): no values, no ids."""
    return {
        "tables": {name: len(rows) for name, rows in document["tables"].items()},
        "events": len(document["events"]),
    }
