from __future__ import annotations

import numpy as np
import pytest

from tests.unit.vending.irp.conftest import archetti
from tradeoff.vending.irp import InstanceFormatError, parse_instance, read_instance
from tradeoff.vending.irp.generate import random_instance, to_dat


def test_reads_archetti_file_with_tabs_in_header() -> None:
    inst = read_instance(archetti("Instances_highcost_H3", "abs1n10"))
    assert (inst.n, inst.horizon, inst.capacity) == (10, 3, 952)
    assert inst.name == "abs1n10"
    assert inst.supplier.start == 1583 and inst.supplier.production == 635 and inst.supplier.holding == 0.3
    first = inst.retailers[0]
    assert (first.node_id, first.x, first.y) == (2, 152.0, 180.0)
    assert (first.start, first.max_level, first.min_level, first.demand, first.holding) == (87, 174, 0, 87, 0.23)


def test_distances_are_nint_rounded_euclidean() -> None:
    inst = parse_instance("3 1 10\n1 0 0 0 0 0\n2 1 1.5 0 1 0 0 0\n3 0 2.4 0 1 0 0 0\n")
    dist = inst.distances()
    assert dist[0, 1] == 2  # 1.803 rounds up (floor would give 1)
    assert dist[0, 2] == 2  # 2.4 rounds down
    assert np.array_equal(dist, dist.T)


def test_blank_lines_and_leading_whitespace_are_fine() -> None:
    inst = parse_instance("\n  2\t1\t5\n\n 1 0 0 5 5 .1\n\t2 1 1 1 2 0 1 .2\n\n")
    assert inst.n == 1 and inst.retailers[0].holding == 0.2


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "empty"),
        ("2 1\n1 0 0 5 5 .1\n2 1 1 1 2 0 1 .2\n", 1, "expected 3 fields"),
        ("2 1 5\n1 0 0 5 5\n2 1 1 1 2 0 1 .2\n", 2, "supplier"),
        ("2 1 5\n1 0 0 5 5 .1\n2 1 1 1 2 0 x .2\n", 3, "'x' is not a number"),
        ("3 1 5\n1 0 0 5 5 .1\n2 1 1 1 2 0 1 .2\n", 3, "header says 3 nodes"),
        ("2 1.5 5\n1 0 0 5 5 .1\n2 1 1 1 2 0 1 .2\n", 1, "H must be an integer"),
        ("2 1 5\n1 0 0 5 5 .1\n2 1 1 3 2 0 1 .2\n", 3, "L <= I0 <= U"),
        ("2 1 5\n1 0 0 5 5 .1\n2 1 1 1 2 0 -1 .2\n", 3, "must not be negative"),
        ("2 1 5\n1 0 0 5 5 .1\n1 1 1 1 2 0 1 .2\n", 2, "not unique"),
    ],
)
def test_malformed_files_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InstanceFormatError) as caught:
        parse_instance(text, source="bad.dat")
    assert caught.value.line == line
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"bad.dat: line {line}:")


def test_generated_instances_round_trip_through_the_format() -> None:
    inst = random_instance(12, 6, seed=3)
    again = parse_instance(to_dat(inst), name=inst.name)
    assert again == inst
