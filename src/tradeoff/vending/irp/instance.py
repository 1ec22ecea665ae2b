"""The Archetti et al. (2007) ``.dat`` instance format, read into an immutable :class:`Instance`.

Why a strict reader: the public copies differ in whitespace (TABs, leading blanks) but not in content, and a
malformed file must fail loudly with its line number instead of silently shifting columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


class InstanceFormatError(ValueError):
    """A ``.dat`` file that does not follow the format; the message names the file line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}: line {line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Retailer:
    """A retailer: start inventory ``I0``, maximum level ``U``, minimum level ``L``, demand ``r`` per period."""

    node_id: int
    x: float
    y: float
    start: float
    max_level: float
    min_level: float
    demand: float
    holding: float


@dataclass(frozen=True)
class Supplier:
    """The supplier: start inventory ``B0`` and production ``r0`` per period."""

    node_id: int
    x: float
    y: float
    start: float
    production: float
    holding: float


@dataclass(frozen=True)
class Instance:
    """An IRP instance. Node 0 is the supplier, node ``i`` (1..n) is ``retailers[i-1]``."""

    name: str
    horizon: int
    capacity: float
    supplier: Supplier
    retailers: tuple[Retailer, ...]

    @property
    def n(self) -> int:
        return len(self.retailers)

    def coordinates(self) -> npt.NDArray[np.float64]:
        points = [(self.supplier.x, self.supplier.y)] + [(r.x, r.y) for r in self.retailers]
        return np.asarray(points, dtype=np.float64)

    def distances(self) -> npt.NDArray[np.int64]:
        """Travel costs: Euclidean distance rounded to the nearest integer (NINT), as in Archetti et al. 2007."""
        xy = self.coordinates()
        diff = xy[:, None, :] - xy[None, :, :]
        rounded: npt.NDArray[np.int64] = np.floor(np.sqrt((diff**2).sum(axis=2)) + 0.5).astype(np.int64)
        return rounded


def _numbers(source: str, line_no: int, text: str, count: int, what: str) -> list[float]:
    fields = text.split()
    if len(fields) != count:
        raise InstanceFormatError(source, line_no, f"{what}: expected {count} fields, found {len(fields)}")
    values: list[float] = []
    for field in fields:
        try:
            value = float(field)
        except ValueError:
            raise InstanceFormatError(source, line_no, f"{what}: {field!r} is not a number") from None
        if not math.isfinite(value):
            raise InstanceFormatError(source, line_no, f"{what}: {field!r} is not finite")
        values.append(value)
    return values


def _integer(source: str, line_no: int, value: float, what: str) -> int:
    if value != int(value):
        raise InstanceFormatError(source, line_no, f"{what} must be an integer, found {value}")
    return int(value)


def parse_instance(text: str, *, name: str = "instance", source: str = "<text>") -> Instance:
    """Parse the text of a ``.dat`` file. Blank lines are skipped; line numbers in errors are the file's."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise InstanceFormatError(source, 1, "empty file")
    header_no, header = lines[0]
    nodes_f, horizon_f, capacity = _numbers(source, header_no, header, 3, "header `n+1 H C`")
    nodes = _integer(source, header_no, nodes_f, "n+1")
    horizon = _integer(source, header_no, horizon_f, "H")
    if nodes < 2:
        raise InstanceFormatError(source, header_no, f"n+1 must be at least 2, found {nodes}")
    if horizon < 1:
        raise InstanceFormatError(source, header_no, f"H must be at least 1, found {horizon}")
    if capacity <= 0:
        raise InstanceFormatError(source, header_no, f"C must be positive, found {capacity}")
    if len(lines) != nodes + 1:
        last = lines[-1][0]
        raise InstanceFormatError(source, last, f"header says {nodes} nodes, found {len(lines) - 1} node lines")
    sup_no, sup_line = lines[1]
    sid, sx, sy, b0, r0, h0 = _numbers(source, sup_no, sup_line, 6, "supplier `id x y B0 r0 h0`")
    supplier = Supplier(_integer(source, sup_no, sid, "id"), sx, sy, b0, r0, h0)
    if min(b0, r0, h0) < 0:
        raise InstanceFormatError(source, sup_no, "supplier B0, r0 and h0 must not be negative")
    retailers: list[Retailer] = []
    for line_no, line in lines[2:]:
        rid, x, y, i0, u, low, r, h = _numbers(source, line_no, line, 8, "retailer `id x y I0 U L r h`")
        if min(i0, u, low, r, h) < 0:
            raise InstanceFormatError(source, line_no, "retailer I0, U, L, r and h must not be negative")
        if not low <= i0 <= u:
            raise InstanceFormatError(source, line_no, f"need L <= I0 <= U, found L={low} I0={i0} U={u}")
        retailers.append(Retailer(_integer(source, line_no, rid, "id"), x, y, i0, u, low, r, h))
    ids = [supplier.node_id] + [r.node_id for r in retailers]
    if len(set(ids)) != len(ids):
        raise InstanceFormatError(source, sup_no, "node ids are not unique")
    return Instance(name=name, horizon=horizon, capacity=capacity, supplier=supplier, retailers=tuple(retailers))


def read_instance(path: Path, *, name: str | None = None) -> Instance:
    """Read a ``.dat`` file; the instance is named after the file stem unless ``name`` is given."""
    return parse_instance(path.read_text(), name=name or path.stem, source=str(path))
