"""Grid labels to coordinates and 3×3 zones."""

import numpy as np
import pytest

from tradeoff.presence.model.layout import Layout, cell_xy, zone_name, zone_of


@pytest.mark.parametrize(
    ("label", "xy"), [("O02", (14.0, 2.0)), ("A1", (0.0, 1.0)), ("d13", (3.0, 13.0)), ("AA07", (26.0, 7.0))]
)
def test_cell_labels_give_column_index_and_row(label: str, xy: tuple[float, float]) -> None:
    assert cell_xy(label) == xy


@pytest.mark.parametrize("label", ["dairy", "O", "12", "O-2"])
def test_other_labels_have_no_coordinates(label: str) -> None:
    assert cell_xy(label) is None


def test_a_layout_needs_every_label_on_the_grid() -> None:
    assert Layout.from_labels(["A01", "dairy"]) is None
    layout = Layout.from_labels(["A01", "D05"])
    assert layout is not None
    assert layout.distances()[0, 1] == pytest.approx(5.0)


def test_zones_are_3_by_3_blocks_starting_at_row_1() -> None:
    xy = np.array([[0, 1], [2, 3], [3, 3], [2, 4]], dtype=float)
    assert zone_of(xy).tolist() == [[0, 0], [0, 0], [1, 0], [0, 1]]
    assert zone_name(14, 2) == "Z-M01"
    assert zone_name(26, 7) == "Z-Y07"  # block of columns Y, Z, AA
    assert zone_name(28, 7) == "Z-AB07"
