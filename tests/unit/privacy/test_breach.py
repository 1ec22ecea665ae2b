"""The breach drill's scanner finds what it must and counts it per kind."""

from pathlib import Path

from tradeoff.privacy.breach import Artifact, files_under, load_planted, scan


def test_scan_counts_each_kind_and_masks_samples() -> None:
    leaky = Artifact(
        "dump.sql",
        b"card 4111 1111 1111 1111, mail ann@example.com, tel +44 20 7946 0958, mac AA:BB:CC:DD:EE:FF, "
        b"key tk_0123456789ab_abcdefghijklmnopqrstuvwxyz, device PHONE-OF-ANN",
    )
    report = scan([leaky], planted={"device_id": ["phone-of-ann"], "name": ["Zelda Quux"]})
    assert report.counts == {"pan": 1, "email": 1, "phone": 1, "mac": 1, "secret": 1, "device_id": 1, "name": 0}
    assert not report.clean
    assert all("4111 1111 1111 1111" not in f.sample for f in report.findings)


def test_scan_of_clean_data_is_clean() -> None:
    clean = Artifact("dump.sql", b"seq 1 2026-11-29 10:00:00 gw-1 4111111111111112 01a225d59f7819284a07b3fa29e90bf5")
    report = scan([clean])
    assert report.clean and report.artifacts == ["dump.sql"]


def test_files_and_plants(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_text("x")
    (tmp_path / "planted.json").write_text('{"name": ["Zelda Quux"]}')
    assert [a.name for a in files_under([tmp_path / "logs", tmp_path / "missing"])] == [
        str(tmp_path / "logs" / "a.log")
    ]
    assert load_planted(tmp_path / "planted.json") == {"name": ["Zelda Quux"]}
    assert load_planted(tmp_path / "none.json") == {}
