"""The ``quote`` mutation, and the quote a ``startCharging`` input names."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.billing.quoting import CannotQuote, QuoteRecord, QuoteRefused, Quoting, priced, tariff_of
from gateway.catalogue import pricing
from resolvers import ids
from resolvers.charging import types as ct
from resolvers.context import RequestContext
from resolvers.drivers.driver import require_driver
from resolvers.stations import types as t
from resolvers.stations.estimates import energy_problem, power_problem
from resolvers.stations.hydrate import Wants, hydrate

QuoteResult = Annotated[
    t.PriceQuote | ct.NotFound | ct.InvalidInput | ct.ConnectorUnavailable | ct.OperatorUnavailable,
    strawberry.union("QuoteResult"),
]


def quoting(ctx: RequestContext) -> Quoting:
    service = ctx.runtime.quoting
    assert service is not None  # built with the session ledger at start-up
    return service


async def quote(
    info: Info,
    connector_id: strawberry.ID,
    energy_kwh: Decimal,
    vehicle_max_power_kw: float | None = None,
) -> QuoteResult:
    """Price a charge now and promise it (see PriceQuote)."""
    driver_id = require_driver(info)
    ctx: RequestContext = info.context
    decoded = ids.decode(str(connector_id))
    if decoded is None or decoded[0] != "Connector" or len(decoded[1]) != 2:
        return ct.InvalidInput(message="connectorId is not a Connector id", field="connectorId")
    if problem := energy_problem(energy_kwh):
        return ct.InvalidInput(message=problem, field="energyKwh")
    if problem := power_problem(vehicle_max_power_kw):
        return ct.InvalidInput(message=problem, field="vehicleMaxPowerKw")
    limit = vehicle_max_power_kw
    vehicle = Decimal(repr(limit)) if limit is not None else Decimal(0)
    op_id, native = decoded[1]
    try:
        issued = await quoting(ctx).issue(driver_id, op_id, native, energy_kwh, vehicle, ctx.now)
    except pricing.PricingError as exc:
        return ct.InvalidInput(message=str(exc), field=exc.field)
    if isinstance(issued, CannotQuote):
        if issued.kind == "OperatorUnavailable":
            return ct.OperatorUnavailable(message=issued.message, operator_id=issued.operator_id)
        if issued.kind == "ConnectorUnavailable":
            return ct.ConnectorUnavailable(message=issued.message)
        return ct.NotFound(message=issued.message)
    record, _ = issued
    return await to_price_quote(info, record)


async def to_price_quote(info: Info, record: QuoteRecord) -> t.PriceQuote:
    ctx: RequestContext = info.context
    found = ctx.runtime.catalogue.connector(record.operator_id, record.connector_id)
    assert found is not None  # the quote was just priced on it
    station, connector = found
    node = (await hydrate(ctx, [station], Wants.of(info)))[0]
    hydrated = next(
        c for c, d in zip(node.connectors, station.connectors, strict=True) if d.id == connector.id
    )
    estimate = priced(record)
    shown = t.charge_estimate(estimate, tariff_of(record), hydrated)
    return t.PriceQuote(
        id=strawberry.ID(ids.encode("PriceQuote", record.id)),
        connector=hydrated,
        energy_kwh=record.energy_kwh,
        power_kw=shown.power_kw,
        start_at=shown.start_at,
        end_at=shown.end_at,
        duration_minutes=shown.duration_minutes,
        lines=shown.lines,
        total=shown.total,
        valid_until=record.valid_until,
    )


async def quote_for_start(
    info: Info, driver_id: str, quote_id: strawberry.ID, connector: tuple[str, str] | None, key: str
) -> QuoteRecord | t.QuoteUnavailable:
    """The quote a ``startCharging`` input names, if this driver may start with it on ``connector``
    (the quote's own connector when the input names none)."""
    ctx: RequestContext = info.context
    decoded = ids.decode(str(quote_id))
    if decoded is None or decoded[0] != "PriceQuote" or len(decoded[1]) != 1:
        return t.QuoteUnavailable(message="quoteId is not a PriceQuote id", code="QUOTE_NOT_FOUND")
    found = await quoting(ctx).usable(driver_id, decoded[1][0], ctx.now, connector, key)
    if isinstance(found, QuoteRefused):
        return t.QuoteUnavailable(message=found.message, code=f"QUOTE_{found.problem.value}")
    return found
