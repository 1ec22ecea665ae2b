"""Walk-through files: labelled RSSI scans from a store survey (CSV, one scan per row)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tradeoff.presence.model.features import FloatArray, clean


@dataclass(frozen=True)
class Walkthrough:
    beacons: tuple[str, ...]
    matrix: FloatArray
    labels: npt.NDArray[np.str_]
    groups: npt.NDArray[np.str_] | None = None
    times: FloatArray | None = None
    """Seconds (epoch or any origin): only differences are used."""


def parse_times(values: Sequence[object], time_format: str | None = None) -> FloatArray:
    """Numbers are taken as seconds; text is parsed as dates (``time_format`` in strftime syntax if given)."""
    import pandas as pd

    series = pd.Series(values)
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.notna().all():
        return np.asarray(numeric.to_numpy(dtype=np.float64), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        stamps = pd.to_datetime(series, format=time_format or "mixed", errors="coerce")
    if stamps.isna().any():
        bad = series[stamps.isna()].iloc[0]
        raise ValueError(f"time: cannot read {bad!r} as a date or a number of seconds")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    epoch = pd.Timestamp("1970-01-01")
    return np.asarray(((stamps - epoch) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64))


def load_csv(
    path: Path | str,
    *,
    label: str,
    rssi: Sequence[str],
    group: str | None = None,
    time: str | None = None,
    time_format: str | None = None,
) -> Walkthrough:
    """Read the named columns; a missing column is an error that names it. Rows without a label are dropped."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    wanted = [label, *rssi, *(c for c in (group, time) if c)]
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    if not rssi:
        raise ValueError("rssi: name at least one beacon column")
    frame = frame[frame[label].str.strip() != ""]
    if frame.empty:
        raise ValueError(f"{path}: no labelled rows")
    readings = frame[list(rssi)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    return Walkthrough(
        beacons=tuple(rssi),
        matrix=clean(readings),
        labels=frame[label].str.strip().to_numpy(dtype=str),
        groups=frame[group].to_numpy(dtype=str) if group else None,
        times=parse_times(list(frame[time]), time_format) if time else None,
    )
