"""The shared real DEX samples (``$TRADEOFF_SHARED_DATA/dex``, by default ../shared/data/dex)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.shared_data import shared_data

DEX_DIR = shared_data("dex")

KIKKO_70 = "NW_BlueRed_Pc54601_20191230144918.daa"
KIKKO_71 = "NW_BlueRed_Pc54601_20191230145020.daa"


def sample_path(name: str) -> Path:
    found = sorted(DEX_DIR.glob(f"*/{name}"))
    if not found:
        pytest.skip(f"DEX sample {name} not found under {DEX_DIR}")
    return found[0]


def sample(name: str) -> bytes:
    return sample_path(name).read_bytes()


def all_samples() -> list[Path]:
    return sorted(path for path in DEX_DIR.glob("*/*") if path.name != "README.md")
