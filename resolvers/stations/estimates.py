"""``Connector.estimate`` and ``Station.estimate``: a charge priced by :mod:`gateway.catalogue.pricing`."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from strawberry.types import Info

from gateway.catalogue import pricing, ranking
from operators import domain
from resolvers.context import RequestContext
from resolvers.errors import bad_input
from resolvers.stations import estimate_types as e
from resolvers.stations import types as t
from resolvers.stations.search import charge_of


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


def money(amount: Decimal, currency: str) -> t.Money:
    return t.Money(amount=amount, currency=currency)


def to_graphql(estimate: pricing.Estimate, tariff: domain.Tariff, connector: t.Connector) -> e.ChargeEstimate:
    c = estimate.currency
    lines = [
        e.ChargeLine(
            kind=e.FeeKind(line.kind),
            period_start=tariff.periods[line.piece.period].start.strftime("%H:%M:%S") if line.piece else None,
            start_at=start,
            end_at=end,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=money(line.unit_price, c),
            amount=money(line.amount, c),
        )
        for line, start, end in estimate.lines
    ]
    return e.ChargeEstimate(
        connector=connector,
        energy_kwh=estimate.energy_kwh,
        power_kw=float(estimate.power_kw),
        start_at=estimate.start,
        end_at=estimate.end,
        duration_minutes=math.ceil((estimate.end - estimate.start).total_seconds() / 60),
        lines=lines,
        total=money(estimate.total, c),
    )


async def of_connector(
    info: Info,
    connector: t.Connector,
    energy_kwh: Decimal,
    start_at: datetime | None,
    vehicle_max_power_kw: float | None,
) -> e.ChargeEstimate | None:
    ctx: RequestContext = info.context
    charge = charge_of(energy_kwh, vehicle_max_power_kw)
    source = connector.source
    assert charge is not None and source is not None  # energyKwh is required; hydrate() sets source
    tariff = await ctx.tariffs.load((connector.operator_key, source.id))
    found = priced(tariff, source, charge, start_of(ctx, start_at))
    return to_graphql(found, tariff, connector) if found and tariff else None


async def of_station(
    info: Info,
    station: t.Station,
    energy_kwh: Decimal,
    start_at: datetime | None,
    vehicle_max_power_kw: float | None,
) -> e.ChargeEstimate | None:
    ctx: RequestContext = info.context
    charge = charge_of(energy_kwh, vehicle_max_power_kw)
    source = station.source
    assert charge is not None and source is not None
    candidates = [
        (c, node)
        for c, node in zip(source.connectors, station.connectors, strict=True)
        if station.matches is None or station.matches(c)
    ]
    tariffs = await ctx.tariffs.load_many([(source.operator_id, c.id) for c, _ in candidates])
    start = start_of(ctx, start_at)
    best: tuple[tuple[Decimal, datetime, str], pricing.Estimate, domain.Tariff, t.Connector] | None = None
    for (c, node), tariff in zip(candidates, tariffs, strict=True):
        found = priced(tariff, c, charge, start)
        if found is None or tariff is None:
            continue
        rank = (found.total, found.end, c.id)
        if best is None or rank < best[0]:
            best = (rank, found, tariff, node)
    return to_graphql(best[1], best[2], best[3]) if best else None
