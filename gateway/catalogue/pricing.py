"""The one pricing routine: what a charge costs under a daily time-of-use tariff.

Estimates, the ``PRICE``/``ESTIMATED_COST`` station orderings, connector summaries and binding
quotes all price through here, on the domain :class:`~operators.domain.Tariff` that crosses the
operator port (T/CEC policies as they are; OCPI tariffs as the adapter maps them, VAT included).

A charge of ``energy_kwh`` starts at a local wall-clock time and draws a constant ``power_kw``
until done. It is cut wherever a time-of-use period begins (e.g. 22:00), and each piece is
priced at its period's energy and service prices; FLAT extras are billed once per session and
the first TIME extra per hour of charging. Parking fees depend on when the car leaves, so an
estimate leaves them out. Every line is rounded half-up to the currency's minor unit
(:mod:`gateway.currency`); the total
is the sum of the lines, so the lines always add up. Unit prices keep the operator's places.

Time is walked in the station's local wall-clock time: on a daylight-saving change the duration
is off by the shift (Chinese stations observe none).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from gateway.currency import minor_unit
from operators import registry
from operators.domain import ChargePricer, Tariff

DAY_S = 86_400
MAX_HOURS = Decimal(48)  # a longer charge is not an estimate anyone can use
KWH_PLACES = Decimal("0.001")
HOUR_PLACES = Decimal("0.0001")
ZERO = Decimal(0)
_SECONDS_PER_HOUR = Decimal(3600)


class PricingError(ValueError):
    """The charge cannot be priced: ``field`` names the input at fault (``energyKwh``, ``power``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Schedule:
    """A tariff prepared for pricing: period starts in seconds of the day, totals precomputed."""

    tariff: Tariff
    starts: tuple[int, ...]
    energy: tuple[Decimal, ...]
    service: tuple[Decimal, ...]
    totals: tuple[Decimal, ...]
    flats: tuple[Decimal, ...]
    hourly: Decimal | None
    quantum: Decimal
    # cost() answers by (energy, start second, power): the same search a second later, or another
    # station with the same tariff, prices nothing again. Bounded; cleared when full.
    costs: dict[tuple[Decimal, int, Decimal], Decimal] = field(default_factory=dict, compare=False)

    def index_at(self, second: float | Decimal) -> int:
        """The period in force at ``second`` of the local day (before the first start: the last)."""
        return (bisect_right(self.starts, second) or len(self.starts)) - 1

    def total_at(self, second: int) -> Decimal:
        """Energy plus service price per kWh in force at ``second`` of the local day."""
        return self.totals[self.index_at(second)]


MAX_SCHEDULES = 65_536
MAX_COSTS = 1024  # per schedule
# Schedules by the id of their tariff, identity-checked: the in-memory cache hands out the same
# tariff object until it expires, so a search prepares each tariff once, not once per request.
_SCHEDULES: dict[int, Schedule] = {}


def schedule_of(tariff: Tariff) -> Schedule:
    hit = _SCHEDULES.get(id(tariff))
    if hit is not None and hit.tariff is tariff:
        return hit
    periods = tariff.periods
    hourly = next((e.amount for e in tariff.extras if e.kind == "TIME" and e.unit == "hour"), None)
    schedule = Schedule(
        tariff,
        tuple(p.start.hour * 3600 + p.start.minute * 60 + p.start.second for p in periods),
        tuple(p.energy_per_kwh for p in periods),
        tuple(p.service_per_kwh for p in periods),
        tuple(p.energy_per_kwh + p.service_per_kwh for p in periods),
        tuple(e.amount for e in tariff.extras if e.kind == "FLAT"),
        hourly,
        minor_unit(tariff.currency),
    )
    if len(_SCHEDULES) >= MAX_SCHEDULES:
        _SCHEDULES.clear()
    _SCHEDULES[id(tariff)] = schedule
    return schedule


class Piece(NamedTuple):
    """The part of a charge inside one time-of-use period, in seconds from the start day's midnight."""

    period: int
    start_s: int
    end_s: Decimal
    energy_kwh: Decimal


class Line(NamedTuple):
    """One priced line: ``kind`` is ENERGY, SERVICE, TIME or FLAT; ``unit`` kWh, hour or session."""

    kind: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    piece: Piece | None = None  # the period piece an ENERGY or SERVICE line prices


def pieces(
    schedule: Schedule, energy_kwh: Decimal, start_s: int, power_kw: Decimal, max_hours: Decimal = MAX_HOURS
) -> list[Piece]:
    """``energy_kwh`` drawn at ``power_kw`` from ``start_s`` (local seconds of the day), cut at
    every period start; a piece's energy is kept to the watt-hour, the last takes the rest.
    Period starts are whole seconds, so only the charge's end is fractional."""
    if energy_kwh / power_kw > max_hours:
        raise PricingError("energyKwh", f"the charge would take more than {max_hours} hours")
    per_second = power_kw / _SECONDS_PER_HOUR
    starts, n = schedule.starts, len(schedule.starts)
    out: list[Piece] = []
    t, left = start_s, energy_kwh
    while True:
        day = t - t % DAY_S
        j = bisect_right(starts, t - day)
        index = (j or n) - 1
        boundary = day + (starts[j] if j < n else starts[0] + DAY_S)
        room = ((boundary - t) * per_second).quantize(KWH_PLACES, ROUND_HALF_UP)
        done = room >= left
        if done or room:  # a period ending within a watt-hour of charging bills nothing
            end, kwh = (t + left / per_second, left) if done else (Decimal(boundary), room)
            if out and out[-1].period == index:  # the same period after midnight: one piece
                last = out.pop()
                out.append(Piece(index, last.start_s, end, last.energy_kwh + kwh))
            else:
                out.append(Piece(index, t, end, kwh))
            if done:
                return out
        t, left = boundary, left - room


def lines(
    schedule: Schedule, energy_kwh: Decimal, start_s: int, power_kw: Decimal, max_hours: Decimal = MAX_HOURS
) -> list[Line]:
    """The priced lines of a charge: per period its ENERGY (and SERVICE, when not free), then the
    session's FLAT fees and TIME by the hour of charging."""
    q = schedule.quantum
    out: list[Line] = []
    for piece in pieces(schedule, energy_kwh, start_s, power_kw, max_hours):
        kwh, energy = piece.energy_kwh, schedule.energy[piece.period]
        out.append(Line("ENERGY", kwh, "kWh", energy, (kwh * energy).quantize(q, ROUND_HALF_UP), piece))
        service = schedule.service[piece.period]
        if service:
            out.append(
                Line("SERVICE", kwh, "kWh", service, (kwh * service).quantize(q, ROUND_HALF_UP), piece)
            )
    for flat in schedule.flats:
        out.append(Line("FLAT", Decimal(1), "session", flat, flat.quantize(q, ROUND_HALF_UP)))
    if schedule.hourly:
        hours = (energy_kwh / power_kw).quantize(HOUR_PLACES, ROUND_HALF_UP)
        out.append(
            Line("TIME", hours, "hour", schedule.hourly, (hours * schedule.hourly).quantize(q, ROUND_HALF_UP))
        )
    return out


def cost(schedule: Schedule, energy_kwh: Decimal, start_s: int, power_kw: Decimal) -> Decimal:
    """The total of :func:`lines` (what ``ESTIMATED_COST`` orders by).

    A charge that ends in the period it starts in — most of them — is summed here directly, the
    same roundings in the same order, without building lines: ordering a search prices hundreds
    of connectors per request. A test holds this to :func:`lines` over generated charges.
    """
    key = (energy_kwh, start_s, power_kw)
    known = schedule.costs.get(key)
    if known is not None:
        return known
    if len(schedule.costs) >= MAX_COSTS:
        schedule.costs.clear()
    total = schedule.costs[key] = _cost(schedule, energy_kwh, start_s, power_kw)
    return total


def _cost(schedule: Schedule, energy_kwh: Decimal, start_s: int, power_kw: Decimal) -> Decimal:
    hours = energy_kwh / power_kw
    j = bisect_right(schedule.starts, start_s)
    ends = schedule.starts[j] if j < len(schedule.starts) else schedule.starts[0] + DAY_S
    if hours > MAX_HOURS or start_s + hours * _SECONDS_PER_HOUR > ends:
        return sum((line.amount for line in lines(schedule, energy_kwh, start_s, power_kw)), ZERO)
    index, q = (j or len(schedule.starts)) - 1, schedule.quantum
    total = (energy_kwh * schedule.energy[index]).quantize(q, ROUND_HALF_UP)
    if service := schedule.service[index]:
        total += (energy_kwh * service).quantize(q, ROUND_HALF_UP)
    for flat in schedule.flats:
        total += flat.quantize(q, ROUND_HALF_UP)
    if schedule.hourly:
        total += (hours.quantize(HOUR_PLACES, ROUND_HALF_UP) * schedule.hourly).quantize(q, ROUND_HALF_UP)
    return total


@dataclass(frozen=True, slots=True)
class Estimate:
    """A priced charge with its lines placed in time (aware UTC datetimes)."""

    currency: str
    energy_kwh: Decimal
    power_kw: Decimal
    start: datetime
    end: datetime
    lines: tuple[tuple[Line, datetime, datetime], ...]  # line, its start and end
    total: Decimal


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def second_of_day(at: datetime, timezone: str) -> tuple[datetime, int]:
    """Local midnight of ``at``'s day (aware) and the whole seconds since it."""
    local = at.astimezone(zone(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight, local.hour * 3600 + local.minute * 60 + local.second


def estimate(
    tariff: Tariff, energy_kwh: Decimal, start: datetime, power_kw: Decimal, max_hours: Decimal = MAX_HOURS
) -> Estimate:
    """The charge of ``energy_kwh`` from ``start`` (to the second) at ``power_kw``, priced."""
    if not energy_kwh.is_finite() or energy_kwh <= 0:
        raise PricingError("energyKwh", "energyKwh must be greater than 0")
    if not power_kw.is_finite() or power_kw <= 0:
        raise PricingError("power", "the charging power is unknown")
    schedule = schedule_of(tariff)
    midnight, start_s = second_of_day(start, tariff.timezone)
    engine = registry.pricer(tariff.rules.engine) if tariff.rules is not None else None
    if engine is not None:
        return _by_engine(engine, tariff, schedule, energy_kwh, start, power_kw, max_hours, midnight)
    priced = lines(schedule, energy_kwh, start_s, power_kw, max_hours)

    def at(seconds: int | Decimal) -> datetime:
        wall = midnight.replace(tzinfo=None) + timedelta(seconds=float(seconds))
        return wall.replace(tzinfo=midnight.tzinfo).astimezone(UTC)

    begin = start.astimezone(UTC).replace(microsecond=0)
    finish = begin + timedelta(hours=float(energy_kwh / power_kw))
    placed = tuple(
        (line, at(line.piece.start_s), at(line.piece.end_s)) if line.piece else (line, begin, finish)
        for line in priced
    )
    return Estimate(
        tariff.currency, energy_kwh, power_kw, begin, finish, placed, sum((x.amount for x in priced), ZERO)
    )


def _by_engine(
    engine: ChargePricer,
    tariff: Tariff,
    schedule: Schedule,
    energy_kwh: Decimal,
    start: datetime,
    power_kw: Decimal,
    max_hours: Decimal,
    midnight: datetime,
) -> Estimate:
    """The charge priced by the operator's own engine (``tariff.rules``), as the operator bills it:
    its lines, each rounded half-up to the minor unit like ours; an ENERGY line names the daily
    period it starts in."""
    if energy_kwh / power_kw > max_hours:
        raise PricingError("energyKwh", f"the charge would take more than {max_hours} hours")
    assert tariff.rules is not None
    begin = start.astimezone(UTC).replace(microsecond=0)
    q = schedule.quantum
    placed = []
    for ruled in engine(tariff.rules.document, energy_kwh, begin, power_kw, tariff.timezone):
        piece = None
        if ruled.kind == "ENERGY":
            offset = int((ruled.start - midnight).total_seconds())
            end_s = Decimal(repr((ruled.end - midnight).total_seconds()))
            piece = Piece(schedule.index_at(offset % DAY_S), offset, end_s, ruled.quantity)
        line = Line(
            ruled.kind,
            ruled.quantity,
            ruled.unit,
            ruled.unit_price,
            ruled.amount.quantize(q, ROUND_HALF_UP),
            piece,
        )
        placed.append((line, ruled.start.astimezone(UTC), ruled.end.astimezone(UTC)))
    finish = begin + timedelta(hours=float(energy_kwh / power_kw))
    total = sum((line.amount for line, _, _ in placed), ZERO)
    return Estimate(tariff.currency, energy_kwh, power_kw, begin, finish, tuple(placed), total)
