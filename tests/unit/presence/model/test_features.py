"""RSSI cleaning and representations: silence is NaN, never a fake reading."""

import numpy as np
import pytest

from tradeoff.presence.model.features import FLOOR_DBM, clean, dense, exponential, from_readings, heard, powed


def test_sentinels_blanks_and_zero_become_not_heard() -> None:
    matrix = clean([[-200, -199, -198, -70], [np.nan, 0, 5, -88]])
    assert heard(matrix).tolist() == [[False, False, False, True], [False, False, False, True]]


def test_clean_wants_a_matrix() -> None:
    with pytest.raises(ValueError, match="2-d"):
        clean([-70, -80])


def test_sparse_readings_follow_the_model_beacon_order_and_ignore_strangers() -> None:
    matrix = from_readings([{"b2": -70, "zz": -50}, {}], ("b1", "b2"))
    assert np.isnan(matrix[0, 0]) and matrix[0, 1] == -70
    assert np.isnan(matrix[1]).all()


def test_representations_map_silence_to_their_floor_and_keep_order() -> None:
    matrix = clean([[-200, -90, -60]])
    assert dense(matrix).tolist() == [[FLOOR_DBM, -90, -60]]
    for representation in (exponential, powed):
        values = representation(matrix)[0]
        assert values[0] == 0 and 0 < values[1] < values[2] <= 1
