"""The literature's IRP objective, as the solver computes it: routing on the NINT matrix + holding cost.

Holding is charged on the supplier's and every retailer's stock at ``t = 1..H+1``: the initial stock, then the
stock at the end of each period (Archetti et al. 2007). With this convention the exact model gives 1235.92 on
abs1n5 (H=3, low cost), the published value.
"""

from __future__ import annotations

from collections.abc import Sequence

from tradeoff.vending.irp.instance import Instance
from tradeoff.vending.irp.tour import Matrix, tour_length


def holding_cost(instance: Instance, quantities: Sequence[Sequence[float]]) -> float:
    """Holding cost of shipping ``quantities[t][i-1]`` (no feasibility check: that is the checker's job)."""
    sup = instance.supplier
    levels = [r.start for r in instance.retailers]
    stock = sup.start
    total = sup.holding * stock + sum(r.holding * lv for r, lv in zip(instance.retailers, levels, strict=True))
    for period in quantities:
        for i, retailer in enumerate(instance.retailers):
            levels[i] += period[i] - retailer.demand
        stock += sup.production - sum(period)
        total += sup.holding * stock + sum(r.holding * lv for r, lv in zip(instance.retailers, levels, strict=True))
    return total


def routing_cost(dist: Matrix, routes: Sequence[Sequence[int]]) -> int:
    return sum(tour_length(dist, list(route)) for route in routes)
