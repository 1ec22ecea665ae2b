"""The audit chain's pure parts: canonical form, MACs, input checks, signatures and the off-database file."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradeoff.core.errors import InvalidInput
from tradeoff.privacy.audit.chain import (
    GENESIS,
    AuditEntry,
    canonical_entry,
    check_action,
    check_actor,
    check_details,
    entry_mac,
    mac_of,
    subject_ref,
)
from tradeoff.privacy.audit.signing import Checkpoint, CheckpointFile, SigningKeys
from tradeoff.privacy.keys import KeyringError, LocalKeyProvider

AT = datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeyProvider:
    return LocalKeyProvider(tmp_path / "keys" / "keyring.json")


def _entry(keys: LocalKeyProvider, **changes: object) -> AuditEntry:
    fields: dict[str, object] = {
        "tenant_id": "t1",
        "seq": 1,
        "recorded_at": AT,
        "actor": "user-1",
        "action": "dsr.export",
        "subject_ref": subject_ref(keys, "t1", "subject-9"),
        "details": {"format": "json", "tables": 3},
    }
    fields.update(changes)
    canonical = canonical_entry(**fields)  # type: ignore[arg-type]
    mac = entry_mac(keys, prev_mac=GENESIS, canonical=canonical, tenant_id=str(fields["tenant_id"])).hex()
    return AuditEntry(**fields, prev_mac=GENESIS.hex(), mac=mac)  # type: ignore[arg-type]


def test_canonical_form_is_sorted_compact_and_zone_independent() -> None:
    base = {"tenant_id": "t", "seq": 3, "actor": "a", "action": "x.y", "subject_ref": None}
    one = canonical_entry(**base, recorded_at=AT, details={"b": 1, "a": {"z": 1, "y": 2}})  # type: ignore[arg-type]
    other_zone = AT.astimezone(datetime.now().astimezone().tzinfo)
    two = canonical_entry(**base, recorded_at=other_zone, details={"a": {"y": 2, "z": 1}, "b": 1})  # type: ignore[arg-type]
    assert one == two
    assert b'"details":{"a":{"y":2,"z":1},"b":1}' in one
    assert b"2026-12-01T09:30:00.123456+00:00" in one


def test_mac_binds_position_tenant_and_content(keys: LocalKeyProvider) -> None:
    entry = _entry(keys)
    assert mac_of(keys, entry) == entry.mac
    assert mac_of(keys, entry, seq=2) != entry.mac  # renumbering is detected
    moved = AuditEntry(**_as_dict(entry, tenant_id="t2"))
    assert mac_of(keys, moved) != entry.mac  # another tenant (and another key)
    edited = AuditEntry(**_as_dict(entry, details={"format": "csv", "tables": 3}))
    assert mac_of(keys, edited) != entry.mac


def _as_dict(entry: AuditEntry, **changes: object) -> dict[str, object]:
    values = {name: getattr(entry, name) for name in AuditEntry.__slots__}  # type: ignore[attr-defined]
    values.update(changes)
    return values


def test_subject_ref_is_a_keyed_mac_not_the_id(keys: LocalKeyProvider, tmp_path: Path) -> None:
    ref = subject_ref(keys, "t1", "subject-9")
    assert "subject-9" not in ref and len(ref) == 64
    assert ref == subject_ref(keys, "t1", "subject-9")
    assert ref != subject_ref(keys, "t2", "subject-9")
    other_keys = LocalKeyProvider(tmp_path / "other" / "keyring.json")
    assert ref != subject_ref(other_keys, "t1", "subject-9")  # without the keyring it cannot be recomputed


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"email": "x"}, "details.email"),
        ({"note": "write to ann@example.com"}, "details.note"),
        ({"card": "4111 1111 1111 1111"}, "details.card"),
        ({"nested": [{"subject_id": "s"}]}, "details.nested[0].subject_id"),
        ({"ratio": float("nan")}, "details.ratio"),
        ({"blob": "x" * 9000}, "details"),
        ({"tags": {"a", "b"}}, "details"),  # not plain JSON
    ],
)
def test_details_refuse_personal_or_odd_data(details: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_details(details)
    assert caught.value.field == field


def test_details_accept_operational_facts() -> None:
    value = {"query": "zone-visits/site=01J9ZX4/day=2026-12-01", "tables": ["consent", "sightings"], "n": 2.5}
    assert check_details(value) == value
    assert check_details(None) == {}


def test_actor_and_action_shapes() -> None:
    assert check_action("consent.changed") == "consent.changed"
    assert check_actor("system") == "system"
    for bad in ("Consent", "consent", "consent.", "a" * 70 + ".b"):
        with pytest.raises(InvalidInput):
            check_action(bad)
    for bad_actor in ("", "ann@example.com", "x" * 200, "tab\there"):
        with pytest.raises(InvalidInput):
            check_actor(bad_actor)


def test_checkpoint_signatures_verify_and_forgeries_fail(tmp_path: Path) -> None:
    signing = SigningKeys(tmp_path / "keys")
    cp = signing.sign(tenant_id="t1", seq=10, mac="ab" * 32, signed_at=AT)
    trusted = signing.trusted_keys()
    assert list(trusted) == [cp.key_id]
    assert signing.check(cp, trusted) is None
    for forged in (
        Checkpoint(cp.tenant_id, 11, cp.mac, cp.signed_at, cp.key_id, cp.signature),
        Checkpoint(cp.tenant_id, cp.seq, "cd" * 32, cp.signed_at, cp.key_id, cp.signature),
        Checkpoint("t2", cp.seq, cp.mac, cp.signed_at, cp.key_id, cp.signature),
        Checkpoint(cp.tenant_id, cp.seq, cp.mac, cp.signed_at, cp.key_id, "00" * 64),
        Checkpoint(cp.tenant_id, cp.seq, cp.mac, cp.signed_at, cp.key_id, "not hex"),
    ):
        assert signing.check(forged, trusted) == "signature does not verify"
    stranger = SigningKeys(tmp_path / "elsewhere").sign(tenant_id="t1", seq=10, mac=cp.mac, signed_at=AT)
    assert "unknown key" in (signing.check(stranger, trusted) or "")


def test_signing_key_is_private_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    first = SigningKeys(directory).signing_key()[0]
    assert SigningKeys(directory).signing_key()[0] == first
    key_file = directory / "audit-signing-key.pem"
    assert key_file.stat().st_mode & 0o077 == 0
    os.chmod(key_file, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        SigningKeys(directory).signing_key()


def test_checkpoint_file_appends_lines_and_reports_garbage(tmp_path: Path) -> None:
    signing = SigningKeys(tmp_path / "keys")
    file = CheckpointFile(tmp_path / "keys" / "audit-checkpoints.jsonl")
    assert file.read().checkpoints == []
    one = signing.sign(tenant_id="t1", seq=5, mac="ab" * 32, signed_at=AT)
    two = signing.sign(tenant_id="t2", seq=7, mac="cd" * 32, signed_at=AT)
    file.append(one)
    with file.path.open("a") as handle:
        handle.write("{not json\n")
    file.append(two)
    contents = file.read()
    assert contents.checkpoints == [one, two]
    assert contents.unreadable == [2]
    assert file.path.stat().st_mode & 0o077 == 0
