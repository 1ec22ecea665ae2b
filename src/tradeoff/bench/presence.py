"""``tradeoff bench presence``: the zone model's accuracy under grouped cross-validation.

Two modes. UCI (``--data DIR``): the UCI BLE RSSI dataset, groups = visits to a cell (see
``presence.model.grouping``), cell-level metrics. Generic (``--csv``): any labelled walk-through, groups from
a column, class-level metrics. Both report the plain kNN reference measured in the same run, same folds.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tradeoff.bench.machine import cpu_model
from tradeoff.presence.model.estimator import (
    BlendZoneModel,
    KernelFingerprint,
    extra_trees,
    plain_knn,
    random_forest,
    weighted_knn_exponential,
)
from tradeoff.presence.model.evaluation import Trainer, cross_validate, fixed_trainer, kernel_trainer
from tradeoff.presence.model.grouping import visit_groups
from tradeoff.presence.model.layout import Layout
from tradeoff.presence.model.metrics import cell_metrics, class_metrics
from tradeoff.presence.model.walkthrough import Walkthrough, load_csv

UCI_FILE = "iBeacon_RSSI_Labeled.csv"
UCI_BEACONS = tuple(f"b30{n:02d}" for n in range(1, 14))
UCI_TIME_FORMAT = "%m-%d-%Y %H:%M:%S"
TARGET_EXACT = 0.40
TARGET_MEAN_ERROR = 1.2
DEFAULT_WINDOW_S = 5.0
TRACKED = (
    "causal forward filter (HMM over cells, motion model chosen by inner CV) through each test fold's scans in "
    "time order as one device; never told the groups, i.e. when the device moved"
)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PresenceBenchOptions:
    folds: int = 5
    seed: int = 0
    window_s: float = DEFAULT_WINDOW_S
    compare: bool = True
    inner_folds: int = 5
    repeats: int = 1
    grouping: str = "visit"
    tracking: bool = True
    """With times: also run each test fold through the live tracker (``evidence.track``), the "tracked" view."""


GROUPINGS = {
    "visit": "visit: a cell's scans < 1 h apart (= cell × survey day on this data)",
    "day": "survey day: whole days held out; evidence windows then also span the surveyor's moves",
}


def load_uci(data_dir: Path | str, grouping: str = "visit") -> Walkthrough:
    """The labelled UCI scans, grouped by visit (default) or by survey day (stricter, see ``GROUPINGS``)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping: {grouping!r} is not one of {', '.join(GROUPINGS)}")
    path = Path(data_dir) / UCI_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (expected the UCI BLE RSSI dataset, see its README)")
    data = load_csv(path, label="location", rssi=UCI_BEACONS, time="date", time_format=UCI_TIME_FORMAT)
    assert data.times is not None
    if grouping == "day":
        return replace(data, groups=(data.times // 86_400).astype(np.int64).astype(str))
    return replace(data, groups=visit_groups(data.labels, data.times).astype(str))


def _candidates(options: PresenceBenchOptions) -> list[tuple[str, str, Trainer]]:
    """(name, description, trainer): the shipped model first, then the reference, then the others tried."""
    chosen = (
        "kernel",
        "kernel fingerprint, parameters by inner grouped CV",
        kernel_trainer(inner_folds=options.inner_folds, seed=options.seed),
    )
    baseline = ("knn5", "plain kNN, k=5, uniform, raw dBm (-200 → -105)", fixed_trainer(plain_knn))
    if not options.compare:
        return [chosen, baseline]
    return [
        chosen,
        baseline,
        ("knn1", "plain kNN, k=1", fixed_trainer(lambda: plain_knn(1))),
        (
            "wknn9_exp",
            "distance-weighted kNN, k=9, exponential representation",
            fixed_trainer(weighted_knn_exponential),
        ),
        ("extra_trees", "extra trees, 200 trees", fixed_trainer(lambda: extra_trees(options.seed))),
        ("random_forest", "random forest, 200 trees", fixed_trainer(lambda: random_forest(options.seed))),
        (
            "blend_kernel_trees",
            "mean of kernel (defaults) and extra-trees posteriors",
            fixed_trainer(lambda: BlendZoneModel([KernelFingerprint(), extra_trees(options.seed)])),
        ),
        (
            "kernel_defaults",
            "kernel fingerprint, fixed defaults (no parameter search)",
            fixed_trainer(KernelFingerprint),
        ),
    ]


def _ceiling(labels: np.ndarray[Any, Any], groups: np.ndarray[Any, Any], folds: int, seed: int) -> float:
    """Share of scans whose cell appears in their fold's training part: no model can beat this exactly."""
    from tradeoff.presence.model.grouping import grouped_folds

    seen = 0
    for train, test in grouped_folds(np.unique(groups, return_inverse=True)[1], folds, seed):
        seen += int(np.isin(labels[test], labels[train]).sum())
    return seen / len(labels)


def _kernel_params(models: Sequence[object]) -> list[dict[str, Any]]:
    return [asdict(m.params) for m in models if isinstance(m, KernelFingerprint)]


def _motion_models(models: Sequence[object]) -> list[dict[str, Any]]:
    return [asdict(m.motion) for m in models if isinstance(m, KernelFingerprint)]


def _metrics(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], grid: bool) -> dict[str, Any]:
    result: dict[str, Any] = cell_metrics(truth, predicted) if grid else {}
    classes = class_metrics(truth, predicted)
    result.update(accuracy=classes["accuracy"], macro_accuracy=classes["macro_accuracy"])
    return result


def evaluate(data: Walkthrough, options: PresenceBenchOptions, progress: Progress | None = None) -> dict[str, Any]:
    """Cross-validate every candidate on the same folds; per scan, and (with times) over the window."""
    if data.groups is None:
        raise ValueError("group: grouped cross-validation needs a group column")
    windows = [0.0] if data.times is None or options.window_s <= 0 else [0.0, options.window_s]
    tracking = data.times is not None and options.tracking
    grid = Layout.from_labels(list(np.unique(data.labels))) is not None
    results = []
    for name, description, trainer in _candidates(options):
        started = time.perf_counter()
        if progress:
            progress(f"{name}: {options.folds}-fold grouped CV")
        cv = cross_validate(
            trainer,
            data.matrix,
            data.labels,
            data.groups,
            times=data.times,
            windows=windows,
            n_folds=options.folds,
            seed=options.seed,
            tracking=tracking,
        )
        row: dict[str, Any] = {"name": name, "description": description}
        row["per_scan"] = _metrics(data.labels, cv.predictions[0.0], grid)
        if len(windows) > 1:
            row["windowed"] = _metrics(data.labels, cv.predictions[options.window_s], grid)
        if cv.tracked is not None:
            row["tracked"] = _metrics(data.labels, cv.tracked, grid)
        if name == "kernel":
            row["params_per_fold"] = _kernel_params(cv.models)
            if tracking:
                row["motion_per_fold"] = _motion_models(cv.models)
            row["per_class"] = class_metrics(data.labels, cv.predictions[windows[-1]])["per_class"]
        row["seconds"] = round(time.perf_counter() - started, 2)
        results.append(row)
    return {
        "grid_labels": grid,
        "windows_s": windows,
        "ceiling_exact": _ceiling(data.labels, data.groups, options.folds, options.seed),
        "models": results,
    }


def _targets(block: dict[str, float]) -> dict[str, Any]:
    return {
        "exact_cell_accuracy": TARGET_EXACT,
        "mean_cell_error": TARGET_MEAN_ERROR,
        "met": block["exact_cell_accuracy"] >= TARGET_EXACT and block["mean_cell_error"] <= TARGET_MEAN_ERROR,
    }


def _header(mode: str, data: Walkthrough, options: PresenceBenchOptions, source: str) -> dict[str, Any]:
    import sklearn

    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    return {
        "benchmark": "presence",
        "mode": mode,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model(cpuinfo) if cpuinfo else platform.processor() or "unknown",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit_learn": sklearn.__version__,
        },
        "data": {
            "source": source,
            "scans": len(data.labels),
            "classes": len(np.unique(data.labels)),
            "beacons": len(data.beacons),
            "mean_beacons_heard": float((~np.isnan(data.matrix)).sum(axis=1).mean()),
            "groups": len(np.unique(data.groups)) if data.groups is not None else 0,
        },
        "cv": {
            "kind": "shuffled GroupKFold: every group wholly in one test fold",
            "folds": options.folds,
            "seed": options.seed,
            "inner_folds": options.inner_folds,
            "window_s": options.window_s if data.times is not None else None,
            "tracked": TRACKED if data.times is not None and options.tracking else None,
        },
    }


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values))


