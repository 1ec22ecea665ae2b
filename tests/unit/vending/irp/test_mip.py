from __future__ import annotations

from tradeoff.vending.irp.generate import random_instance
from tradeoff.vending.irp.mip import IrpMip, MipPoint
from tradeoff.vending.irp.repair import repair
from tradeoff.vending.irp.solver import candidate_edges, cycles, subtours


def point(edges: list[list[tuple[int, int]]]) -> MipPoint:
    return MipPoint(0.0, tuple(() for _ in edges), tuple(tuple(e) for e in edges))


def test_cycles_and_subtours_are_read_from_edges() -> None:
    tour = [(0, 2), (2, 1), (0, 1)]
    single = [(0, 3), (0, 3)]  # out and back on a supplier edge (x = 2)
    split = [(0, 1), (0, 1), (2, 3), (3, 4), (2, 4)]
    p = point([tour, single, split, []])
    assert cycles(p)[0] in ([2, 1], [1, 2])
    assert cycles(p)[1] == [3]
    assert cycles(p)[2] is None
    assert cycles(p)[3] == []
    assert subtours(4, p) == [[], [], [[2, 3, 4]], []]


def test_large_instances_get_a_sparse_graph_that_keeps_the_start() -> None:
    inst = random_instance(30, 3, seed=2)
    dist = inst.distances().tolist()
    assert candidate_edges(10, dist, None) is None
    quantities = [[r.demand if t == 0 else 0.0 for r in inst.retailers] for t in range(3)]
    quantities[0] = [r.max_level - r.start for r in inst.retailers]
    start = repair(inst, dist, quantities)
    edges = candidate_edges(inst.n, dist, start)
    assert edges is not None and len(edges) < inst.n * (inst.n + 1) // 2
    mip = IrpMip(inst, dist, edges=edges)
    assert mip.set_start(start.quantities, start.solution.routes)
    tiny_graph = IrpMip(inst, dist, edges=[(0, j) for j in range(1, inst.n + 1)])
    assert not tiny_graph.set_start(start.quantities, start.solution.routes)  # its tours need retailer edges
