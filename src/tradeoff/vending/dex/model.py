"""What a DEX/EVA-DTS audit says, as frozen values. Amounts stay integers in minor units as the machine
wrote them: ``decimals`` (ID401) says where the decimal point goes, it is never applied here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CrcVariant = Literal["incl", "excl"]


@dataclass(frozen=True, slots=True)
class Machine:
    serial: str | None  # ID101, else the DXS communication id, else the control board serial
    serial_source: str | None  # "ID101", "DXS01" or "CB101"
    model: str | None  # ID102
    build: str | None  # ID103
    location: str | None  # ID104
    asset: str | None  # ID106
    comm_id: str | None  # DXS01: the communication id of the data carrier / machine

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "serial_source": self.serial_source,
            "model": self.model,
            "asset": self.asset,
            "build": self.build,
            "location": self.location,
            "comm_id": self.comm_id,
        }


@dataclass(frozen=True, slots=True)
class ControlBoard:
    serial: str | None  # CB101
    model: str | None  # CB102
    software: str | None  # CB103

    def to_json(self) -> dict[str, Any]:
        return {"serial": self.serial, "model": self.model, "software": self.software}


@dataclass(frozen=True, slots=True)
class Counter:
    """A value/count pair since initialization and since the last reset (VA1, CA2, DA2…)."""

    value: int | None
    vends: int | None
    value_since_reset: int | None
    vends_since_reset: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "vends": self.vends,
            "value": self.value,
            "vends_since_reset": self.vends_since_reset,
            "value_since_reset": self.value_since_reset,
        }


@dataclass(frozen=True, slots=True)
class Reads:
    """EA3: how many times the audit was read, this read's and the previous read's machine time."""

    count: int | None
    at: str | None
    previous_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "at": self.at, "previous_at": self.previous_at}


@dataclass(frozen=True, slots=True)
class MachineEvent:
    """EA1: an event (door open, jam, power…) with the machine time it happened."""

    code: str
    at: str | None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "at": self.at}


@dataclass(frozen=True, slots=True)
class EventCounter:
    """EA2: how often an event happened since initialization and since reset, and whether it is active."""

    code: str
    count: int | None
    count_since_reset: int | None
    active: str | None  # EA205: 1 while the event is active

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "count": self.count,
            "count_since_reset": self.count_since_reset,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class SoldOut:
    """PA5: when the column last sold out and how many times it did."""

    last_at: str | None
    count: int | None
    duration: int | None

    def to_json(self) -> dict[str, Any]:
        return {"last_at": self.last_at, "count": self.count, "duration": self.duration}


@dataclass(frozen=True, slots=True)
class PaymentSplit:
    """PA7: a column's sales through one payment device (CA cash, DA/DB cashless, TA token) and price list."""

    device: str
    price_list: str | None
    price: int | None
    vends_total: int | None
    value_total: int | None
    vends_since_reset: int | None
    value_since_reset: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "price_list": self.price_list,
            "price": self.price,
            "vends_total": self.vends_total,
            "value_total": self.value_total,
            "vends_since_reset": self.vends_since_reset,
            "value_since_reset": self.value_since_reset,
        }


@dataclass(frozen=True, slots=True)
class Column:
    """One selection (PA1) with the PA2–PA8 segments that follow it."""

    selection: str
    product: str | None  # PA103
    price: int | None  # PA102 (PA103 in the shifted layout, see the parser)
    vends_total: int | None = None  # PA201: since initialization, never reset
    value_total: int | None = None  # PA202
    vends_since_reset: int | None = None  # PA203
    value_since_reset: int | None = None  # PA204
    test_vends: int | None = None  # PA301
    test_vends_since_reset: int | None = None  # PA303
    free_vends: int | None = None  # PA401
    free_vends_since_reset: int | None = None  # PA403
    sold_out: SoldOut | None = None  # PA5
    payments: tuple[PaymentSplit, ...] = ()  # PA7
    extra: tuple[str, ...] = ()  # PA104… as written (capacity, status…; vendor-specific, not interpreted)
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "selection": self.selection,
            "product": self.product,
            "price": self.price,
            "vends_total": self.vends_total,
            "value_total": self.value_total,
            "vends_since_reset": self.vends_since_reset,
            "value_since_reset": self.value_since_reset,
            "test_vends": self.test_vends,
            "test_vends_since_reset": self.test_vends_since_reset,
            "free_vends": self.free_vends,
            "free_vends_since_reset": self.free_vends_since_reset,
            "sold_out": self.sold_out.to_json() if self.sold_out else None,
            "payments": [split.to_json() for split in self.payments],
            "pa1_extra": list(self.extra),
        }


