"""Short tours through a set of nodes: cheapest insertion then 2-opt and or-opt until no move improves.

Why here and not PyVRP: each IRP period needs a single-vehicle tour over at most ~50 stops many times per
second while repairing MIP incumbents; this is exact in practice for the small sets the MIP produces and costs
microseconds, where starting a genetic search costs a fixed time budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Matrix = Sequence[Sequence[int]]  # integer travel costs, node 0 = depot (nested lists: fast to index)


def tour_length(dist: Matrix, tour: list[int]) -> int:
    """Length of ``0 → tour… → 0`` (node 0 is the depot)."""
    if not tour:
        return 0
    stops = [0, *tour, 0]
    return sum(dist[a][b] for a, b in zip(stops, stops[1:], strict=False))


def _cheapest_insertion(dist: Matrix, nodes: list[int]) -> list[int]:
    cycle = [0]
    remaining = sorted(nodes, key=lambda v: -dist[0][v])
    for node in remaining:
        best_pos, best_delta = 1, None
        for pos in range(1, len(cycle) + 1):
            a, b = cycle[pos - 1], cycle[pos % len(cycle)]
            delta = dist[a][node] + dist[node][b] - dist[a][b]
            if best_delta is None or delta < best_delta:
                best_pos, best_delta = pos, delta
        cycle.insert(best_pos, node)
    return cycle[1:]


def _two_opt(dist: Matrix, tour: list[int]) -> bool:
    path = [0, *tour, 0]
    improved = False
    size = len(path)
    for i in range(size - 3):
        for j in range(i + 2, size - 1):
            a, b, c, d = path[i], path[i + 1], path[j], path[j + 1]
            if dist[a][c] + dist[b][d] < dist[a][b] + dist[c][d]:
                path[i + 1 : j + 1] = path[i + 1 : j + 1][::-1]
                improved = True
    tour[:] = path[1:-1]
    return improved


def _or_opt(dist: Matrix, tour: list[int]) -> bool:
    """Move one segment of 1-3 stops (either way round) to its best other place; True if one moved."""
    for seg_len in (1, 2, 3):
        for start in range(len(tour) - seg_len + 1):
            segment = tour[start : start + seg_len]
            first, last = segment[0], segment[-1]
            prev = tour[start - 1] if start > 0 else 0
            nxt = tour[start + seg_len] if start + seg_len < len(tour) else 0
            gain = dist[prev][first] + dist[last][nxt] - dist[prev][nxt]
            rest = [0, *tour[:start], *tour[start + seg_len :], 0]
            for pos in range(len(rest) - 1):
                a, b = rest[pos], rest[pos + 1]
                forward = dist[a][first] + dist[last][b] - dist[a][b]
                backward = dist[a][last] + dist[first][b] - dist[a][b]
                if min(forward, backward) < gain:
                    seg = segment if forward <= backward else segment[::-1]
                    inner = rest[1:-1]
                    tour[:] = inner[:pos] + seg + inner[pos:]
                    return True
    return False


def improve_tour(dist: Matrix, tour: Sequence[int]) -> list[int]:
    """``tour`` improved by 2-opt and or-opt moves until none helps (a local optimum)."""
    result = list(tour)
    if len(result) > 2:
        while _two_opt(dist, result) or _or_opt(dist, result):
            pass
    return result


def insert_cheapest(dist: Matrix, tour: Sequence[int], node: int) -> list[int]:
    """``tour`` with ``node`` inserted where it adds the least length."""
    stops = [0, *tour, 0]
    pos = min(
        range(len(stops) - 1),
        key=lambda k: dist[stops[k]][node] + dist[node][stops[k + 1]] - dist[stops[k]][stops[k + 1]],
    )
    return [*tour[:pos], node, *tour[pos:]]


def solve_tour(dist: Matrix, nodes: Iterable[int]) -> list[int]:
    """A short tour from the depot through ``nodes`` (in visiting order, depot excluded)."""
    stops = sorted(set(nodes) - {0})
    if len(stops) <= 2:
        return stops
    tour = _cheapest_insertion(dist, stops)
    while _two_opt(dist, tour) or _or_opt(dist, tour):
        pass
    return tour
