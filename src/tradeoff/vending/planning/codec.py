"""PlanRequest from JSON and Plan to JSON: the file format of ``tradeoff vending plan --request``.

Times are ISO 8601 with an offset (naive times are rejected: planning mixes shifts, windows and forecasts);
a column's forecast is ``{"origin", "daily_mean", "daily_var", "model", "shared_cv2"?}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from tradeoff.core.errors import InvalidInput
from tradeoff.vending.forecast.model import ColumnForecast
from tradeoff.vending.planning.model import (
    CasePolicy,
    ColumnState,
    GeoPoint,
    MachineState,
    OpeningWindow,
    Plan,
    PlanRequest,
    TruckState,
)

POLICIES = ("unit", "half_case", "case")


def request_from_json(data: Mapping[str, Any]) -> PlanRequest:
    """Parse a request; a missing or malformed field raises ``InvalidInput`` naming it."""
    policy = data.get("case_policy", "unit")
    if policy not in POLICIES:
        raise InvalidInput("case_policy", f"must be one of {', '.join(POLICIES)}")
    return PlanRequest(
        now=_time(data, "now"),
        trucks=[_truck(t, f"trucks[{i}]") for i, t in enumerate(_list(data, "trucks"))],
        machines=[_machine(m, f"machines[{i}]") for i, m in enumerate(_list(data, "machines"))],
        next_opportunity=_time(data, "next_opportunity"),
        case_policy=cast(CasePolicy, policy),
        service_level=float(data.get("service_level", 0.9)),
    )


def request_to_json(request: PlanRequest) -> dict[str, Any]:
    """The inverse of ``request_from_json``."""
    return {
        "now": request.now.isoformat(),
        "next_opportunity": request.next_opportunity.isoformat(),
        "case_policy": request.case_policy,
        "service_level": request.service_level,
        "trucks": [
            {
                "truck_id": t.truck_id,
                "depot": {"lat": t.depot.lat, "lon": t.depot.lon},
                "capacity_units": t.capacity_units,
                "shift_start": t.shift_start.isoformat(),
                "shift_end": t.shift_end.isoformat(),
            }
            for t in request.trucks
        ],
        "machines": [
            {
                "machine_id": m.machine_id,
                "location": {"lat": m.location.lat, "lon": m.location.lon},
                "service_minutes": m.service_minutes,
                "service_seconds_per_unit": m.service_seconds_per_unit,
                "windows": [{"start": w.start.isoformat(), "end": w.end.isoformat()} for w in m.windows],
                "called_at": None if m.called_at is None else m.called_at.isoformat(),
                "columns": [
                    {
                        "selection": c.selection,
                        "product": c.product,
                        "capacity": c.capacity,
                        "par": c.par,
                        "threshold": c.threshold,
                        "on_hand": c.on_hand,
                        "case_size": c.case_size,
                        "forecast": {
                            "origin": c.forecast.origin.isoformat(),
                            "daily_mean": list(c.forecast.daily_mean),
                            "daily_var": list(c.forecast.daily_var),
                            "model": c.forecast.model,
                            "shared_cv2": c.forecast.shared_cv2,
                        },
                    }
                    for c in m.columns
                ],
            }
            for m in request.machines
        ],
    }


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """A JSON-ready dict (times as ISO strings)."""
    return {
        "created_at": plan.created_at.isoformat(),
        "trucks": [
            {
                "truck_id": truck.truck_id,
                "departs": truck.departs.isoformat(),
                "returns": truck.returns.isoformat(),
                "distance_m": truck.distance_m,
                "load": truck.load,
                "stops": [
                    {
                        "machine_id": stop.machine_id,
                        "eta": stop.eta.isoformat(),
                        "departs": stop.departs.isoformat(),
                        "reason": stop.reason,
                        "picks": [
                            {"selection": p.selection, "product": p.product, "quantity": p.quantity} for p in stop.picks
                        ],
                    }
                    for stop in truck.stops
                ],
            }
            for truck in plan.trucks
        ],
        "deferred": list(plan.deferred),
        "meta": plan.meta,
    }


def _truck(data: Any, where: str) -> TruckState:
    obj = _obj(data, where)
    return TruckState(
        truck_id=_str(obj, "truck_id", where),
        depot=_point(obj.get("depot"), f"{where}.depot"),
        capacity_units=int(_num(obj, "capacity_units", where)),
        shift_start=_time(obj, "shift_start", where),
        shift_end=_time(obj, "shift_end", where),
    )


def _machine(data: Any, where: str) -> MachineState:
    obj = _obj(data, where)
    windows = tuple(
        OpeningWindow(_time(_obj(w, f"{where}.windows[{i}]"), "start", where), _time(w, "end", where))
        for i, w in enumerate(_list(obj, "windows", where))
    )
    called = obj.get("called_at")
    return MachineState(
        machine_id=_str(obj, "machine_id", where),
        location=_point(obj.get("location"), f"{where}.location"),
        service_minutes=_num(obj, "service_minutes", where),
        service_seconds_per_unit=_num(obj, "service_seconds_per_unit", where),
        windows=windows,
        columns=tuple(_column(c, f"{where}.columns[{i}]") for i, c in enumerate(_list(obj, "columns", where))),
        called_at=None if called is None else _time(obj, "called_at", where),
    )


def _column(data: Any, where: str) -> ColumnState:
    obj = _obj(data, where)
    forecast = _obj(obj.get("forecast"), f"{where}.forecast")
    means = [float(x) for x in _list(forecast, "daily_mean", f"{where}.forecast")]
    variances = [float(x) for x in _list(forecast, "daily_var", f"{where}.forecast")]
    if not means or len(means) != len(variances):
        raise InvalidInput(f"{where}.forecast", "daily_mean and daily_var must be non-empty and of equal length")
    return ColumnState(
        selection=_str(obj, "selection", where),
        product=_str(obj, "product", where),
        capacity=int(_num(obj, "capacity", where)),
        par=int(_num(obj, "par", where)),
        threshold=int(_num(obj, "threshold", where)),
        on_hand=_num(obj, "on_hand", where),
        case_size=int(obj.get("case_size", 1)),
        forecast=ColumnForecast(
            origin=_time(forecast, "origin", f"{where}.forecast"),
            daily_mean=tuple(means),
            daily_var=tuple(variances),
            model=str(forecast.get("model", "unknown")),
            shared_cv2=float(forecast.get("shared_cv2", 0.0)),
        ),
    )


def _obj(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInput(where, "must be an object")
    return data


def _list(data: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise InvalidInput(_at(where, key), "must be a list")
    return value


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(_at(where, key), "must be a non-empty string")
    return value


def _num(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(_at(where, key), "must be a number")
    return float(value)


def _point(data: Any, where: str) -> GeoPoint:
    obj = _obj(data, where)
    return GeoPoint(lat=_num(obj, "lat", where), lon=_num(obj, "lon", where))


def _time(data: Mapping[str, Any], key: str, where: str = "") -> datetime:
    value = data.get(key)
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(_at(where, key), "must be an ISO 8601 time with an offset")
    return parsed


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