@dataclass(frozen=True, slots=True)
class Checksum:
    present: bool
    valid: bool | None  # None when there is no G85 (nothing to verify)
    variant: CrcVariant | None  # which byte range matched
    stated: str | None  # the G85 element as written
    computed: str | None  # CRC over the standard ("incl") range of the raw bytes
    line_ends_normalized: bool = False  # matched only after LF → CRLF (files re-saved with LF line ends)

    def to_json(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "valid": self.valid,
            "variant": self.variant,
            "stated": self.stated,
            "computed": self.computed,
            "line_ends_normalized": self.line_ends_normalized,
        }


@dataclass(frozen=True, slots=True)
class DexAudit:
    machine: Machine
    control_board: ControlBoard | None
    read_at: str | None  # ISO 8601 machine-local time (DEX carries no UTC offset)
    read_at_source: str | None  # "ID5" or "EA3"
    reads: Reads | None
    currency: str | None  # ISO 4217 alpha code
    decimals: int | None
    totals: Counter | None  # VA1 paid vends
    test_vends: Counter | None  # VA2
    free_vends: Counter | None  # VA3
    cash: Counter | None  # CA2
    cashless: Counter | None  # DA2
    cashless_2: Counter | None  # DB2
    columns: tuple[Column, ...]
    events: tuple[MachineEvent, ...]
    event_counters: tuple[EventCounter, ...]
    manufacturer_data: tuple[tuple[str, ...], ...]  # MA5, as written
    dex_version: str | None  # DXS03/DXS04, e.g. "VA" "V0/6"
    checksum: Checksum
    truncated: bool
    segment_count: int
    warnings: tuple[str, ...] = field(default=())

    def column(self, selection: str) -> Column | None:
        return next((column for column in self.columns if column.selection == selection), None)

    def to_json(self) -> dict[str, Any]:
        totals = self.totals.to_json() if self.totals else _empty_counter()
        return {
            "format": "dex",
            "amounts": "integer minor units; decimals not applied",
            "machine": self.machine.to_json(),
            "control_board": self.control_board.to_json() if self.control_board else None,
            "read_at": self.read_at,
            "read_at_source": self.read_at_source,
            "reads": self.reads.to_json() if self.reads else None,
            "currency": self.currency,
            "decimals": self.decimals,
            "totals": {
                **totals,
                "test_vends": self.test_vends.vends if self.test_vends else None,
                "test_value": self.test_vends.value if self.test_vends else None,
                "free_vends": self.free_vends.vends if self.free_vends else None,
                "free_value": self.free_vends.value if self.free_vends else None,
            },
            "payments": {
                "cash": self.cash.to_json() if self.cash else None,
                "cashless": self.cashless.to_json() if self.cashless else None,
                "cashless_2": self.cashless_2.to_json() if self.cashless_2 else None,
            },
            "columns": [column.to_json() for column in self.columns],
            "events": [event.to_json() for event in self.events],
            "event_counters": [counter.to_json() for counter in self.event_counters],
            "manufacturer_data": [list(elements) for elements in self.manufacturer_data],
            "dex_version": self.dex_version,
            "checksum": self.checksum.to_json(),
            "truncated": self.truncated,
            "segment_count": self.segment_count,
            "warnings": list(self.warnings),
        }


def _empty_counter() -> dict[str, Any]:
    return {"vends": None, "value": None, "vends_since_reset": None, "value_since_reset": None}
