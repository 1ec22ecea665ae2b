"""Every stored column declares a privacy class and a retention (design rule; issue 3 builds on it)."""

from tradeoff.platform.db.columns import PrivacyClass
from tradeoff.platform.db.registry import all_metadata


def test_every_column_is_classified() -> None:
    missing = [
        f"{table.name}.{column.name}"
        for table in all_metadata().tables.values()
        for column in table.columns
        if not isinstance(column.info.get("privacy"), PrivacyClass) or "retention_days" not in column.info
    ]
    assert missing == []


def test_metadata_is_not_empty() -> None:
    assert {"tenants", "events", "dead_letters", "api_keys"} <= set(all_metadata().tables)
