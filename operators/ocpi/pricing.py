"""A charge priced by the OCPI tariff engine (:mod:`operators.ocpi.tariff`), as the CPO bills it.

An estimate describes a charge the CPO would report as charging periods: energy drawn at a
constant power from a start time. This module writes those periods — a new one wherever one of
the tariff's restrictions could change its answer (a ``start_time``/``end_time``, midnight for
weekdays and dates, a ``min_kwh``/``max_kwh`` reached, a ``min_duration``/``max_duration``
passed), as a CPO must (§10.4.4) — and prices them with the very engine that prices sessions,
so step sizes, FLAT fees, TIME fees under their restrictions and minimum/maximum prices come out
as the bill would have them. Prices include VAT (what the driver pays), as in
:func:`operators.ocpi.mapping.with_vat`. Parking depends on when the car leaves: not priced.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from operators.domain import RuledLine
from operators.ocpi import codec, tariff
from operators.ocpi.messages import CdrDimension, ChargingPeriod
from operators.ocpi.models import Tariff

ENGINE = "ocpi"
UNITS = {"ENERGY": "kWh", "TIME": "hour", "FLAT": "session"}
_HOUR = Decimal(3600)


@lru_cache(maxsize=256)
def parsed(document: str) -> Tariff:
    """The OCPI tariff a :class:`~operators.domain.TariffRules` document holds."""
    return codec.from_json(Tariff, codec.loads(document))


def document(t: Tariff) -> str:
    return codec.dumps(codec.to_json(t))


def price_charge(
    document: str, energy_kwh: Decimal, start: datetime, power_kw: Decimal, timezone: str
) -> list[RuledLine]:
    ocpi = parsed(document)
    seconds = energy_kwh / power_kw * _HOUR
    end = start + timedelta(seconds=float(seconds))
    cuts = _boundaries(ocpi, start, end, energy_kwh, power_kw, ZoneInfo(timezone))
    periods: list[ChargingPeriod] = []
    ends: dict[datetime, datetime] = {}
    left = energy_kwh
    for i, at in enumerate(cuts):
        until = cuts[i + 1] if i + 1 < len(cuts) else end
        span = Decimal((until - at) // timedelta(microseconds=1)) / 1_000_000
        kwh = left if i + 1 == len(cuts) else power_kw * span / _HOUR
        left -= kwh
        dims = (
            CdrDimension(type="ENERGY", volume=kwh),
            CdrDimension(type="TIME", volume=span / _HOUR),
            CdrDimension(type="POWER", volume=power_kw),
        )
        periods.append(ChargingPeriod(start_date_time=at, dimensions=dims))
        ends[at] = until
    cost = tariff.cost(ocpi, periods, end, timezone)
    lines: list[RuledLine] = []
    latest: dict[str, int] = {}  # the last line of each dimension
    for line in cost.lines:
        if line.dimension not in UNITS:  # PARKING_TIME: none was drawn
            continue
        unit_price = line.unit_price if line.vat is None else line.unit_price * (1 + line.vat / 100)
        until = end if line.dimension == "FLAT" else ends[line.start]
        index = latest.get(line.dimension)
        last = lines[index] if index is not None else None
        if index is not None and last and last.unit_price == unit_price and last.end == line.start:
            # A period cut for a restriction that did not change this price: the line goes on.
            lines[index] = RuledLine(
                last.kind, last.quantity + line.quantity, last.unit, unit_price,
                last.amount + line.incl_vat, last.start, until,
            )  # fmt: skip
        else:
            latest[line.dimension] = len(lines)
            lines.append(
                RuledLine(line.dimension, line.quantity, UNITS[line.dimension], unit_price,
                          line.incl_vat, line.start, until)
            )  # fmt: skip
    exact = sum((x.amount for x in lines), Decimal(0))
    if cost.incl_vat != exact:  # the tariff's minimum or maximum price
        difference = cost.incl_vat - exact
        lines.append(RuledLine("FLAT", Decimal(1), "session", difference, difference, start, end))
    return lines


def _boundaries(
    t: Tariff, start: datetime, end: datetime, energy_kwh: Decimal, power_kw: Decimal, tz: ZoneInfo
) -> list[datetime]:
    """The start of every charging period: the charge's start and each moment inside the charge
    at which a restriction of the tariff may start or stop holding."""
    clock: set[str] = set()
    by_day = False
    offsets: set[Decimal] = set()  # seconds from the start
    for element in t.elements:
        r = element.restrictions
        if r is None:
            continue
        clock.update(x for x in (r.start_time, r.end_time) if x)
        by_day = by_day or bool(r.day_of_week or r.start_date or r.end_date)
        for kwh in (r.min_kwh, r.max_kwh):
            if kwh is not None and 0 < kwh < energy_kwh:
                offsets.add(kwh / power_kw * _HOUR)
        offsets.update(Decimal(s) for s in (r.min_duration, r.max_duration) if s is not None and s > 0)
    if by_day:
        clock.add("00:00")
    cuts = {start}
    cuts.update(start + timedelta(seconds=float(s)) for s in offsets)
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    day = first
    while day <= last:
        for text in clock:
            cuts.add(_local(day, text, tz))
        day += timedelta(days=1)
    return sorted(c for c in cuts if start <= c < end)


def _local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    return (midnight.replace(tzinfo=None) + timedelta(hours=hours, minutes=minutes)).replace(tzinfo=tz)
