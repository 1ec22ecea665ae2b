"""The Archetti et al. (2007) IRP formulation in HiGHS, with subtour elimination added lazily by the caller.

Why lazily: HiGHS has no documented lazy-constraint callback, so the caller solves, finds subtours in the
integer solution, adds their subtour elimination constraints (SECs) and solves again from the best tour-repaired
solution. Per period ``t``: ``y[i,t]`` visit (node 0 = vehicle used), ``x[e,t]`` undirected edge (0..2 on
supplier edges, 0..1 otherwise), ``q[i,t]`` quantity; ``I[i,t]`` and ``B[t]`` are stock at the start of
period ``t`` (index ``H`` = end of the horizon, the ``H+1`` of the paper).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from tradeoff.vending.irp.highs import quiet_highs
from tradeoff.vending.irp.instance import Instance
from tradeoff.vending.irp.separation import violated_sets

INF = highspy.kHighsInf


@dataclass(frozen=True)
class MipPoint:
    """An integer solution of the relaxed model: visits, quantities and edges per period."""

    objective: float
    quantities: tuple[tuple[float, ...], ...]  # [t][i-1]
    edges: tuple[tuple[tuple[int, int], ...], ...]  # [t] → edges (i, j), i < j, listed once per unit of x


class IrpMip:
    """The MIP without subtour elimination; :meth:`add_subtour_cuts` adds SECs for given node sets."""

    def __init__(
        self,
        instance: Instance,
        dist: Sequence[Sequence[int]],
        *,
        seed: int = 0,
        visit_costs: Sequence[Sequence[float]] | None = None,
        edges: Iterable[tuple[int, int]] | None = None,
    ) -> None:
        """``visit_costs[t][i]`` (i = 0..n) replaces the routing part by a cost per visit: no edges, no subtours.

        ``edges`` restricts the graph to these ``(i, j)`` pairs, ``i < j`` (a heuristic for large instances).
        """
        self.instance = instance
        self.n = n = instance.n
        self.h = horizon = instance.horizon
        self.visit_costs = visit_costs
        routed = visit_costs is None
        every = [(i, j) for i in range(n + 1) for j in range(i + 1, n + 1)]
        allowed = set(edges) if edges is not None else None
        self.edges = [e for e in every if allowed is None or e in allowed] if routed else []
        self.edge_index = {e: k for k, e in enumerate(self.edges)}
        self.dist = dist
        ne = len(self.edges)
        # column layout
        self.y0 = 0
        self.q0 = self.y0 + (n + 1) * horizon
        self.x0 = self.q0 + n * horizon
        self.i0 = self.x0 + ne * horizon
        self.b0 = self.i0 + n * (horizon + 1)
        self.ncols = self.b0 + horizon + 1
        self.highs = quiet_highs(seed=seed)
        self.highs.setOptionValue("mip_rel_gap", 1e-6)
        self._add_columns()
        self._rows: list[tuple[float, float, list[int], list[float]]] = []
        self._inventory_rows()
        self._visit_rows()
        self._valid_inequalities()
        self._flush_rows()

    # --- column indices -------------------------------------------------------------------------------
    def y(self, i: int, t: int) -> int:
        return self.y0 + t * (self.n + 1) + i

    def q(self, i: int, t: int) -> int:
        return self.q0 + t * self.n + (i - 1)

    def x(self, e: int, t: int) -> int:
        return self.x0 + t * len(self.edges) + e

    def inv(self, i: int, t: int) -> int:
        return self.i0 + t * self.n + (i - 1)

    def b(self, t: int) -> int:
        return self.b0 + t

    # --- model ------------------------------------------------------------------------------------------
    def _add_columns(self) -> None:
        inst, n, horizon = self.instance, self.n, self.h
        lower = np.zeros(self.ncols)
        upper = np.full(self.ncols, INF)
        cost = np.zeros(self.ncols)
        integer: list[int] = []
        for t in range(horizon):
            for i in range(n + 1):
                upper[self.y(i, t)] = 1.0
                integer.append(self.y(i, t))
                if self.visit_costs is not None:
                    cost[self.y(i, t)] = self.visit_costs[t][i]
            for i, r in enumerate(inst.retailers, start=1):
                upper[self.q(i, t)] = min(r.max_level - r.min_level, inst.capacity)
            for k, (i, j) in enumerate(self.edges):
                col = self.x(k, t)
                upper[col] = 2.0 if i == 0 else 1.0
                cost[col] = self.dist[i][j]
                integer.append(col)
        for t in range(horizon + 1):
            for i, r in enumerate(inst.retailers, start=1):
                col = self.inv(i, t)
                lower[col], upper[col] = (r.start, r.start) if t == 0 else (r.min_level, r.max_level)
                cost[col] = r.holding
            lower[self.b(t)] = inst.supplier.start if t == 0 else 0.0
            upper[self.b(t)] = inst.supplier.start if t == 0 else INF
            cost[self.b(t)] = inst.supplier.holding
        self.highs.addCols(self.ncols, cost, lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.integer_cols = np.asarray(integer, dtype=np.int32)
        self._set_integrality(highspy.HighsVarType.kInteger)

    def _set_integrality(self, kind: highspy.HighsVarType) -> None:
        idx = self.integer_cols
        self.highs.changeColsIntegrality(len(idx), idx, np.full(len(idx), kind))

    def _row(self, lo: float, hi: float, cols: Iterable[int], vals: Iterable[float]) -> None:
        self._rows.append((lo, hi, list(cols), list(vals)))

    def _flush_rows(self) -> None:
        if not self._rows:
            return
        lower = np.asarray([r[0] for r in self._rows])
        upper = np.asarray([r[1] for r in self._rows])
        starts = np.cumsum([0] + [len(r[2]) for r in self._rows[:-1]]).astype(np.int32)
        index = np.asarray([c for r in self._rows for c in r[2]], dtype=np.int32)
        value = np.asarray([v for r in self._rows for v in r[3]], dtype=np.float64)
        self.highs.addRows(len(self._rows), lower, upper, len(index), starts, index, value)
        self._rows = []

    def _inventory_rows(self) -> None:
        inst, n = self.instance, self.n
        for t in range(self.h):
            qs = [self.q(i, t) for i in range(1, n + 1)]
            for i, r in enumerate(inst.retailers, start=1):
                # I[t+1] = I[t] + q[t] - r ; ML policy: I[t] + q[t] <= U
                self._row(-r.demand, -r.demand, [self.inv(i, t + 1), self.inv(i, t), self.q(i, t)], [1, -1, -1])
                self._row(-INF, r.max_level, [self.inv(i, t), self.q(i, t)], [1, 1])
            prod = inst.supplier.production
            self._row(prod, prod, [self.b(t + 1), self.b(t), *qs], [1, -1, *([1] * n)])
            self._row(0, INF, [self.b(t), *qs], [1, *([-1] * n)])  # the supplier ships only what it holds
            self._row(-INF, 0, [*qs, self.y(0, t)], [*([1] * n), -inst.capacity])

    def _visit_rows(self) -> None:
        inst, n = self.instance, self.n
        incident: list[list[int]] = [[] for _ in range(n + 1)]
        for k, (i, j) in enumerate(self.edges):
            incident[i].append(k)
            incident[j].append(k)
        for t in range(self.h):
            for i, r in enumerate(inst.retailers, start=1):
                cap = min(r.max_level - r.min_level, inst.capacity)
                self._row(-INF, 0, [self.q(i, t), self.y(i, t)], [1, -cap])
                self._row(-INF, 0, [self.y(i, t), self.y(0, t)], [1, -1])
            for i in range(n + 1 if self.edges else 0):
                cols = [self.x(k, t) for k in incident[i]]
                self._row(0, 0, [*cols, self.y(i, t)], [*([1] * len(cols)), -2])
            for k, (i, j) in enumerate(self.edges):
                if i > 0:
                    self._row(-INF, 0, [self.x(k, t), self.y(i, t)], [1, -1])
                    self._row(-INF, 0, [self.x(k, t), self.y(j, t)], [1, -1])

    def _valid_inequalities(self) -> None:
        """Archetti et al.'s cuts: stock at ``s`` must cover ``m`` periods of demand unless visited meanwhile."""
        for i, r in enumerate(self.instance.retailers, start=1):
            for s in range(self.h):
                for m in range(1, self.h - s + 1):
                    need = r.min_level + m * r.demand
                    if need <= 0:
                        continue
                    ys = [self.y(i, t) for t in range(s, s + m)]
                    self._row(need, INF, [self.inv(i, s), *ys], [1, *([need] * m)])

    def add_subtour_cuts(self, period: int, cuts: Iterable[tuple[Sequence[int], int]]) -> int:
        """Add the SEC ``x(E(S)) ≤ y(S) − y_k`` for each ``(S, k)`` (S: retailers, k in S). Returns rows added.

        A large S is written on its complement T = V∖S (which holds the supplier): ``x(E(T)) ≤ y(T) − y_k``,
        the same constraint through the degree equations, with far fewer nonzeros.
        """
        added = 0
        everyone = range(self.n + 1)
        for subset, k in cuts:
            inside = set(subset)
            side = sorted(inside) if 2 * len(inside) <= self.n + 1 else [v for v in everyone if v not in inside]
            edges = [
                self.x(self.edge_index[(a, b)], period)
                for ai, a in enumerate(side)
                for b in side[ai + 1 :]
                if (a, b) in self.edge_index
            ]
            if k in inside and side[0] != 0:
                ys = [self.y(i, period) for i in side if i != k]
                self._row(-INF, 0, [*edges, *ys], [*([1] * len(edges)), *([-1] * len(ys))])
            else:
                ys = [self.y(i, period) for i in side]
                self._row(-INF, 0, [*edges, *ys, self.y(k, period)], [*([1] * len(edges)), *([-1] * len(ys)), 1])
            added += 1
        self._flush_rows()
        return added

    def cut_root(self, deadline: float, max_rounds: int = 50) -> int:
        """Cut the LP relaxation with separated SECs until none is violated (or time/rounds run out)."""
        self._set_integrality(highspy.HighsVarType.kContinuous)
        added = 0
        try:
            for _ in range(max_rounds):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.highs.setOptionValue("time_limit", remaining)
                self.highs.run()
                if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    break
                values = np.asarray(self.highs.getSolution().col_value)
                round_added = 0
                for t in range(self.h):
                    x = [values[self.x(k, t)] for k in range(len(self.edges))]
                    y = [values[self.y(i, t)] for i in range(self.n + 1)]
                    round_added += self.add_subtour_cuts(t, violated_sets(self.n, self.edges, x, y))
                added += round_added
                if not round_added:
                    break
        finally:
            self._set_integrality(highspy.HighsVarType.kInteger)
        return added

    # --- solving -----------------------------------------------------------------------------------------
    def set_start(self, quantities: Sequence[Sequence[float]], routes: Sequence[Sequence[int]]) -> bool:
        """Hand HiGHS a feasible solution (e.g. a tour-repaired incumbent) to start from.

        False (and nothing set) when a route uses an edge the (restricted) graph does not have.
        """
        inst, n = self.instance, self.n
        for route in routes if self.edges else ():
            stops = [0, *route, 0] if route else []
            if any((min(a, b), max(a, b)) not in self.edge_index for a, b in zip(stops, stops[1:], strict=False)):
                return False
        values = np.zeros(self.ncols)
        levels = [r.start for r in inst.retailers]
        stock = inst.supplier.start
        for t in range(self.h):
            for i in range(1, n + 1):
                values[self.inv(i, t)] = levels[i - 1]
            values[self.b(t)] = stock
            stops = [0, *routes[t], 0] if routes[t] and self.edges else []
            for a, b in zip(stops, stops[1:], strict=False):
                values[self.x(self.edge_index[(min(a, b), max(a, b))], t)] += 1
            if routes[t]:
                values[self.y(0, t)] = 1
            for i in routes[t]:
                values[self.y(i, t)] = 1
            shipped = 0.0
            for i, r in enumerate(inst.retailers, start=1):
                qty = quantities[t][i - 1]
                values[self.q(i, t)] = qty
                levels[i - 1] += qty - r.demand
                shipped += qty
            stock += inst.supplier.production - shipped
        for i in range(1, n + 1):
            values[self.inv(i, self.h)] = levels[i - 1]
        values[self.b(self.h)] = stock
        cols = np.arange(self.ncols, dtype=np.int32)
        self.highs.setSolution(self.ncols, cols, values)
        return True

    def solve(self, seconds: float) -> MipPoint | None:
        """Solve within ``seconds``; the best integer point found, or None when there is none."""
        self.highs.setOptionValue("time_limit", max(0.05, seconds))
        self.highs.run()
        info = self.highs.getInfo()
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            return None
        return self.point(np.asarray(self.highs.getSolution().col_value), float(info.objective_function_value))

    def point(self, values: npt.NDArray[np.float64], objective: float) -> MipPoint:
        """Read quantities and edges from a full column vector."""
        quantities = tuple(tuple(_clean(values[self.q(i, t)]) for i in range(1, self.n + 1)) for t in range(self.h))
        edges = tuple(
            tuple(e for k, e in enumerate(self.edges) for _ in range(round(values[self.x(k, t)])))
            for t in range(self.h)
        )
        return MipPoint(objective, quantities, edges)

    def on_improving(self, listener: Callable[[MipPoint], None]) -> None:
        """Call ``listener`` with every improving integer point HiGHS finds while it solves."""

        def relay(event: Any) -> None:
            values = np.asarray(event.data_out.mip_solution, dtype=np.float64)
            if len(values) == self.ncols:
                listener(self.point(values, float(event.data_out.objective_function_value)))

        self.highs.cbMipImprovingSolution.subscribe(relay)

    def relax(self) -> None:
        """Drop integrality for good (used to price fixed visit patterns as an LP)."""
        self._set_integrality(highspy.HighsVarType.kContinuous)

    def fix_visits(self, visits: Sequence[Sequence[bool]]) -> None:
        """Fix ``y[i,t]`` to ``visits[t][i-1]`` (and the vehicle to 'used' when anyone is visited)."""
        cols: list[int] = []
        values: list[float] = []
        for t, period in enumerate(visits):
            cols.append(self.y(0, t))
            values.append(1.0 if any(period) else 0.0)
            for i, visited in enumerate(period, start=1):
                cols.append(self.y(i, t))
                values.append(1.0 if visited else 0.0)
        bounds = np.asarray(values)
        self.highs.changeColsBounds(len(cols), np.asarray(cols, dtype=np.int32), bounds, bounds)

    def solve_lp(self) -> tuple[float, tuple[tuple[float, ...], ...]] | None:
        """Objective and quantities of the (relaxed) model, or None when it is infeasible."""
        self.highs.setOptionValue("time_limit", INF)
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = np.asarray(self.highs.getSolution().col_value)
        quantities = tuple(tuple(_clean(values[self.q(i, t)]) for i in range(1, self.n + 1)) for t in range(self.h))
        return float(self.highs.getInfo().objective_function_value), quantities

    def set_visit_costs(self, visit_costs: Sequence[Sequence[float]]) -> None:
        """New per-visit costs (only for a model built with ``visit_costs``)."""
        cols = np.asarray([self.y(i, t) for t in range(self.h) for i in range(self.n + 1)], dtype=np.int32)
        costs = np.asarray([visit_costs[t][i] for t in range(self.h) for i in range(self.n + 1)], dtype=np.float64)
        self.highs.changeColsCost(len(cols), cols, costs)

    def lower_bound(self) -> float:
        return float(self.highs.getInfo().mip_dual_bound)

    def proven_optimal(self) -> bool:
        return self.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal


def _clean(value: float) -> float:
    """Snap solver noise: integral data give integral quantities, so values within 1e-6 of an integer snap."""
    nearest = round(value)
    return float(nearest) if abs(value - nearest) < 1e-6 else max(0.0, float(value))
