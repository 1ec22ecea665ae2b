"""Accuracy figures: cell level (grid labels) and class level (any labels)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tradeoff.presence.model.layout import Layout, zone_of


def class_metrics(truth: npt.ArrayLike, predicted: npt.ArrayLike) -> dict[str, Any]:
    """``accuracy`` over scans, ``macro_accuracy`` = mean of per-class accuracies (each class counts once)."""
    true_array, pred_array = np.asarray(truth, dtype=str), np.asarray(predicted, dtype=str)
    hits = true_array == pred_array
    per_class = {
        str(label): {"scans": int((true_array == label).sum()), "accuracy": float(hits[true_array == label].mean())}
        for label in np.unique(true_array)
    }
    return {
        "scans": len(true_array),
        "accuracy": float(hits.mean()),
        "macro_accuracy": float(np.mean([row["accuracy"] for row in per_class.values()])),
        "per_class": per_class,
    }


def cell_metrics(truth: npt.ArrayLike, predicted: npt.ArrayLike) -> dict[str, float]:
    """Exact cell, Euclidean error between cell centres (in cells) and 3×3 zone accuracy."""
    true_array, pred_array = np.asarray(truth, dtype=str), np.asarray(predicted, dtype=str)
    true_layout, pred_layout = Layout.from_labels(list(true_array)), Layout.from_labels(list(pred_array))
    if true_layout is None or pred_layout is None:
        raise ValueError("cell metrics need grid labels such as 'O02'")
    errors = np.sqrt(((true_layout.xy - pred_layout.xy) ** 2).sum(axis=1))
    zone_hits = (zone_of(true_layout.xy) == zone_of(pred_layout.xy)).all(axis=1)
    return {
        "exact_cell_accuracy": float((true_array == pred_array).mean()),
        "mean_cell_error": float(errors.mean()),
        "median_cell_error": float(np.median(errors)),
        "p90_cell_error": float(np.percentile(errors, 90)),
        "zone_accuracy": float(zone_hits.mean()),
    }
