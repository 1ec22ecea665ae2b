"""The physical fleet: each machine's stock and DEX meters, moved by sampled demand and by fills.

Pure (no I/O). Vends are drawn from the column's ``ColumnDemand.sample_vends`` window by window, but a
column sells only while it holds stock: vends beyond it are *lost sales* (counted, never metered), so a
sold-out column's PA201 stands still. Meters are cumulative from the machine's first read (PA201/PA202
never reset), which is what the platform differences between audits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from tradeoff.vending.dex import AuditInput, ColumnInput, write_dex
from tradeoff.vending.sim_fleet import ColumnSpec, FleetSpec, MachineSpec
from tradeoff.vending.sim_seed import MachineResume


@dataclass
class ColumnState:
    spec: ColumnSpec
    stock: int
    vends_total: int = 0
    value_total: int = 0
    sold: int = 0  # this run
    lost: int = 0  # demand that found the column empty (this run)


@dataclass
class MachineState:
    spec: MachineSpec
    columns: dict[str, ColumnState]
    sampled_until: datetime  # vends before this instant are applied
    rng: np.random.Generator
    read_counter: int = 0
    last_read_at: datetime | None = None
    fills: int = 0
    units_filled: int = 0


class FleetModel:
    """Every machine of ``spec`` from ``start`` on; the same seed, start and calls give the same fleet."""

    def __init__(
        self, spec: FleetSpec, *, start: datetime, seed: int, resume: Mapping[str, MachineResume] | None = None
    ) -> None:
        self.spec = spec
        self.machines: dict[str, MachineState] = {}
        for index, machine in enumerate(spec.machines):
            state = (resume or {}).get(machine.serial)
            columns = {}
            for column, share in zip(machine.columns, machine.initial_fill, strict=True):
                saved = state.columns.get(column.selection) if state is not None else None
                if saved is None:
                    columns[column.selection] = ColumnState(column, stock=round(column.par * share))
                else:
                    columns[column.selection] = ColumnState(
                        column, stock=min(saved.stock, column.capacity), vends_total=saved.vends_total,
                        value_total=saved.value_total,
                    )  # fmt: skip
            self.machines[machine.serial] = MachineState(
                spec=machine,
                columns=columns,
                sampled_until=start,
                rng=np.random.default_rng([seed, index]),
                read_counter=state.read_counter if state is not None else 0,
                last_read_at=state.last_read_at if state is not None else None,
            )

    def advance(self, serial: str, until: datetime) -> None:
        """Apply the vends of [sampled_until, until): each column sells while it has stock."""
        machine = self.machines[serial]
        if until <= machine.sampled_until:
            return
        for column in machine.columns.values():
            wanted = len(column.spec.demand.sample_vends(machine.sampled_until, until, machine.rng))
            sold = min(wanted, column.stock)
            column.stock -= sold
            column.sold += sold
            column.lost += wanted - sold
            column.vends_total += sold
            column.value_total += sold * column.spec.price
        machine.sampled_until = until

    def fill(self, serial: str, picks: Mapping[str, int], at: datetime) -> dict[str, int]:
        """A driver's visit at ``at``: add each pick up to the column's capacity; returns the units put in."""
        self.advance(serial, at)
        machine = self.machines[serial]
        added: dict[str, int] = {}
        for selection, quantity in picks.items():
            column = machine.columns.get(selection)
            if column is None or quantity <= 0:
                continue
            units = min(quantity, column.spec.capacity - column.stock)
            if units > 0:
                column.stock += units
                added[selection] = units
        machine.fills += 1
        machine.units_filled += sum(added.values())
        return added

    def audit(self, serial: str, at: datetime) -> bytes:
        """Read the machine at ``at`` (whole seconds, UTC = machine time): a DEX file with cumulative meters."""
        at = at.astimezone(UTC).replace(microsecond=0)
        self.advance(serial, at)
        machine = self.machines[serial]
        machine.read_counter += 1
        previous = machine.last_read_at
        machine.last_read_at = at
        columns = tuple(
            ColumnInput(c.spec.selection, c.spec.price, c.vends_total, c.value_total, c.spec.sku)
            for c in machine.columns.values()
        )
        return write_dex(
            AuditInput(
                serial=machine.spec.serial,
                model="Sim Combo 8",
                read_at=at.replace(tzinfo=None),
                read_counter=machine.read_counter,
                previous_read_at=previous.astimezone(UTC).replace(tzinfo=None) if previous is not None else None,
                columns=columns,
            )
        )

    def stock(self, serial: str) -> dict[str, int]:
        return {s: c.stock for s, c in self.machines[serial].columns.items()}

    def totals(self) -> dict[str, int]:
        """Fleet-wide counters for the summary: units sold, lost, filled; columns empty now."""
        columns = [c for m in self.machines.values() for c in m.columns.values()]
        return {
            "sold": sum(c.sold for c in columns),
            "lost": sum(c.lost for c in columns),
            "filled": sum(m.units_filled for m in self.machines.values()),
            "visits": sum(m.fills for m in self.machines.values()),
            "empty_columns": sum(1 for c in columns if c.stock == 0),
        }
