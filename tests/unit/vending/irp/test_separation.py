from __future__ import annotations

from tradeoff.vending.irp.separation import violated_sets

EDGES = [(i, j) for i in range(7) for j in range(i + 1, 7)]


def point(used: dict[tuple[int, int], float]) -> list[float]:
    return [used.get(e, 0.0) for e in EDGES]


def test_finds_a_disconnected_triangle() -> None:
    # depot tour 0-1-2-3-0 plus a separate cycle 4-5-6
    x = point({(0, 1): 1, (1, 2): 1, (2, 3): 1, (0, 3): 1, (4, 5): 1, (5, 6): 1, (4, 6): 1})
    found = violated_sets(6, EDGES, x, [1.0] * 7)
    assert [(sorted(s), k in s) for s, k in found] == [([4, 5, 6], True)]


def test_a_single_tour_violates_nothing() -> None:
    x = point({(0, 1): 1, (1, 2): 1, (2, 3): 1, (3, 4): 1, (4, 5): 1, (5, 6): 1, (0, 6): 1})
    assert violated_sets(6, EDGES, x, [1.0] * 7) == []


def test_fractional_weak_connection_is_cut() -> None:
    # retailers 4,5,6 hang on the depot with total weight 1 < 2·y
    x = point({(0, 1): 2, (4, 5): 1, (5, 6): 1, (4, 6): 0.5, (0, 4): 0.5, (0, 6): 0.5})
    y = [1.0, 1.0, 0, 0, 1.0, 1.0, 1.0]
    assert [4, 5, 6] in [s for s, _ in violated_sets(6, EDGES, x, y)]
