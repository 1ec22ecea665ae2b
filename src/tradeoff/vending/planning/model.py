"""What planning takes and gives, independent of the database (the fleet store maps rows to these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tradeoff.vending.forecast.model import ColumnForecast

CasePolicy = Literal["unit", "half_case", "case"]
Reason = Literal["due", "called", "joined"]  # due: forecast to cross; called: the machine asked; joined: cheap to add


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True)
class OpeningWindow:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ColumnState:
    selection: str
    product: str
    capacity: int
    par: int  # fill-to level
    threshold: int  # service is due when on-hand falls to this many units
    on_hand: float  # estimated now
    case_size: int
    forecast: ColumnForecast


@dataclass(frozen=True)
class MachineState:
    machine_id: str
    location: GeoPoint
    service_minutes: float  # fixed time at the machine
    service_seconds_per_unit: float
    windows: Sequence[OpeningWindow]  # when the site lets a driver in, within the planning horizon
    columns: Sequence[ColumnState]
    called_at: datetime | None = None  # set when the machine itself asked for service


@dataclass(frozen=True)
class TruckState:
    truck_id: str
    depot: GeoPoint
    capacity_units: int
    shift_start: datetime
    shift_end: datetime


@dataclass(frozen=True)
class PlanRequest:
    now: datetime
    trucks: Sequence[TruckState]
    machines: Sequence[MachineState]
    next_opportunity: datetime  # the next time a plan could serve a machine (e.g. the next shift)
    case_policy: CasePolicy = "unit"
    service_level: float = 0.9  # quantile of demand used for "will cross before the next opportunity"
    later_opportunities: Sequence[datetime] = ()  # the ones after next_opportunity (default: one a day)


@dataclass(frozen=True)
class Pick:
    selection: str
    product: str
    quantity: int


@dataclass(frozen=True)
class PlannedStop:
    machine_id: str
    eta: datetime
    departs: datetime
    reason: Reason
    picks: tuple[Pick, ...]


@dataclass(frozen=True)
class TruckPlan:
    truck_id: str
    stops: tuple[PlannedStop, ...]
    load: dict[str, int]  # product → units to load at the depot
    distance_m: int
    departs: datetime
    returns: datetime


@dataclass(frozen=True)
class Plan:
    created_at: datetime
    trucks: tuple[TruckPlan, ...]
    deferred: tuple[str, ...]  # due machines that could not be fitted
    meta: dict[str, object] = field(default_factory=dict)
