"""A synthetic store for tests: a grid of cells, beacons on a log-distance path-loss model, surveyed visits.

The true cell of every scan is known, so a model's accuracy on it is a check, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeoff.presence.model.layout import cell_xy


@dataclass(frozen=True)
class Survey:
    beacons: tuple[str, ...]
    matrix: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    times: np.ndarray


def cell_label(column: int, row: int) -> str:
    return f"{chr(ord('A') + column)}{row:02d}"


def survey(
    *,
    columns: int = 5,
    rows: int = 4,
    visits: int = 3,
    scans_per_visit: int = 5,
    noise_db: float = 2.0,
    hearing_floor: float = -85.0,
    seed: int = 0,
) -> Survey:
    """Each cell visited ``visits`` times (a day apart), ``scans_per_visit`` scans 2 s apart per visit."""
    rng = np.random.default_rng(seed)
    beacon_xy = np.array(
        [
            [0.0, 1.0],
            [columns - 1.0, 1.0],
            [0.0, float(rows)],
            [columns - 1.0, float(rows)],
            [(columns - 1) / 2, (rows + 1) / 2],
        ]
    )
    beacons = tuple(f"b{i + 1}" for i in range(len(beacon_xy)))
    matrix, labels, groups, times = [], [], [], []
    group = 0
    for visit in range(visits):
        for column in range(columns):
            for row in range(1, rows + 1):
                label = cell_label(column, row)
                xy = np.array(cell_xy(label))
                offset = rng.normal(0, 1.0, len(beacons))  # the phone held differently on this visit
                start = visit * 86_400.0 + (column * rows + row) * 60.0
                for scan in range(scans_per_visit):
                    metres = np.maximum(np.linalg.norm(beacon_xy - xy, axis=1) * 2.0, 0.5)
                    rssi = -59 - 10 * 2.5 * np.log10(metres) + offset + rng.normal(0, noise_db, len(beacons))
                    rssi = np.round(rssi)
                    rssi[rssi < hearing_floor] = -200  # the UCI sentinel for "not heard"
                    matrix.append(rssi)
                    labels.append(label)
                    groups.append(group)
                    times.append(start + 2.0 * scan)
                group += 1
    return Survey(beacons, np.array(matrix), np.array(labels), np.array(groups), np.array(times))


def write_csv(path: object, data: Survey) -> None:
    """The survey as a walk-through CSV: label, visit, time (ISO), one column per beacon."""
    import pandas as pd

    frame = pd.DataFrame(data.matrix, columns=list(data.beacons))
    frame.insert(0, "cell", data.labels)
    frame.insert(1, "visit", [f"v{g}" for g in data.groups])
    frame.insert(2, "seen_at", pd.to_datetime(data.times, unit="s", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ"))
    frame.to_csv(path, index=False)
