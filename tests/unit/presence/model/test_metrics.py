"""Cell and class metrics on hand-checked examples."""

import pytest

from tradeoff.presence.model.metrics import cell_metrics, class_metrics


def test_cell_metrics() -> None:
    truth = ["A01", "A01", "D05", "C03"]
    predicted = ["A01", "B02", "D01", "D03"]
    metrics = cell_metrics(truth, predicted)
    assert metrics["exact_cell_accuracy"] == 0.25
    assert metrics["mean_cell_error"] == pytest.approx((0 + 2**0.5 + 4 + 1) / 4)
    assert metrics["zone_accuracy"] == 0.5  # A01/B02 share zone (0,0); C03 (col 2) vs D03 (col 3) do not


def test_cell_metrics_need_grid_labels() -> None:
    with pytest.raises(ValueError, match="grid labels"):
        cell_metrics(["dairy"], ["A01"])


def test_macro_accuracy_counts_each_class_once() -> None:
    metrics = class_metrics(["x", "x", "x", "y"], ["x", "x", "x", "x"])
    assert metrics["accuracy"] == 0.75
    assert metrics["macro_accuracy"] == 0.5
    assert metrics["per_class"]["y"] == {"scans": 1, "accuracy": 0.0}