def run_uci(data_dir: Path | str, options: PresenceBenchOptions, progress: Progress | None = None) -> dict[str, Any]:
    """UCI mode; with ``repeats`` > 1 the CV is rerun with seeds seed, seed+1, … and the headline is the mean."""
    data = load_uci(data_dir, options.grouping)
    report = _header("uci", data, options, str(Path(data_dir) / UCI_FILE))
    report["data"]["grouping"] = GROUPINGS[options.grouping]
    started = time.perf_counter()
    runs = []
    for repeat in range(max(options.repeats, 1)):
        seeded = replace(options, seed=options.seed + repeat, compare=options.compare and repeat == 0)
        if progress:
            progress(f"seed {seeded.seed}")
        runs.append(evaluate(data, seeded, progress))
    first = runs[0]
    keys = ("exact_cell_accuracy", "mean_cell_error", "zone_accuracy")
    per_seed: list[dict[str, Any]] = [
        {"seed": options.seed + i, "kernel": _pick(run["models"][0], keys), "knn5": _pick(run["models"][1], keys)}
        for i, run in enumerate(runs)
    ]
    chosen = {
        view: {key: _mean([row["kernel"][view][key] for row in per_seed]) for key in keys}
        for view in per_seed[0]["kernel"]
    }
    baseline = {
        view: {key: _mean([row["knn5"][view][key] for row in per_seed]) for key in keys} for view in per_seed[0]["knn5"]
    }
    report["cv"]["seeds"] = [row["seed"] for row in per_seed]
    report.update(
        {
            "model": "kernel",
            **chosen["per_scan"],
            "windowed": chosen.get("windowed"),
            "tracked": chosen.get("tracked"),
            "baseline": {"name": "knn5", **baseline},
            "targets": {view: _targets(block) for view, block in chosen.items()},
            "per_seed": per_seed,
            "ceiling_exact": _mean([run["ceiling_exact"] for run in runs]),
            "models": first["models"],
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return report


def _pick(row: dict[str, Any], keys: Sequence[str]) -> dict[str, dict[str, float]]:
    views = [view for view in ("per_scan", "windowed", "tracked") if view in row]
    return {view: {key: row[view][key] for key in keys} for view in views}


def run_csv(
    path: Path | str,
    *,
    label: str,
    group: str,
    rssi: Sequence[str],
    time_column: str | None,
    time_format: str | None,
    options: PresenceBenchOptions,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Generic mode. With a time column the headline is the windowed (smoothed) figure; ``tracked`` comes along.

    The tracker takes each test fold as one device's stream in time order (one surveyor's phone).
    """
    data = load_csv(path, label=label, rssi=rssi, group=group, time=time_column, time_format=time_format)
    report = _header("csv", data, options, str(path))
    report["data"]["grouping"] = f"column {group!r}"
    started = time.perf_counter()
    result = evaluate(data, options, progress)
    chosen, baseline = result["models"][0], result["models"][1]
    headline = "windowed" if "windowed" in chosen else "per_scan"
    report.update(
        {
            "model": "kernel",
            "headline": headline,
            "accuracy": chosen[headline]["accuracy"],
            "macro_accuracy": chosen[headline]["macro_accuracy"],
            "per_class": chosen["per_class"],
            "baseline": {
                "name": baseline["name"],
                "accuracy": baseline[headline]["accuracy"],
                "macro_accuracy": baseline[headline]["macro_accuracy"],
            },
            "ceiling_accuracy": result["ceiling_exact"],
            "models": result["models"],
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    if result["grid_labels"]:
        for key in ("exact_cell_accuracy", "mean_cell_error", "zone_accuracy"):
            report[key] = chosen[headline][key]
    if "tracked" in chosen:
        report["tracked"] = chosen["tracked"]
        report["baseline"]["tracked"] = baseline["tracked"]
    return report
