"""PA1–PA8 grouped per column: every PA segment belongs to the PA1 before it.

Selection rule: PA101 is the selection. Some machines (N&W KIKKO) leave PA101 empty and write
``PA1**<selection>*<price>``: there PA102 is the selection and PA103 the price (when PA103 is a number;
otherwise it is the product). A PA1 without PA101 and PA102 is keyed by its position (``#3``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tradeoff.vending.dex.model import Column, PaymentSplit, SoldOut
from tradeoff.vending.dex.segments import Segment
from tradeoff.vending.dex.values import Values


@dataclass
class _Open:
    column: Column
    seen: set[str] = field(default_factory=set)
    payments: list[PaymentSplit] = field(default_factory=list)


def group_columns(segments: list[Segment], values: Values) -> tuple[Column, ...]:
    columns: list[_Open] = []
    shifted: list[int] = []
    for segment in segments:
        if not segment.tag.startswith("PA"):
            continue
        if segment.tag == "PA1":
            column, was_shifted = _column(segment, len(columns) + 1, values)
            if was_shifted:
                shifted.append(segment.line)
            columns.append(_Open(column))
            continue
        if not columns:
            values.warn(segment, f"{segment.tag} before any PA1; ignored")
            continue
        _apply(columns[-1], segment, values)
    if shifted:
        values.warnings.append(
            f"lines {shifted[0]}-{shifted[-1]}: PA101 empty in {len(shifted)} PA1 segment(s); "
            "selection read from PA102 and price from PA103 (PA1**<selection>*<price> layout)"
        )
    _warn_duplicates(columns, values)
    return tuple(replace(open_.column, payments=tuple(open_.payments)) for open_ in columns)


def _column(segment: Segment, position: int, values: Values) -> tuple[Column, bool]:
    selection = segment.element(1)
    extra = tuple(element.strip() for element in segment.elements[3:])
    if selection:
        column = Column(
            selection=selection,
            product=values.text(segment, 3),
            price=values.number(segment, 2),
            extra=extra,
            line=segment.line,
        )
        return column, False
    shifted_selection = segment.element(2)
    if shifted_selection:
        third = segment.element(3)
        is_price = third.isascii() and third.isdigit()
        column = Column(
            selection=shifted_selection,
            product=None if is_price or not third else third,
            price=values.number(segment, 3) if is_price else None,
            extra=extra,
            line=segment.line,
        )
        return column, True
    values.warn(segment, f"PA1 without a selection (PA101 and PA102 empty); keyed by position #{position}")
    return Column(selection=f"#{position}", product=values.text(segment, 3), price=None, extra=extra,
                  line=segment.line), False  # fmt: skip


def _apply(open_: _Open, segment: Segment, values: Values) -> None:
    tag = segment.tag
    if tag in ("PA2", "PA3", "PA4", "PA5") and tag in open_.seen:
        values.warn(segment, f"second {tag} for selection {open_.column.selection!r}; the later one is used")
    open_.seen.add(tag)
    n = values.number
    update: dict[str, Any]
    if tag == "PA2":
        update = {
            "vends_total": n(segment, 1),
            "value_total": n(segment, 2),
            "vends_since_reset": n(segment, 3),
            "value_since_reset": n(segment, 4),
        }
    elif tag == "PA3":
        update = {"test_vends": n(segment, 1), "test_vends_since_reset": n(segment, 3)}
    elif tag == "PA4":
        update = {"free_vends": n(segment, 1), "free_vends_since_reset": n(segment, 3)}
    elif tag == "PA5":
        update = {
            "sold_out": SoldOut(last_at=values.machine_time(segment, 1, 2), count=n(segment, 3), duration=n(segment, 4))
        }
    elif tag == "PA7":
        open_.payments.append(
            PaymentSplit(
                device=segment.element(2) or "?",
                price_list=values.text(segment, 3),
                price=n(segment, 4),
                vends_total=n(segment, 5),
                value_total=n(segment, 6),
                vends_since_reset=n(segment, 7),
                value_since_reset=n(segment, 8),
            )
        )
        return
    else:
        return  # PA6, PA8 and vendor extensions: kept out of the model
    open_.column = replace(open_.column, **update)


def _warn_duplicates(columns: list[_Open], values: Values) -> None:
    seen: dict[str, int] = {}
    for open_ in columns:
        selection = open_.column.selection
        if selection in seen:
            values.warnings.append(
                f"line {open_.column.line}: selection {selection!r} repeats the PA1 of line {seen[selection]}"
            )
        else:
            seen[selection] = open_.column.line
