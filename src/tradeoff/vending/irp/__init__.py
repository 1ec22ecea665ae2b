"""Inventory routing (Archetti et al. 2007): instances, an independent checker and a HiGHS-based solver.

One supplier (node 0) ships one product to ``n`` retailers with one vehicle over ``H`` periods under the
maximum-level policy; the objective is rounded Euclidean routing plus holding cost over ``t = 1..H+1``.
"""

from tradeoff.vending.irp.checker import CheckReport, check_solution
from tradeoff.vending.irp.instance import Instance, InstanceFormatError, parse_instance, read_instance
from tradeoff.vending.irp.solution import Solution
from tradeoff.vending.irp.solver import SolveResult, solve

__all__ = [
    "CheckReport",
    "Instance",
    "InstanceFormatError",
    "Solution",
    "SolveResult",
    "check_solution",
    "parse_instance",
    "read_instance",
    "solve",
]
