"""``write_dex``: a valid DEX/EVA-DTS audit from a few facts (the simulator's machines send these).

Output is what a machine puts on the wire: CRLF line ends, ``G85`` over ``ST*`` … the CRLF before G85
(the standard "incl" range), ``SE01`` = segments from ST to SE inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tradeoff.vending.dex.crc import crc16_arc, format_g85
from tradeoff.vending.dex.model import DexAudit
from tradeoff.vending.dex.values import CURRENCIES

_NUMERIC = {alpha: numeric for numeric, alpha in CURRENCIES.items()}


@dataclass(frozen=True, slots=True)
class ColumnInput:
    selection: str
    price: int
    vends_total: int
    value_total: int
    product: str | None = None


@dataclass(frozen=True, slots=True)
class AuditInput:
    """What the writer needs; ``AuditInput.from_audit(parse_dex(write_dex(x))) == x``."""

    serial: str
    read_at: datetime  # machine-local wall-clock time, whole seconds
    read_counter: int
    columns: tuple[ColumnInput, ...]
    model: str | None = None
    previous_read_at: datetime | None = None
    currency: str = "EUR"
    decimals: int = 2

    @classmethod
    def from_audit(cls, audit: DexAudit) -> AuditInput:
        """The writer's input an audit corresponds to (for round trips and re-emitting audits)."""
        if audit.machine.serial is None or audit.read_at is None or audit.reads is None:
            raise ValueError("audit lacks a machine serial, read time or EA3 read counter")
        if audit.reads.count is None or audit.currency is None or audit.decimals is None:
            raise ValueError("audit lacks an EA3 read counter, currency or decimals")
        columns = []
        for column in audit.columns:
            if column.price is None or column.vends_total is None or column.value_total is None:
                raise ValueError(f"column {column.selection!r} lacks price, vends_total or value_total")
            columns.append(
                ColumnInput(column.selection, column.price, column.vends_total, column.value_total, column.product)
            )
        return cls(
            serial=audit.machine.serial,
            read_at=datetime.fromisoformat(audit.read_at),
            read_counter=audit.reads.count,
            columns=tuple(columns),
            model=audit.machine.model,
            previous_read_at=datetime.fromisoformat(audit.reads.previous_at) if audit.reads.previous_at else None,
            currency=audit.currency,
            decimals=audit.decimals,
        )


def write_dex(audit: AuditInput) -> bytes:
    """Encode ``audit``; raises ``ValueError`` naming the field that cannot be written."""
    _validate(audit)
    numeric = _NUMERIC.get(audit.currency)
    body = [
        _segment("ID1", audit.serial, audit.model or ""),
        _segment("ID4", str(audit.decimals), f"{numeric:03d}" if numeric else "", audit.currency),
        _segment("ID5", f"{audit.read_at:%Y%m%d}", f"{audit.read_at:%H%M%S}"),
        _segment(
            "VA1",
            str(sum(column.value_total for column in audit.columns)),
            str(sum(column.vends_total for column in audit.columns)),
        ),
    ]
    for column in audit.columns:
        body.append(_segment("PA1", column.selection, str(column.price), column.product or ""))
        body.append(_segment("PA2", str(column.vends_total), str(column.value_total)))
    previous = audit.previous_read_at
    body.append(
        _segment(
            "EA3",
            str(audit.read_counter),
            f"{audit.read_at:%y%m%d}",
            f"{audit.read_at:%H%M%S}",
            "",
            f"{previous:%y%m%d}" if previous else "",
            f"{previous:%H%M%S}" if previous else "",
        )
    )
    transaction = _segment("ST", "001", "0001") + b"".join(body)
    crc = crc16_arc(transaction)
    count = 1 + len(body) + 2  # ST + body + G85 + SE
    return b"".join(
        [
            _segment("DXS", audit.serial[:10], "VA", "V0/6", "1"),
            transaction,
            _segment("G85", format_g85(crc)),
            _segment("SE", str(count), "0001"),
            _segment("DXE", "1", "1"),
        ]
    )


def _segment(tag: str, *elements: str) -> bytes:
    while elements and elements[-1] == "":
        elements = elements[:-1]  # trailing empty elements are left out, as machines do
    return ("*".join((tag, *elements)) + "\r\n").encode("latin-1")


def _validate(audit: AuditInput) -> None:
    _text("serial", audit.serial, required=True)
    _text("model", audit.model)
    if not audit.columns:
        raise ValueError("columns: at least one column is required")
    selections = [column.selection for column in audit.columns]
    if len(set(selections)) != len(selections):
        raise ValueError("columns: selections must be unique")
    for index, column in enumerate(audit.columns):
        _text(f"columns[{index}].selection", column.selection, required=True)
        _text(f"columns[{index}].product", column.product)
        if column.product == "":
            raise ValueError(f"columns[{index}].product: use None for no product, not an empty string")
        for name in ("price", "vends_total", "value_total"):
            _count(f"columns[{index}].{name}", getattr(column, name))
    _count("read_counter", audit.read_counter)
    if not 0 <= audit.decimals <= 9:
        raise ValueError(f"decimals: must be 0-9, got {audit.decimals}")
    if not (len(audit.currency) == 3 and audit.currency.isascii() and audit.currency.isupper()):
        raise ValueError(f"currency: must be an upper-case ISO 4217 alpha code, got {audit.currency!r}")
    for name, moment in (("read_at", audit.read_at), ("previous_read_at", audit.previous_read_at)):
        if moment is None:
            continue
        if moment.microsecond or not 2000 <= moment.year <= 2069:
            raise ValueError(f"{name}: whole seconds in 2000-2069 (EA3 writes two-digit years), got {moment}")
        if moment.tzinfo is not None:
            raise ValueError(f"{name}: machine-local wall-clock time without a zone, got {moment}")


def _text(name: str, value: str | None, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise ValueError(f"{name}: required")
        return
    if required and not value:
        raise ValueError(f"{name}: must not be empty")
    if value != value.strip():
        raise ValueError(f"{name}: no leading or trailing spaces (DEX readers strip them), got {value!r}")
    bad = [ch for ch in value if ch == "*" or not ch.isprintable() or ord(ch) > 0xFF]
    if bad:
        raise ValueError(f"{name}: {bad[0]!r} cannot be written (no '*', control or non-Latin-1 characters)")


def _count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**10:
        raise ValueError(f"{name}: must be an integer 0-9999999999, got {value!r}")
