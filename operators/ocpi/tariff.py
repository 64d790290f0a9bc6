"""The OCPI 2.2.1 tariff engine: the cost of a session's charging periods under a Tariff (spec §11.3).

Rules (see ``specs/ocpi.md`` §4.1 and the errata there):

* For each charging period and each dimension, the first element (in list order) that has a
  component of that dimension and whose restrictions all hold at the period's start supplies the
  price; none → that dimension is free in that period. Restrictions are evaluated in the Location's
  local time; kWh and duration are session totals *before* the period (the CPO starts a new period
  at every boundary, §10.4.4).
* FLAT is billed once per session (evaluated at session start) and once per reservation.
* ``step_size`` is applied once per session on totals: once for ENERGY, and once for the *last*
  paid time-based dimension (TIME or PARKING_TIME); the extra is billed at that last price.
* ``min_price``/``max_price`` clamp the totals, excl. and incl. VAT independently.
* Amounts are exact Decimals; rounding money is left to whoever presents or invoices it.

Reservations (§4.3 [our choice]): elements with a ``reservation`` restriction price only the
reservation phase; for an expired reservation ``RESERVATION_EXPIRES`` elements win over
``RESERVATION`` ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from operators.ocpi.messages import ChargingPeriod
from operators.ocpi.models import PriceComponent, Tariff, TariffRestrictions

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
ZERO = Decimal("0")
_MS = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation phase before the session: from ``start`` to ``end`` (charging start or expiry)."""

    start: datetime
    end: datetime
    expired: bool = False


@dataclass(frozen=True, slots=True)
class CostLine:
    """What one dimension cost in one period (``RESERVATION_*`` for the reservation phase)."""

    dimension: str
    start: datetime
    quantity: Decimal  # kWh, hours, or 1 for FLAT
    unit_price: Decimal  # excl. VAT
    vat: Decimal | None
    excl_vat: Decimal

    @property
    def incl_vat(self) -> Decimal:
        return self.excl_vat if self.vat is None else self.excl_vat * (1 + self.vat / 100)


@dataclass(frozen=True, slots=True)
class Cost:
    excl_vat: Decimal
    incl_vat: Decimal
    lines: tuple[CostLine, ...]

    def dimension(self, name: str) -> tuple[Decimal, Decimal]:
        """Excl./incl. VAT totals of one dimension (before min/max clamping)."""
        lines = [line for line in self.lines if line.dimension == name]
        return sum((x.excl_vat for x in lines), ZERO), sum((x.incl_vat for x in lines), ZERO)


@dataclass(frozen=True, slots=True)
class _Context:
    local: datetime
    kwh: Decimal
    duration_s: float
    current: Decimal | None = None
    power: Decimal | None = None
    reservation: str | None = None


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _active(r: TariffRestrictions | None, ctx: _Context) -> bool:
    if r is None:
        return ctx.reservation is None
    if r.reservation != ctx.reservation:
        return False
    now = ctx.local.hour * 60 + ctx.local.minute
    if r.start_time is not None or r.end_time is not None:
        start = _minutes(r.start_time or "00:00")
        end = _minutes(r.end_time or "00:00") or 24 * 60  # "00:00" as end = end of the day
        inside = start <= now < end if start < end else (now >= start or now < end)
        if not inside:
            return False
    day = ctx.local.date().isoformat()
    if (r.start_date and day < r.start_date) or (r.end_date and day >= r.end_date):
        return False
    if r.day_of_week and WEEKDAYS[ctx.local.weekday()] not in r.day_of_week:
        return False
    if (r.min_kwh is not None and ctx.kwh < r.min_kwh) or (r.max_kwh is not None and ctx.kwh >= r.max_kwh):
        return False
    if (r.min_duration is not None and ctx.duration_s < r.min_duration) or (
        r.max_duration is not None and ctx.duration_s >= r.max_duration
    ):
        return False
    # Instantaneous values: unknown (not reported in the period) fails the restriction.
    for low, high, value in (
        (r.min_current, r.max_current, ctx.current),
        (r.min_power, r.max_power, ctx.power),
    ):
        if low is not None and (value is None or value < low):
            return False
        if high is not None and (value is None or value >= high):
            return False
    return True


def _component(tariff: Tariff, dimension: str, ctx: _Context) -> PriceComponent | None:
    for element in tariff.elements:
        comp = next((c for c in element.price_components if c.type == dimension), None)
        if comp is not None and _active(element.restrictions, ctx):
            return comp
    return None


