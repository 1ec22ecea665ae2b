"""The personal-data registry: every table holding a data subject's rows, found from the column flags.

Nothing here lists tables by hand. A table is in the registry when it has a ``tenant_id`` column and a
column declared with ``classified(..., subject_key=True)`` (it holds the subject id) or
``classified(..., pseudonym_key=True)`` (it holds the subject's keyed pseudonym, ``ps_…``/``pd_…``).
Export and erasure walk the registry, so a new capability table is covered the moment it declares its key.

What erasure does to a registry table is the table's ``info["dsr_erase"]`` (default ``delete``):

- ``delete``: the subject's rows are deleted;
- ``close``: the row stays as a closed tombstone (``closed_at`` set); used by ``subjects``, whose random
  id and token verifier make the app token answer 410 and the gate drop later events;
- ``shred``: ``Vault.shred`` deletes the rows (``subject_keys``).

The rule ``check_tables`` enforces (``tests/unit/privacy/dsr``): a table with a column classified
``personal`` or ``pseudonymous`` declares a subject or pseudonym key, unless it is one of
``HANDLED_OTHERWISE``, whose rows are found another way (documented there and in ``docs/privacy-dsr.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Column, LargeBinary, Table

from tradeoff.platform.db.columns import PrivacyClass


class ErasureRule(StrEnum):
    DELETE = "delete"
    CLOSE = "close"
    SHRED = "shred"


HANDLED_OTHERWISE: Mapping[str, str] = {
    "events": (
        "shopper events name the subject only by keyed pseudonym in payload.subject (ps_… stable, pd_… daily); "
        "found through Pseudonymizer.all_pseudonyms, exported under 'events' and deleted on erasure"
    ),
    "dead_letters": (
        "rejected raw input, scrubbed and kept 30 days for diagnosis; a message may mix several people, so it "
        "is not exported; erasure deletes the tenant's dead letters whose raw bytes contain the subject id"
    ),
    "audit_log": (
        "names subjects only by a keyed MAC (subject_ref); kept (6 years) as the proof of consent changes, "
        "exports and the erasure itself; the subject's entries are listed in the export under 'audit'"
    ),
}

SENSITIVE = (PrivacyClass.PERSONAL, PrivacyClass.PSEUDONYMOUS)


@dataclass(frozen=True)
class PersonalTable:
    """One registry table and how the subject's rows are found in it."""

    table: Table
    key: Column[Any]  # the subject-key or pseudonym-key column
    by_pseudonym: bool
    erasure: ErasureRule
    time_column: Column[Any] | None  # ``info["time_column"]``: replays spare rows newer than the erasure
    row_id: Column[Any] | None  # what encrypted values are bound to (the primary key or ``info["row_id"]``)

    @property
    def name(self) -> str:
        return str(self.table.name)  # a plain str (SQLAlchemy's quoted_name is not a JSON key for orjson)

    @property
    def exported(self) -> list[Column[Any]]:
        """Every column but operational secrets (token verifiers, wrapped keys)."""
        return [column for column in self.table.columns if not column.info.get("secret")]

    @property
    def encrypted(self) -> frozenset[str]:
        return frozenset(column.name for column in self.table.columns if column.info.get("encrypted"))

    @property
    def order_by(self) -> list[Column[Any]]:
        return list(self.table.primary_key.columns) or [self.key]


@dataclass(frozen=True)
class PersonalDataRegistry:
    tables: tuple[PersonalTable, ...]

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.tables]

    def get(self, name: str) -> PersonalTable:
        for entry in self.tables:
            if entry.name == name:
                return entry
        raise KeyError(name)


def key_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if c.info.get("subject_key") or c.info.get("pseudonym_key")]


def _row_id(table: Table) -> Column[Any] | None:
    named = table.info.get("row_id")
    if isinstance(named, str) and named in table.c:
        return table.c[named]
    primary = list(table.primary_key.columns)
    return primary[0] if len(primary) == 1 else None


