"""What an IRP solution is: per period an ordered route and the quantity delivered to each retailer.

Kept separate from the solver so the checker can judge any producer's output (ours, a file, a test's
hand-made counter-example) without importing solver code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Solution:
    """``routes[t]``: retailers (nodes 1..n) in visiting order in period ``t+1``; the vehicle starts and ends at
    the supplier (node 0), which is not listed. ``deliveries[t]``: retailer → quantity delivered in that period.
    """

    routes: tuple[tuple[int, ...], ...]
    deliveries: tuple[Mapping[int, float], ...]

    @classmethod
    def build(cls, routes: Sequence[Sequence[int]], deliveries: Sequence[Mapping[int, float]]) -> Solution:
        return cls(tuple(tuple(route) for route in routes), tuple(dict(d) for d in deliveries))

    def to_dict(self) -> dict[str, object]:
        return {
            "periods": [
                {"route": list(route), "deliveries": {str(i): q for i, q in sorted(d.items())}}
                for route, d in zip(self.routes, self.deliveries, strict=True)
            ]
        }
