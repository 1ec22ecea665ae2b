"""Small, readable planning inputs: a depot, machines at given offsets (metres), constant-rate columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tradeoff.vending.forecast.model import ColumnForecast
from tradeoff.vending.planning.geo import offset
from tradeoff.vending.planning.model import (
    CasePolicy,
    ColumnState,
    GeoPoint,
    MachineState,
    OpeningWindow,
    PlanRequest,
    TruckState,
)

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 06:00
DEPOT = GeoPoint(52.37, 4.89)
SHIFT = (NOW.replace(hour=7), NOW.replace(hour=17))


def column(
    selection: str = "10", *, on_hand: float, rate: float, capacity: int = 40, threshold: int = 8, case_size: int = 12
) -> ColumnState:
    forecast = ColumnForecast(origin=NOW, daily_mean=(rate,) * 21, daily_var=(rate,) * 21, model="constant")
    return ColumnState(selection, f"product-{selection}", capacity, capacity, threshold, on_hand, case_size, forecast)


def machine(
    machine_id: str,
    *,
    east_m: float,
    north_m: float = 0.0,
    columns: tuple[ColumnState, ...],
    windows: tuple[OpeningWindow, ...] | None = None,
    called: bool = False,
) -> MachineState:
    return MachineState(
        machine_id=machine_id,
        location=offset(DEPOT, east_m=east_m, north_m=north_m),
        service_minutes=10,
        service_seconds_per_unit=4,
        windows=windows if windows is not None else (OpeningWindow(NOW.replace(hour=0), NOW + timedelta(days=1)),),
        columns=columns,
        called_at=NOW if called else None,
    )


def truck(truck_id: str = "T1", *, capacity: int = 1000) -> TruckState:
    return TruckState(truck_id, DEPOT, capacity, SHIFT[0], SHIFT[1])


def request(
    machines: list[MachineState], *, trucks: list[TruckState] | None = None, policy: CasePolicy = "unit"
) -> PlanRequest:
    return PlanRequest(
        now=NOW,
        trucks=trucks if trucks is not None else [truck()],
        machines=machines,
        next_opportunity=NOW + timedelta(days=1, hours=1),
        case_policy=policy,
    )
