"""The erasure ledger file: private, append-only, MACs instead of subject ids, torn tails tolerated."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tradeoff.privacy.keys import LocalKeyProvider
from tradeoff.privacy.vault.erasure_ledger import ErasureLedger, LedgerError

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> ErasureLedger:
    provider = LocalKeyProvider(tmp_path / "keys" / "keyring.json")
    return ErasureLedger(tmp_path / "keys" / "erasures.log", provider)


def test_entries_hold_a_mac_not_the_subject_id(ledger: ErasureLedger) -> None:
    entry = ledger.append("t1", "subject-42", erased_at=T0)
    text = ledger.path.read_text()
    assert "subject-42" not in text
    record = json.loads(text)
    assert record == {"v": 1, "tenant_id": "t1", "subject_mac": entry.subject_mac, "erased_at": T0.isoformat()}
    assert len(entry.subject_mac) == 64
    assert entry.subject_mac == ledger.subject_mac("t1", "subject-42")
    assert entry.subject_mac != ledger.subject_mac("t2", "subject-42")


def test_file_is_private(ledger: ErasureLedger) -> None:
    ledger.append("t1", "s1", erased_at=T0)
    assert ledger.path.stat().st_mode & 0o777 == 0o600


def test_accessible_ledger_is_refused(ledger: ErasureLedger) -> None:
    ledger.append("t1", "s1", erased_at=T0)
    os.chmod(ledger.path, 0o644)
    with pytest.raises(LedgerError, match="chmod 600"):
        ledger.append("t1", "s2", erased_at=T0)
    with pytest.raises(LedgerError, match="chmod 600"):
        ledger.entries()


def test_latest_erasure_wins(ledger: ErasureLedger) -> None:
    ledger.append("t1", "s1", erased_at=T0)
    ledger.append("t1", "s1", erased_at=T0 + timedelta(days=1))
    ledger.append("t1", "s2", erased_at=T0)
    erased = ledger.erased()
    assert erased[("t1", ledger.subject_mac("t1", "s1"))] == T0 + timedelta(days=1)
    assert len(erased) == 2


def test_torn_last_line_is_ignored_and_the_next_append_starts_clean(ledger: ErasureLedger) -> None:
    ledger.append("t1", "s1", erased_at=T0)
    with ledger.path.open("ab") as handle:
        handle.write(b'{"v":1,"tenant_id":"t1","subj')  # a crash mid-append
    assert [e.tenant_id for e in ledger.entries()] == ["t1"]
    ledger.append("t1", "s2", erased_at=T0)
    assert len(ledger.entries()) == 2


def test_corruption_in_the_middle_is_an_error(ledger: ErasureLedger) -> None:
    ledger.append("t1", "s1", erased_at=T0)
    with ledger.path.open("ab") as handle:
        handle.write(b"garbage\n")
    ledger.append("t1", "s2", erased_at=T0)
    with pytest.raises(LedgerError, match=r"erasures\.log:2"):
        ledger.entries()


def test_naive_times_are_refused(ledger: ErasureLedger) -> None:
    with pytest.raises(ValueError, match="timezone"):
        ledger.append("t1", "s1", erased_at=datetime(2026, 1, 1))


def test_missing_ledger_means_no_erasures(ledger: ErasureLedger) -> None:
    assert ledger.entries() == []
