"""Cell layout: grid coordinates from labels such as "O02" (column letters + row number) and 3×3 zones.

Labels that are not grid cells (e.g. "dairy", "till 2") have no coordinates; then only accuracy metrics and
the arg-max decision apply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tradeoff.presence.model.features import FloatArray

_CELL = re.compile(r"^\s*([A-Za-z]{1,3})\s*0*(\d{1,4})\s*$")
ZONE_SIZE = 3


def cell_xy(label: str) -> tuple[float, float] | None:
    """``"O02"`` → (14, 2): the column letter's index (A = 0, Z = 25, AA = 26…) and the row number."""
    found = _CELL.match(label)
    if found is None:
        return None
    column = 0
    for char in found.group(1).upper():
        column = column * 26 + (ord(char) - ord("A") + 1)
    return float(column - 1), float(found.group(2))


@dataclass(frozen=True)
class Layout:
    """Coordinates (cell units) of each class, in the model's class order."""

    labels: tuple[str, ...]
    xy: FloatArray

    @classmethod
    def from_labels(cls, labels: Sequence[str]) -> Layout | None:
        """A grid layout when every label is a grid cell, else ``None``."""
        points = [cell_xy(label) for label in labels]
        if not points or any(point is None for point in points):
            return None
        return cls(tuple(labels), np.array(points, dtype=np.float64).reshape(len(labels), 2))

    def distances(self) -> FloatArray:
        """Pairwise Euclidean distances between cell centres, in cells."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        return np.asarray(np.sqrt((diff**2).sum(axis=2)), dtype=np.float64)


def zone_of(xy: FloatArray) -> FloatArray:
    """3×3 blocks of cells: column index // 3 and (row − 1) // 3 (rows start at 1)."""
    return np.stack([np.floor(xy[:, 0] / ZONE_SIZE), np.floor((xy[:, 1] - 1) / ZONE_SIZE)], axis=1)


def zone_name(x: float, y: float) -> str:
    """A readable zone id: the top-left cell of the block, e.g. "Z-M01"."""
    column, row = int(x) // ZONE_SIZE * ZONE_SIZE, (int(y) - 1) // ZONE_SIZE * ZONE_SIZE + 1
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"Z-{letters}{row:02d}"
