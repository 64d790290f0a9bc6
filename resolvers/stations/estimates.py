"""What a charge would cost on a connector or a station, priced by :mod:`gateway.catalogue.pricing`.

Domain in, domain out: the GraphQL types (:mod:`resolvers.stations.types`) call these and shape the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.catalogue import pricing, ranking
from operators import domain
from resolvers.context import RequestContext
from resolvers.errors import bad_input

MAX_ENERGY_KWH = Decimal(1000)


@dataclass(frozen=True, slots=True)
class Priced:
    """An estimate under the tariff it was priced by; ``index`` is the connector's within its station."""

    estimate: pricing.Estimate
    tariff: domain.Tariff
    index: int = 0


def energy_problem(energy_kwh: Decimal) -> str | None:
    """Why ``energyKwh`` cannot be priced, or None."""
    if energy_kwh.is_finite() and 0 < energy_kwh <= MAX_ENERGY_KWH:
        return None
    return f"energyKwh must be greater than 0 and at most {MAX_ENERGY_KWH}"


def power_problem(vehicle_max_power_kw: float | None) -> str | None:
    """Why ``vehicleMaxPowerKw`` cannot be used, or None (it may be left out)."""
    limit = vehicle_max_power_kw
    if limit is None or (math.isfinite(limit) and 0 < limit <= 10_000):
        return None
    return "vehicleMaxPowerKw must be greater than 0 and at most 10000"


def charge_of(
    energy_kwh: Decimal | None, vehicle_max_power_kw: float | None, start_at: datetime | None = None
) -> ranking.Charge | None:
    """The charge an estimate or the ``ESTIMATED_COST`` ordering prices, validated."""
    if problem := power_problem(vehicle_max_power_kw):
        raise bad_input(problem, "vehicleMaxPowerKw")
    if energy_kwh is None:
        return None
    if problem := energy_problem(energy_kwh):
        raise bad_input(problem, "energyKwh")
    return ranking.Charge(energy_kwh, vehicle_max_power_kw, start_at)


def start_of(ctx: RequestContext, start_at: datetime | None) -> datetime:
    return ctx.now if start_at is None else start_at  # the DateTime scalar gives aware times only


def priced(
    tariff: domain.Tariff | None, connector: domain.Connector, charge: ranking.Charge, start: datetime
) -> pricing.Estimate | None:
    """The estimate on one connector; None without a tariff or a known power."""
    if tariff is None or not tariff.periods:
        return None
    power = charge.power(connector)
    if power <= 0:
        return None
    try:
        return pricing.estimate(tariff, charge.energy_kwh, start, power)
    except pricing.PricingError as exc:
        raise bad_input(str(exc), exc.field) from None


async def of_connector(
    ctx: RequestContext,
    operator_key: str,
    connector: domain.Connector | None,
    energy_kwh: Decimal,
    start_at: datetime | None,
    vehicle_max_power_kw: float | None,
) -> Priced | None:
    """``Connector.estimate``: the charge priced under the connector's tariff; None without one."""
    charge = charge_of(energy_kwh, vehicle_max_power_kw)
    assert charge is not None and connector is not None  # energyKwh is required; hydrate() sets source
    tariff = await ctx.tariffs.load((operator_key, connector.id))
    found = priced(tariff, connector, charge, start_of(ctx, start_at))
    return Priced(found, tariff) if found and tariff else None


async def of_station(
    ctx: RequestContext,
    station: domain.Station | None,
    matches: Callable[[domain.Connector], bool] | None,
    energy_kwh: Decimal,
    start_at: datetime | None,
    vehicle_max_power_kw: float | None,
) -> Priced | None:
    """``Station.estimate``: the cheapest of the matching connectors, the faster on a tie."""
    charge = charge_of(energy_kwh, vehicle_max_power_kw)
    assert charge is not None and station is not None
    candidates = [(i, c) for i, c in enumerate(station.connectors) if matches is None or matches(c)]
    tariffs = await ctx.tariffs.load_many([(station.operator_id, c.id) for _, c in candidates])
    start = start_of(ctx, start_at)
    best: tuple[tuple[Decimal, datetime, str], Priced] | None = None
    for (i, c), tariff in zip(candidates, tariffs, strict=True):
        found = priced(tariff, c, charge, start)
        if found is None or tariff is None:
            continue
        rank = (found.total, found.end, c.id)
        if best is None or rank < best[0]:
            best = (rank, Priced(found, tariff, i))
    return best[1] if best else None
