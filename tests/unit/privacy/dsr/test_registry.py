"""The personal-data registry: found from the column flags, and the rule that every table holding personal
or pseudonymous data says how a data subject's rows are found in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import LargeBinary, MetaData, String, Table

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.registry import all_metadata
from tradeoff.privacy.dsr import HANDLED_OTHERWISE, ErasureRule, build_registry, check_tables, default_registry
from tradeoff.privacy.dsr.export import json_value

OPS, PSEUDO, PERSONAL = PrivacyClass.OPERATIONAL, PrivacyClass.PSEUDONYMOUS, PrivacyClass.PERSONAL


def _table(name: str, *columns: Any, **info: Any) -> Table:
    return Table(name, MetaData(), classified("id", String(32), primary_key=True, privacy=OPS), *columns, info=info)


def _tenant() -> Any:
    return classified("tenant_id", String(32), nullable=False, privacy=OPS)


def test_every_table_with_personal_data_declares_how_its_subject_is_found() -> None:
    """The gate for new tables: declare subject_key / pseudonym_key, or document the table in
    HANDLED_OTHERWISE (docs/privacy-dsr.md)."""
    assert check_tables(all_metadata().sorted_tables) == []


def test_the_default_registry() -> None:
    registry = default_registry()
    assert registry.names == [
        "consent_records",
        "offer_coupons",
        "offer_decisions",
        "offer_outbox",
        "offer_preferences",
        "offer_receipts",
        "presence_visits",
        "subject_keys",
        "subjects",
    ]
    assert registry.get("subjects").erasure is ErasureRule.CLOSE
    assert registry.get("subject_keys").erasure is ErasureRule.SHRED
    assert registry.get("consent_records").erasure is ErasureRule.DELETE
    assert not set(registry.names) & set(HANDLED_OTHERWISE)
    assert [c.name for c in registry.get("subjects").exported] == ["subject_id", "tenant_id", "created_at", "closed_at"]
    assert "wrapped_dek" not in [c.name for c in registry.get("subject_keys").exported]
    # every table the erasure ledger's replay searches for subject ids is in the registry; the others in it
    # are found through the subject's pseudonym (replay derives it from a subject id found in the former)
    tables = {t.name: t for t in all_metadata().sorted_tables if "tenant_id" in t.c}
    with_subjects = {name for name, t in tables.items() if any(c.info.get("subject_key") for c in t.columns)}
    with_pseudonyms = {name for name, t in tables.items() if any(c.info.get("pseudonym_key") for c in t.columns)}
    assert with_subjects <= set(registry.names)
    assert set(registry.names) - with_subjects == with_pseudonyms


def test_a_table_with_pseudonymous_data_and_no_key_fails_the_rule() -> None:
    visits = _table("visits", _tenant(), classified("zone", String(32), privacy=PSEUDO))
    (problem,) = check_tables([*all_metadata().sorted_tables, visits])
    assert problem.startswith("visits: columns ['zone'] are personal/pseudonymous") and "subject_key" in problem

    keyed = _table(
        "visits",
        _tenant(),
        classified("zone", String(32), privacy=PSEUDO),
        classified("pseudonym", String(40), privacy=PSEUDO, pseudonym_key=True),
    )
    assert check_tables([*all_metadata().sorted_tables, keyed]) == []
    entry = build_registry([keyed]).get("visits")
    assert entry.by_pseudonym and entry.key.name == "pseudonym" and entry.erasure is ErasureRule.DELETE


def test_operational_tables_need_nothing() -> None:
    devices = _table("gadgets", _tenant(), classified("name", String(32), privacy=OPS))
    assert check_tables([*all_metadata().sorted_tables, devices]) == []
    assert build_registry([devices]).tables == ()


def test_personal_data_must_be_vault_ciphertext_bound_to_a_subject_and_row() -> None:
    plain = _table(
        "people",
        _tenant(),
        classified("subject_id", String(32), privacy=PSEUDO, subject_key=True),
        classified("email", String(200), privacy=PERSONAL),
    )
    problems = check_tables([*all_metadata().sorted_tables, plain])
    assert problems == ["people.email: personal data must be stored as vault ciphertext (encrypted=True)"]

    text_column = _table(
        "people",
        _tenant(),
        classified("subject_id", String(32), privacy=PSEUDO, subject_key=True),
        classified("email", String(200), privacy=PERSONAL, encrypted=True),
    )
    assert check_tables([*all_metadata().sorted_tables, text_column]) == [
        "people.email: vault ciphertext is stored in a LargeBinary column"
    ]
    by_pseudonym = _table(
        "people",
        _tenant(),
        classified("pseudonym", String(40), privacy=PSEUDO, pseudonym_key=True),
        classified("email", LargeBinary(), privacy=PERSONAL, encrypted=True),
    )
    assert check_tables([*all_metadata().sorted_tables, by_pseudonym]) == [
        "people.email: encrypted under a subject's key, so the table needs a subject_key column"
    ]
    composite = Table(
        "people",
        MetaData(),
        classified("tenant_id", String(32), primary_key=True, privacy=OPS),
        classified("subject_id", String(32), primary_key=True, privacy=PSEUDO, subject_key=True),
        classified("email", LargeBinary(), privacy=PERSONAL, encrypted=True),
    )
    assert check_tables([*all_metadata().sorted_tables, composite]) == [
        "people.email: ciphertext is bound to a row id: a one-column primary key or info['row_id']"
    ]
    composite.info["row_id"] = "subject_id"
    assert check_tables([*all_metadata().sorted_tables, composite]) == []
    assert build_registry([composite]).get("people").row_id is composite.c.subject_id


def test_key_declarations_are_checked() -> None:
    no_tenant = _table("orphans", classified("subject_id", String(32), privacy=PSEUDO, subject_key=True))
    two_keys = _table(
        "twice",
        _tenant(),
        classified("a", String(32), privacy=PSEUDO, subject_key=True),
        classified("b", String(32), privacy=PSEUDO, pseudonym_key=True),
    )
    bad_rule = _table(
        "rules", _tenant(), classified("s", String(32), privacy=PSEUDO, subject_key=True), dsr_erase="shrug"
    )
    no_closed = _table(
        "shut", _tenant(), classified("s", String(32), privacy=PSEUDO, subject_key=True), dsr_erase="close"
    )
    problems = check_tables([*all_metadata().sorted_tables, no_tenant, two_keys, bad_rule, no_closed])
    assert problems == [
        "orphans: a table with a subject/pseudonym key needs a tenant_id column",
        "twice: more than one subject/pseudonym key column ['a', 'b']",
        "rules: info['dsr_erase'] = 'shrug' is not one of ['delete', 'close', 'shred']",
        "shut: dsr_erase 'close' needs a closed_at column",
    ]
    assert build_registry([no_tenant, two_keys]).tables == ()


def test_the_allow_list_names_existing_tables_only() -> None:
    tables = [t for t in all_metadata().sorted_tables if t.name != "dead_letters"]
    assert check_tables(tables) == ["HANDLED_OTHERWISE names tables that do not exist: ['dead_letters']"]


def test_json_values() -> None:
    assert json_value(datetime(2026, 11, 30, 8, tzinfo=UTC)) == "2026-11-30T08:00:00+00:00"
    assert json_value(b"\x00\xff") == {"base64": "AP8="}
    assert json_value(memoryview(b"ab")) == {"base64": "YWI="}
    assert json_value({"a": [1, None]}) == {"a": [1, None]}
