"""Where the shared sample data lives (DEX audits, CVRPLIB/IRP instances, BLE RSSI, GS1 vectors).

``$TRADEOFF_SHARED_DATA`` first, then ``../shared/data`` beside the checkout, then the workspace's
``/work/shared/data`` (a CI clone elsewhere still finds it). Tests skip with the path when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_data(*parts: str) -> Path:
    candidates = [Path(p) for p in (os.environ.get("TRADEOFF_SHARED_DATA"),) if p]
    candidates += [REPO.parent / "shared" / "data", Path("/work/shared/data")]
    for base in candidates:
        if base.joinpath(*parts).exists():
            return base.joinpath(*parts)
    return candidates[0].joinpath(*parts)
