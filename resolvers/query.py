"""The Query root: station search, node lookup, QR codes, operators."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.catalogue import ranking
from operators import domain
from resolvers import ids
from resolvers.context import RequestContext
from resolvers.drivers.admin import AdminQuery
from resolvers.drivers.driver import Driver, current_driver, driver, owned_node
from resolvers.stations import types as t
from resolvers.stations.estimates import charge_of
from resolvers.stations.hydrate import Wants, hydrate, operator
from resolvers.stations.search import search


@strawberry.type
class Query(AdminQuery):
    @strawberry.field(
        description="Charging stations within `radiusKm` of a point, ordered by `orderBy` (nearest "
        "first by default). " + t.ORDER_FRESHNESS
    )
    async def stations(
        self,
        info: Info,
        near: t.GeoPointInput,
        radius_km: float = 5.0,
        filter: t.StationFilter | None = None,
        first: int = 20,
        after: str | None = None,
        order_by: t.StationOrder = t.StationOrder.DISTANCE,
        energy_kwh: Annotated[
            Decimal | None, strawberry.argument(description="The charge ESTIMATED_COST prices.")
        ] = None,
        vehicle_max_power_kw: Annotated[
            float | None, strawberry.argument(description="The vehicle's charging limit, for ESTIMATED_COST.")
        ] = None,
        start_at: Annotated[
            datetime | None,
            strawberry.argument(description="When the charge ESTIMATED_COST prices starts (default: now)."),
        ] = None,
    ) -> t.StationConnection:
        charge = charge_of(energy_kwh, vehicle_max_power_kw, start_at)
        return await search(
            info, near, radius_km, filter, first, after, ranking.StationOrder(order_by.value), charge
        )

    @strawberry.field(description="Any object by its global ID; null when it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> t.Node | None:
        ctx: RequestContext = info.context
        decoded = ids.decode(id)
        if decoded is None:
            return None
        kind, parts = decoded
        catalogue = ctx.runtime.catalogue
        if kind == "Operator" and len(parts) == 1 and parts[0] in ctx.runtime.operators:
            return operator(ctx.runtime.operators[parts[0]].info)
        if kind == "Station" and len(parts) == 2:
            station = catalogue.station(*parts)
            if station is None:
                return None
            return (await hydrate(ctx, [station], Wants.of(info)))[0]
        if kind == "Connector" and len(parts) == 2:
            found = catalogue.connector(*parts)
            return await _connector(info, found) if found else None
        if kind in ("ChargingSession", "Bill", "Driver") and len(parts) == 1:
            return await owned_node(info, kind, parts[0])
        return None

    @strawberry.field(description="The connector whose pile carries this QR code, e.g. hlht://…/.")
    async def connector_by_qr_code(self, info: Info, code: str) -> t.Connector | None:
        ctx: RequestContext = info.context
        if len(code) > 512:
            return None
        found = ctx.runtime.catalogue.by_qr_code(code)
        return await _connector(info, found) if found else None

    @strawberry.field(description="The calling driver (Authorization: Bearer <token>); null when anonymous.")
    async def me(self, info: Info) -> Driver | None:
        driver_id = current_driver(info)
        return await driver(info, driver_id) if driver_id else None

    @strawberry.field
    def operators(self, info: Info) -> list[t.Operator]:
        ctx: RequestContext = info.context
        return [operator(op.info) for op in ctx.runtime.operators.values()]


async def _connector(info: Info, found: tuple[domain.Station, domain.Connector]) -> t.Connector:
    station, connector = found
    node = (await hydrate(info.context, [station], Wants.of(info)))[0]
    return next(c for c, d in zip(node.connectors, station.connectors, strict=True) if d.id == connector.id)
