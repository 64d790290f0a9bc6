"""From the operator's final order to a bill: lines as the operator priced them, and our own check.

The gateway recomputes the cost from the tariff it quoted at start (the snapshot kept with the
session). Where the order carries per-period energy (T/CEC ``ChargeDetails``), each period is priced
at the quoted price in force at its start; otherwise the whole energy is priced at the session's
start. A difference beyond the tolerance marks the bill DISPUTED; nothing is ever edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from gateway.currency import to_minor
from gateway.store import BillLineInput, BillStatus, LineKind
from gateway.store.bills import as_line_input
from gateway.store.codec import tariff_from_json
from operators.domain import FinalOrder, OrderLine, Tariff

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Assessment:
    recomputed: Decimal | None
    status: BillStatus


def recompute(tariff: Tariff, order: FinalOrder) -> Decimal:
    zone = ZoneInfo(tariff.timezone)
    periods: dict[tuple[datetime, datetime | None], Decimal] = {}
    for line in order.lines:
        if line.start is not None and line.energy_kwh is not None:
            periods[(line.start, line.end)] = line.energy_kwh  # ENERGY and SERVICE lines share a period
    if not periods:
        periods = {(order.started_at, order.ended_at): order.energy_kwh}
    total = Decimal(0)
    for (start, _), energy in periods.items():
        price = tariff.price_at(start.astimezone(zone).time())
        total += energy * price.total_per_kwh
    total += sum((e.amount for e in tariff.extras if e.kind == "FLAT"), Decimal(0))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def assess(tariff_json: str | None, order: FinalOrder, tolerance: Decimal) -> Assessment:
    """Our recomputation of ``order`` and the status the new bill gets."""
    if not tariff_json:
        return Assessment(None, BillStatus.UNPAID)
    tariff = tariff_from_json(tariff_json)
    if tariff.currency != order.currency or not tariff.periods:
        return Assessment(None, BillStatus.UNPAID)
    ours = recompute(tariff, order)
    disputed = abs(order.total - ours) > tolerance
    return Assessment(ours, BillStatus.DISPUTED if disputed else BillStatus.UNPAID)


ROUNDING = "Rounding to the currency's minor unit"


def at_minor_unit(lines: Sequence[OrderLine], total: Decimal, currency: str) -> list[BillLineInput]:
    """A bill's lines at the currency's minor unit, adding up to ``total`` rounded half up.

    Operators price lines to more places (OCPI CDRs carry four); the ledger books and collects
    amounts only at the minor unit. Each line is rounded on its own, and where the rounded lines miss
    the rounded total (``1.005 + 1.005``: lines ``1.01 + 1.01`` against ``2.01``) one ADJUSTMENT line
    carries the difference, so the bill always shows what it charges and charges what it says.
    """
    items = [as_line_input(line) for line in lines]
    rounded = [replace(item, amount=to_minor(item.amount, currency)) for item in items]
    rest = to_minor(total, currency) - sum((item.amount for item in rounded), Decimal(0))
    if rest:
        rounded.append(BillLineInput(LineKind.ADJUSTMENT, rest, ROUNDING))
    return rounded
