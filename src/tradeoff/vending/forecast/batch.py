"""Run one statsforecast model over many series in a single call (one DataFrame, many ``unique_id``s).

The series are weekday-adjusted values on open days, so time is a step counter (integer ``ds``,
``freq=1``): no calendar, no frequency inference, no seasonality left to model. Only point forecasts are
taken: the variance comes from our own, outlier-robust estimate (see ``fit.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import TSB, AutoETS, CrostonOptimized, CrostonSBA, HistoricAverage

K = TypeVar("K", bound=Hashable)

MODELS: dict[str, Callable[[], Any]] = {
    "ets": lambda: AutoETS(model="ZZN"),  # level, optional (damped) trend; error type by AICc
    "ses": lambda: AutoETS(model="ANN"),
    "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.05),
    "croston": lambda: CrostonOptimized(),
    "sba": lambda: CrostonSBA(),
    "mean": lambda: HistoricAverage(),
}


def run_models(name: str, series: Mapping[K, np.ndarray], *, h: int) -> dict[K, np.ndarray]:
    """Point forecasts for ``h`` steps after the end of each series."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    keys = list(series)
    if not keys:
        return {}
    lengths = [len(series[key]) for key in keys]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(len(keys)), lengths),
            "ds": np.concatenate([np.arange(1, n + 1) for n in lengths]),
            "y": np.concatenate([np.asarray(series[key], dtype=float) for key in keys]),
        }
    )
    model = MODELS[name]()
    out = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=frame, h=h)
    out = out.sort_values(["unique_id", "ds"])
    points = np.nan_to_num(out[str(model)].to_numpy(dtype=float), nan=0.0).reshape(len(keys), h)
    return {key: points[index] for index, key in enumerate(keys)}
