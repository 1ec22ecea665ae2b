"""Retention: delete what is past the period its column declares.

Each column declares ``retention_days`` (``None``: kept while its row is). A table with such columns
names the column its age is measured by in ``Table.info["time_column"]``. A nullable column past its
period is blanked; a required one takes its row with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Engine, MetaData, Table, delete, update

from tradeoff.platform.db.engine import write_transaction


@dataclass(frozen=True, slots=True)
class RetentionRule:
    table: Table
    column: Column[object]
    days: int
    time_column: Column[object]

    @property
    def deletes_rows(self) -> bool:
        return not self.column.nullable

    def describe(self) -> str:
        action = "delete rows" if self.deletes_rows else f"clear {self.column.name}"
        return f"{self.table.name}: {action} older than {self.days} days (by {self.time_column.name})"


class RetentionConfigError(Exception):
    """A column declares a retention period but its table says nothing about how old a row is."""


def retention_rules(metadata: MetaData) -> list[RetentionRule]:
    rules = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            days = column.info.get("retention_days")
            if days is None:
                continue
            time_name = table.info.get("time_column")
            if time_name is None or time_name not in table.c:
                raise RetentionConfigError(f"{table.name}.{column.name} has a retention period but no time_column")
            rules.append(RetentionRule(table, column, int(days), table.c[time_name]))
    return rules


def apply_retention(engine: Engine, metadata: MetaData, *, now: datetime) -> dict[str, int]:
    """Run every rule in its own transaction; returns rows affected per rule description."""
    affected: dict[str, int] = {}
    for rule in retention_rules(metadata):
        cutoff = now - timedelta(days=rule.days)
        with write_transaction(engine) as conn:
            if rule.deletes_rows:
                result = conn.execute(delete(rule.table).where(rule.time_column < cutoff))
            else:
                result = conn.execute(
                    update(rule.table)
                    .where(rule.time_column < cutoff, rule.column.is_not(None))
                    .values({rule.column.name: None})
                )
        affected[rule.describe()] = result.rowcount
    return affected