def build_registry(tables: Iterable[Table] | None = None) -> PersonalDataRegistry:
    """The registry over ``tables`` (default: every table of every package, ``all_metadata()``)."""
    if tables is None:
        from tradeoff.platform.db.registry import all_metadata

        tables = all_metadata().sorted_tables
    found = []
    for table in sorted(tables, key=lambda t: t.name):
        keys = key_columns(table)
        if table.name in HANDLED_OTHERWISE or "tenant_id" not in table.c or len(keys) != 1:
            continue
        time_name = table.info.get("time_column")
        found.append(
            PersonalTable(
                table=table,
                key=keys[0],
                by_pseudonym=bool(keys[0].info.get("pseudonym_key")),
                erasure=ErasureRule(table.info.get("dsr_erase", ErasureRule.DELETE)),
                time_column=table.c[time_name] if isinstance(time_name, str) and time_name in table.c else None,
                row_id=_row_id(table),
            )
        )
    return PersonalDataRegistry(tuple(found))


@cache
def default_registry() -> PersonalDataRegistry:
    return build_registry()


def check_tables(tables: Iterable[Table]) -> list[str]:
    """Problems with how tables declare personal data (empty when every rule holds)."""
    problems: list[str] = []
    seen: set[str] = set()
    for table in tables:
        seen.add(table.name)
        keys = key_columns(table)
        sensitive = [c.name for c in table.columns if c.info.get("privacy") in SENSITIVE]
        if sensitive and not keys and table.name not in HANDLED_OTHERWISE:
            problems.append(
                f"{table.name}: columns {sensitive} are personal/pseudonymous but no column is declared "
                "subject_key=True (or pseudonym_key=True); declare it, or add the table to HANDLED_OTHERWISE "
                "with how its rows are exported and erased"
            )
        if len(keys) > 1:
            problems.append(f"{table.name}: more than one subject/pseudonym key column {[c.name for c in keys]}")
        if keys and "tenant_id" not in table.c:
            problems.append(f"{table.name}: a table with a subject/pseudonym key needs a tenant_id column")
        for column in keys:
            if column.info.get("subject_key") and column.info.get("pseudonym_key"):
                problems.append(f"{table.name}.{column.name}: subject_key and pseudonym_key are exclusive")
            if column.info.get("secret") or column.info.get("encrypted"):
                problems.append(f"{table.name}.{column.name}: a key column can be neither secret nor encrypted")
        rule = table.info.get("dsr_erase", ErasureRule.DELETE)
        if rule not in {r.value for r in ErasureRule}:
            problems.append(
                f"{table.name}: info['dsr_erase'] = {rule!r} is not one of {[r.value for r in ErasureRule]}"
            )
        elif rule == ErasureRule.CLOSE and "closed_at" not in table.c:
            problems.append(f"{table.name}: dsr_erase 'close' needs a closed_at column")
        problems.extend(_check_encryption(table, keys))
    stale = sorted(set(HANDLED_OTHERWISE) - seen)
    if stale:
        problems.append(f"HANDLED_OTHERWISE names tables that do not exist: {stale}")
    return problems


def _check_encryption(table: Table, keys: list[Column[Any]]) -> list[str]:
    problems = []
    for column in table.columns:
        where = f"{table.name}.{column.name}"
        encrypted = bool(column.info.get("encrypted"))
        if column.info.get("privacy") is PrivacyClass.PERSONAL and not encrypted:
            problems.append(f"{where}: personal data must be stored as vault ciphertext (encrypted=True)")
        if not encrypted:
            continue
        if column.info.get("privacy") is not PrivacyClass.PERSONAL:
            problems.append(f"{where}: an encrypted column is classified personal")
        if not isinstance(column.type, LargeBinary):
            problems.append(f"{where}: vault ciphertext is stored in a LargeBinary column")
        if not any(key.info.get("subject_key") for key in keys):
            problems.append(f"{where}: encrypted under a subject's key, so the table needs a subject_key column")
        if _row_id(table) is None:
            problems.append(f"{where}: ciphertext is bound to a row id: a one-column primary key or info['row_id']")
    return problems
