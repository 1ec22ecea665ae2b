"""Random instances drawn the way Archetti et al. (2007) describe theirs, for tests beyond the shipped files.

Coordinates uniform in [0, 500]², demand r_i in [10, 100], U_i = g_i·r_i with g_i in {2, 3}, I0 = U_i − r_i,
L = 0, retailer holding in [0.01, 0.05] (low cost) or [0.1, 0.5] (high cost), supplier h0 = 0.03 / 0.3,
r0 = Σ r_i, vehicle capacity 1.5·Σ r_i (as in the files: 289 = 1.5 × 193 for abs1n5).
"""

from __future__ import annotations

import random

from tradeoff.vending.irp.instance import Instance, Retailer, Supplier


def random_instance(n: int, horizon: int, *, seed: int = 0, high_cost: bool = False) -> Instance:
    rng = random.Random(seed)
    scale = 10.0 if high_cost else 1.0
    retailers = []
    for k in range(n):
        demand = float(rng.randint(10, 100))
        max_level = demand * rng.choice((2, 3))
        holding = round(rng.uniform(0.01, 0.05) * scale, 2)
        x, y = float(rng.randint(0, 500)), float(rng.randint(0, 500))
        retailers.append(Retailer(k + 2, x, y, max_level - demand, max_level, 0.0, demand, holding))
    production = sum(r.demand for r in retailers)
    supplier = Supplier(
        1, float(rng.randint(0, 500)), float(rng.randint(0, 500)), 2 * production, production, 0.03 * scale
    )
    return Instance(f"random_n{n}_h{horizon}_s{seed}", horizon, round(1.5 * production), supplier, tuple(retailers))


def to_dat(instance: Instance) -> str:
    """The instance in the original ``.dat`` format (what ``parse_instance`` reads)."""
    s = instance.supplier
    lines = [f"{instance.n + 1}\t{instance.horizon}\t{instance.capacity:g}"]
    lines.append(f"{s.node_id} {s.x:.1f} {s.y:.1f} {s.start:g} {s.production:g} {s.holding:g}")
    for r in instance.retailers:
        lines.append(
            f"{r.node_id} {r.x:.1f} {r.y:.1f} {r.start:g} {r.max_level:g} {r.min_level:g} {r.demand:g} {r.holding:g}"
        )
    return "\n".join(lines) + "\n"
