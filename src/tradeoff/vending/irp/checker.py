"""An independent feasibility checker and objective for IRP solutions (no solver code imported).

It replays the horizon the way Archetti et al. (2007) define it: at the start of period t the supplier holds
``B_t`` and retailer i holds ``I_it`` (``B_1 = B0``, ``I_i1 = I0``); the vehicle ships ``q_it`` with
``sum_i q_it <= C`` and ``sum_i q_it <= B_t``; under the maximum-level policy ``I_it + q_it <= U_i``; then
``B_{t+1} = B_t + r0 - sum_i q_it`` and ``I_{i,t+1} = I_it + q_it - r_i >= L_i``. Holding cost is charged on
``B_t`` and ``I_it`` for ``t = 1..H+1``; routing is the rounded (NINT) Euclidean length of each period's tour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from tradeoff.vending.irp.instance import Instance
from tradeoff.vending.irp.solution import Solution

EPS = 1e-6
Rounding = Literal["nint", "floor", "none"]


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``kind`` is a stable code, ``period`` is 1-based (0 for whole-solution problems)."""

    kind: str
    period: int
    message: str


@dataclass(frozen=True)
class CheckReport:
    feasible: bool
    violations: tuple[Violation, ...]
    routing_cost: float
    holding_cost: float
    supplier_levels: tuple[float, ...] = field(default=())  # B_1 .. B_{H+1}

    @property
    def cost(self) -> float:
        return self.routing_cost + self.holding_cost

    def kinds(self) -> set[str]:
        return {v.kind for v in self.violations}


def travel_cost(instance: Instance, a: int, b: int, rounding: Rounding = "nint") -> float:
    """Distance between nodes ``a`` and ``b`` (0 = supplier), computed here from the coordinates."""
    pa = (
        (instance.supplier.x, instance.supplier.y)
        if a == 0
        else (instance.retailers[a - 1].x, instance.retailers[a - 1].y)
    )
    pb = (
        (instance.supplier.x, instance.supplier.y)
        if b == 0
        else (instance.retailers[b - 1].x, instance.retailers[b - 1].y)
    )
    d = math.hypot(pa[0] - pb[0], pa[1] - pb[1])
    if rounding == "nint":
        return float(math.floor(d + 0.5))
    if rounding == "floor":
        return float(math.floor(d))
    return d


def route_cost(instance: Instance, route: tuple[int, ...], rounding: Rounding = "nint") -> float:
    if not route:
        return 0.0
    stops = (0, *route, 0)
    return sum(travel_cost(instance, a, b, rounding) for a, b in zip(stops, stops[1:], strict=False))


def _check_shape(instance: Instance, solution: Solution, out: list[Violation]) -> bool:
    horizon = instance.horizon
    if len(solution.routes) != horizon or len(solution.deliveries) != horizon:
        out.append(
            Violation(
                "horizon",
                0,
                f"expected {horizon} periods, got {len(solution.routes)} routes"
                f" and {len(solution.deliveries)} deliveries",
            )
        )
        return False
    return True


def _check_period_routes(instance: Instance, t: int, solution: Solution, out: list[Violation]) -> None:
    route = solution.routes[t - 1]
    delivered = solution.deliveries[t - 1]
    seen: set[int] = set()
    for node in route:
        if not 1 <= node <= instance.n:
            out.append(Violation("unknown_node", t, f"route visits node {node}, not a retailer 1..{instance.n}"))
        elif node in seen:
            out.append(Violation("repeat_visit", t, f"retailer {node} visited more than once"))
        seen.add(node)
    for node, qty in delivered.items():
        if not 1 <= node <= instance.n:
            out.append(Violation("unknown_node", t, f"delivery to node {node}, not a retailer 1..{instance.n}"))
        elif qty < -EPS or not math.isfinite(qty):
            out.append(Violation("negative_quantity", t, f"quantity {qty} to retailer {node}"))
        elif qty > EPS and node not in seen:
            out.append(Violation("unvisited_delivery", t, f"retailer {node} gets {qty} but is not on the route"))
    total = sum(q for q in delivered.values() if math.isfinite(q))
    if total > instance.capacity + EPS:
        out.append(Violation("capacity", t, f"load {total:g} exceeds vehicle capacity {instance.capacity:g}"))


def check_solution(instance: Instance, solution: Solution, *, rounding: Rounding = "nint") -> CheckReport:
    """Every violation of ``solution`` and its recomputed cost (routing + holding over t = 1..H+1)."""
    out: list[Violation] = []
    if not _check_shape(instance, solution, out):
        return CheckReport(False, tuple(out), math.inf, math.inf)
    sup = instance.supplier
    levels = [r.start for r in instance.retailers]
    b_level = sup.start
    holding = sup.holding * b_level + sum(r.holding * lv for r, lv in zip(instance.retailers, levels, strict=True))
    b_levels = [b_level]
    for t in range(1, instance.horizon + 1):
        _check_period_routes(instance, t, solution, out)
        delivered = solution.deliveries[t - 1]
        total = 0.0
        for i, retailer in enumerate(instance.retailers, start=1):
            qty = delivered.get(i, 0.0)
            total += qty
            if levels[i - 1] + qty > retailer.max_level + EPS:
                out.append(
                    Violation(
                        "max_level",
                        t,
                        f"retailer {i}: {levels[i - 1]:g} + {qty:g} exceeds its maximum level {retailer.max_level:g}",
                    )
                )
            levels[i - 1] = levels[i - 1] + qty - retailer.demand
            if levels[i - 1] < retailer.min_level - EPS:
                out.append(
                    Violation(
                        "stockout", t, f"retailer {i}: level {levels[i - 1]:g} below its minimum {retailer.min_level:g}"
                    )
                )
        if total > b_level + EPS:
            out.append(Violation("supplier_stock", t, f"ships {total:g} but the supplier holds only {b_level:g}"))
        b_level = b_level + sup.production - total
        b_levels.append(b_level)
        holding += sup.holding * b_level
        holding += sum(r.holding * lv for r, lv in zip(instance.retailers, levels, strict=True))
    if "unknown_node" in {v.kind for v in out}:
        routing = math.inf
    else:
        routing = sum(route_cost(instance, route, rounding) for route in solution.routes)
    return CheckReport(not out, tuple(out), routing, holding, tuple(b_levels))
