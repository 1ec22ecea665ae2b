from __future__ import annotations

import itertools
import random

from tradeoff.vending.irp.generate import random_instance
from tradeoff.vending.irp.tour import improve_tour, insert_cheapest, solve_tour, tour_length


def brute_force(dist: list[list[int]], nodes: list[int]) -> int:
    return min(tour_length(dist, list(p)) for p in itertools.permutations(nodes))


def test_tours_are_optimal_on_small_sets() -> None:
    rng = random.Random(7)
    for seed in range(15):
        dist = random_instance(9, 1, seed=seed).distances().tolist()
        nodes = rng.sample(range(1, 10), rng.randint(3, 7))
        tour = solve_tour(dist, nodes)
        assert sorted(tour) == sorted(nodes)
        assert tour_length(dist, tour) == brute_force(dist, nodes)


def test_trivial_tours() -> None:
    dist = random_instance(3, 1, seed=1).distances().tolist()
    assert solve_tour(dist, []) == []
    assert solve_tour(dist, [2, 0]) == [2]
    assert tour_length(dist, []) == 0
    assert tour_length(dist, [1]) == 2 * dist[0][1]


def test_insertion_and_improvement_keep_the_nodes() -> None:
    dist = random_instance(20, 1, seed=2).distances().tolist()
    tour = insert_cheapest(dist, list(range(1, 20)), 20)
    assert sorted(tour) == list(range(1, 21))
    better = improve_tour(dist, tour)
    assert sorted(better) == list(range(1, 21))
    assert tour_length(dist, better) <= tour_length(dist, tour)