def _round_up(total: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return total
    return Decimal(math.ceil(total.quantize(_MS) / step)) * step


def _first(*values: Decimal | None) -> Decimal | None:
    return next((v for v in values if v is not None), None)


def cost(
    tariff: Tariff,
    periods: Sequence[ChargingPeriod],
    end: datetime,
    time_zone: str,
    reservation: Reservation | None = None,
) -> Cost:
    """The cost of a session whose periods run until ``end`` (each until the next one's start)."""
    tz = ZoneInfo(time_zone)
    lines: list[CostLine] = []
    if reservation is not None:
        lines += _reservation_lines(tariff, reservation, tz)
    ordered = sorted(periods, key=lambda p: p.start_date_time)
    if ordered:
        lines += _session_lines(tariff, ordered, tz)
    excl = sum((line.excl_vat for line in lines), ZERO)
    incl = sum((line.incl_vat for line in lines), ZERO)
    # §11.3.1: min_price/max_price clamp excl. and incl. VAT separately.
    if tariff.min_price is not None:
        excl = max(excl, tariff.min_price.excl_vat)
        if tariff.min_price.incl_vat is not None:
            incl = max(incl, tariff.min_price.incl_vat)
    if tariff.max_price is not None:
        excl = min(excl, tariff.max_price.excl_vat)
        if tariff.max_price.incl_vat is not None:
            incl = min(incl, tariff.max_price.incl_vat)
    return Cost(excl, incl, tuple(lines))


def _line(dimension: str, start: datetime, quantity: Decimal, comp: PriceComponent) -> CostLine:
    return CostLine(dimension, start, quantity, comp.price, comp.vat, quantity * comp.price)


def _session_lines(tariff: Tariff, periods: Sequence[ChargingPeriod], tz: ZoneInfo) -> list[CostLine]:
    session_start = periods[0].start_date_time
    kwh = ZERO
    lines: list[CostLine] = []
    energy: list[tuple[int, PriceComponent, Decimal]] = []  # (line index, component, kWh)
    timed: list[tuple[int, str, PriceComponent, Decimal]] = []  # (line index, dimension, component, hours)
    for i, period in enumerate(periods):
        ctx = _Context(
            local=period.start_date_time.astimezone(tz),
            kwh=kwh,
            duration_s=(period.start_date_time - session_start).total_seconds(),
            current=_first(
                period.volume("CURRENT"), period.volume("MAX_CURRENT"), period.volume("MIN_CURRENT")
            ),
            power=_first(period.volume("POWER"), period.volume("MAX_POWER"), period.volume("MIN_POWER")),
        )
        if i == 0 and (flat := _component(tariff, "FLAT", ctx)) is not None:
            lines.append(_line("FLAT", period.start_date_time, Decimal(1), flat))
        for dimension in ("ENERGY", "TIME", "PARKING_TIME"):
            volume = period.volume(dimension) or ZERO
            comp = _component(tariff, dimension, ctx) if volume > 0 else None
            if comp is None:
                continue
            lines.append(_line(dimension, period.start_date_time, volume, comp))
            if dimension == "ENERGY":
                energy.append((len(lines) - 1, comp, volume))
            else:
                timed.append((len(lines) - 1, dimension, comp, volume))
        kwh += period.volume("ENERGY") or ZERO
    # step_size, once per session (§10.4.4 errata): ENERGY total in Wh, then the last paid time dimension.
    if energy:
        index, comp, _ = energy[-1]
        total = sum((v for _, _, v in energy), ZERO)
        extra = _round_up(total * 1000, Decimal(comp.step_size)) / 1000 - total
        lines[index] = _extended(lines[index], extra, comp)
    if timed:
        index, dimension, comp, _ = timed[-1]
        total = sum((v for _, d, _, v in timed if d == dimension), ZERO)
        extra = _round_up(total * 3600, Decimal(comp.step_size)) / 3600 - total
        lines[index] = _extended(lines[index], extra, comp)
    return lines


def _extended(line: CostLine, extra: Decimal, comp: PriceComponent) -> CostLine:
    if extra <= 0:
        return line
    return _line(line.dimension, line.start, line.quantity + extra, comp)


def _reservation_lines(tariff: Tariff, reservation: Reservation, tz: ZoneInfo) -> list[CostLine]:
    kinds = ("RESERVATION_EXPIRES", "RESERVATION") if reservation.expired else ("RESERVATION",)
    local = reservation.start.astimezone(tz)
    lines = []
    for dimension in ("FLAT", "TIME"):
        for kind in kinds:
            comp = _component(tariff, dimension, _Context(local, ZERO, 0.0, reservation=kind))
            if comp is None:
                continue
            if dimension == "FLAT":
                lines.append(_line("RESERVATION_FLAT", reservation.start, Decimal(1), comp))
            else:
                hours = Decimal(str((reservation.end - reservation.start) / timedelta(seconds=1))) / 3600
                billed = _round_up(hours * 3600, Decimal(comp.step_size)) / 3600
                lines.append(_line("RESERVATION_TIME", reservation.start, billed, comp))
            break
    return lines
