"""Shared fixtures: the Archetti instances in the shared data folder and a tiny hand-checkable instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.shared_data import shared_data
from tradeoff.vending.irp import Instance, parse_instance

DATA = shared_data("irp")
ARCHETTI = DATA / "archetti2007"


def archetti(folder: str, name: str) -> Path:
    path = ARCHETTI / folder / f"{name}.dat"
    if not path.is_file():
        pytest.skip(f"shared IRP data not found at {path}")
    return path


TINY = """3 2 100
1 0 0 50 30 0.1
2 3 4 10 40 0 10 0.5
3 6 8 20 30 0 20 1
"""


@pytest.fixture
def tiny() -> Instance:
    """Supplier at (0,0); retailers at distance 5 and 10 (5 apart); H=2, C=100."""
    return parse_instance(TINY, name="tiny")
