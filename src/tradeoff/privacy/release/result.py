"""What a release returns (and what the cache stores): the published cells and how they were made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tradeoff.privacy.release.mechanisms import Cell, GroupKey, Statistic


@dataclass(frozen=True, slots=True)
class Release:
    tenant_id: str
    query_name: str
    statistic: Statistic
    period_start: date
    released_at: datetime
    epsilon: float
    delta: float
    noise_scale: float  # Laplace scale b of the released values (variance 2b²)
    count_scale: float  # scale of the counts that decided suppression
    threshold: int  # noisy floor applied (k, or τ ≥ k for data-derived keys)
    min_group_size: int
    max_contributions: int
    bounds: tuple[int, int] | None
    cells: tuple[Cell, ...]
    suppressed: tuple[GroupKey, ...] = ()
    cached: bool = False
    values: Mapping[GroupKey, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", {cell.key: cell.value for cell in self.cells})

    def value(self, key: GroupKey) -> int | None:
        """The released value of ``key``; None when it was suppressed (or never a group)."""
        return self.values.get(normal_key(key))

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "query_name": self.query_name,
            "statistic": self.statistic.value,
            "period_start": self.period_start.isoformat(),
            "released_at": self.released_at.isoformat(),
            "epsilon": self.epsilon,
            "delta": self.delta,
            "noise_scale": self.noise_scale,
            "count_scale": self.count_scale,
            "threshold": self.threshold,
            "min_group_size": self.min_group_size,
            "max_contributions": self.max_contributions,
            "bounds": list(self.bounds) if self.bounds is not None else None,
            "cells": [{"key": key_json(c.key), "value": c.value, "count": c.count} for c in self.cells],
            "suppressed": [key_json(k) for k in self.suppressed],
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any], *, cached: bool) -> Release:
        bounds = value.get("bounds")
        return cls(
            tenant_id=value["tenant_id"],
            query_name=value["query_name"],
            statistic=Statistic(value["statistic"]),
            period_start=date.fromisoformat(value["period_start"]),
            released_at=datetime.fromisoformat(value["released_at"]),
            epsilon=float(value["epsilon"]),
            delta=float(value["delta"]),
            noise_scale=float(value["noise_scale"]),
            count_scale=float(value["count_scale"]),
            threshold=int(value["threshold"]),
            min_group_size=int(value["min_group_size"]),
            max_contributions=int(value["max_contributions"]),
            bounds=(int(bounds[0]), int(bounds[1])) if bounds is not None else None,
            cells=tuple(Cell(normal_key(c["key"]), int(c["value"]), c.get("count")) for c in value["cells"]),
            suppressed=tuple(normal_key(k) for k in value["suppressed"]),
            cached=cached,
        )


def key_json(key: GroupKey) -> Any:
    return list(key) if isinstance(key, tuple) else key


def normal_key(key: Any) -> GroupKey:
    if isinstance(key, list | tuple):
        return tuple(key)
    if isinstance(key, str | int):
        return key
    raise TypeError(f"not a group key: {key!r}")
