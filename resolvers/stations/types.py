"""GraphQL object types: plain data, built once per request from the domain model.

Fields are plain attributes, not resolvers, so completing a large result costs little; the only
resolvers are ``Connector.station`` (a back-reference), ``Operator.stationCount``/``health``
(read from the runtime, and only when selected) and the ``estimate`` fields (priced on demand).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.catalogue import ranking
from gateway.security.apikeys import Scope
from gateway.security.authz import principal_of
from operators import domain
from resolvers.federation_directives import INACCESSIBLE, KEY, SHAREABLE

if TYPE_CHECKING:
    from resolvers.stations.estimate_types import ChargeEstimate, ConnectorSummary

ConnectorStatus = strawberry.enum(domain.ConnectorStatus, description="Live state of a connector.")
ConnectorType = strawberry.enum(domain.ConnectorType, description="Physical plug standard.")
PowerType = strawberry.enum(domain.PowerType)


@strawberry.enum(description="How `stations` orders its results; ties go to the nearer station.")
class StationOrder(enum.Enum):
    DISTANCE = strawberry.enum_value(ranking.StationOrder.DISTANCE.value, description="Nearest first.")
    PRICE = strawberry.enum_value(
        ranking.StationOrder.PRICE.value,
        description="Lowest total price per kWh in force now among the connectors that match the "
        "filter first; stations without a known price last.",
    )
    POWER = strawberry.enum_value(
        ranking.StationOrder.POWER.value,
        description="Highest maximum power among the connectors that match the filter first.",
    )
    ESTIMATED_COST = strawberry.enum_value(
        ranking.StationOrder.ESTIMATED_COST.value,
        description="Lowest estimated cost of charging `energyKwh` now first (the station's best "
        "matching connector, as `Station.estimate` prices it); stations without a price last.",
    )


ORDER_FRESHNESS = (
    "Ordering uses the same cached statuses and tariffs as the fields: a polled status is at most "
    "15 s old by default (a pushed one is trusted up to 5 min), a tariff at most an hour "
    "(`cache.*_ttl_s`). Cursors are keyset cursors: paging on never repeats a station, whatever "
    "the ordering."
)


@strawberry.interface(description="An object with an opaque global ID, resolvable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="A typed, expected error.")
class Error:
    message: str
    code: str


UNIT_PRICE = "A unit price: it keeps the places the operator gave (e.g. 0.8765 per kWh)."


@strawberry.type(
    description="An amount of money. Amounts (costs, caps, bills, balances) are at the currency's "
    "minor unit (CNY: 2 decimals), rounded half up; unit prices (per kWh, per hour) may keep more "
    "places and say so.",
    directives=SHAREABLE,
)
class Money:
    amount: Decimal = strawberry.field(description="A plain decimal string, e.g. `12.30`.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. `CNY`.")


@strawberry.type(description="Per-kWh price in force now, in the station's local time.", directives=SHAREABLE)
class Price:
    energy_per_kwh: Money = strawberry.field(description=UNIT_PRICE)
    service_per_kwh: Money = strawberry.field(description=UNIT_PRICE)
    total_per_kwh: Money = strawberry.field(description=UNIT_PRICE)


@strawberry.type(directives=SHAREABLE)
class GeoPoint:
    lat: float
    lon: float


@strawberry.type(
    description="An operator's health, for internal tooling (API keys with the `admin` scope).",
    directives=INACCESSIBLE,
)
class OperatorHealth:
    status: str = strawberry.field(
        description="UP, DEGRADED (recent failures, circuit half-open or last sync failed), DOWN "
        "(circuit open, or never synced) or SYNCING (first catalogue sync under way)."
    )
    circuit_open: bool = strawberry.field(description="True while the circuit breaker is not closed.")
    latency_p50_ms: float | None = strawberry.field(description="Median of the latest upstream calls.")
    last_sync_at: datetime | None = strawberry.field(
        description="Start of the last successful catalogue sync."
    )
    last_error: str | None = strawberry.field(description="The latest upstream error, if any.")


@strawberry.type(directives=KEY)
class Operator(Node):
    id: strawberry.ID
    name: str
    protocol: str = strawberry.field(description='Native protocol: "tcec", "ocpi", …')
    key: strawberry.Private[str] = ""  # the operator's own id, for the runtime lookups below

    # Resolvers, not data: they run only when selected, so station search never pays for them.
    @strawberry.field(description="Stations of this operator in the gateway's catalogue.")
    def station_count(self, info: Info) -> int:
        return info.context.runtime.catalogue.station_count(self.key)

    @strawberry.field(
        description="Health for internal tooling. Needs an API key with the `admin` scope: for any "
        "other caller it is null, with a FORBIDDEN error on this field.",
        directives=INACCESSIBLE,  # internal: kept out of a federated supergraph
    )
    def health(self, info: Info) -> OperatorHealth | None:
        if not principal_of(info.context.request).allows(Scope.ADMIN):
            raise GraphQLError(
                "Operator health needs an API key with the admin scope.",
                extensions={"code": "FORBIDDEN", "scopes": [Scope.ADMIN.value]},
            )
        h = info.context.runtime.health(self.key)
        return OperatorHealth(
            status=h.status.value,
            circuit_open=h.circuit_open,
            latency_p50_ms=h.latency_p50_ms,
            last_sync_at=h.last_sync_at,
            last_error=h.last_error,
        )


@strawberry.type(description="A time-of-use period, from `startTime` (local) to the next period.")
class TariffPeriod:
    start_time: str
    energy_per_kwh: Money = strawberry.field(description=UNIT_PRICE)
    service_per_kwh: Money = strawberry.field(description=UNIT_PRICE)
    total_per_kwh: Money = strawberry.field(description=UNIT_PRICE)


@strawberry.type(description="A fee beyond the per-kWh price: FLAT (per session), TIME or PARKING.")
class TariffExtra:
    kind: str
    amount: Money = strawberry.field(description="Per `unit`. " + UNIT_PRICE)
    unit: str


@strawberry.type
class Tariff:
    currency: str
    timezone: str
    periods: list[TariffPeriod]
    extras: list[TariffExtra]


ESTIMATE_DESCRIPTION = (
    "What charging `energyKwh` would cost, starting at `startAt` (default: now) at the connector's "
    "maximum power or `vehicleMaxPowerKw` if lower; one line per fee and time-of-use period crossed. "
    "Null when the operator gives no tariff for it."
)


@strawberry.type(directives=KEY)
class Connector(Node):
    id: strawberry.ID
    type: ConnectorType
    power_type: PowerType
    max_power_kw: float
    status: ConnectorStatus
    status_updated_at: datetime | None
    current_price: Price | None
    qr_code: str | None = strawberry.field(
        description="The code printed on the pile, e.g. hlht://{ConnectorID}.{OperatorID}/"
    )
    parent: strawberry.Private[Station | None] = None
    source: strawberry.Private[domain.Connector | None] = None
    operator_key: strawberry.Private[str] = ""

    @strawberry.field
    def station(self) -> Station:
        assert self.parent is not None  # set by hydrate() for every connector it builds
        return self.parent

    @strawberry.field(description=ESTIMATE_DESCRIPTION)
    async def estimate(
        self,
        info: Info,
        energy_kwh: Decimal,
        start_at: datetime | None = None,
        vehicle_max_power_kw: float | None = None,
    ) -> Annotated[ChargeEstimate, strawberry.lazy("resolvers.stations.estimate_types")] | None:
        from resolvers.stations import estimates  # a resolver module that imports these types

        return await estimates.of_connector(info, self, energy_kwh, start_at, vehicle_max_power_kw)


@strawberry.type(directives=KEY)
class Station(Node):
    id: strawberry.ID
    name: str
    operator: Operator
    location: GeoPoint
    address: str | None
    connectors: list[Connector]
    tariff: Tariff | None
    connector_summary: (
        Annotated[ConnectorSummary, strawberry.lazy("resolvers.stations.estimate_types")] | None
    ) = strawberry.field(
        default=None,
        description="Counts, lowest price now and highest power, for maps and lists (see ConnectorSummary).",
    )
    source: strawberry.Private[domain.Station | None] = None
    matches: strawberry.Private[Callable[[domain.Connector], bool] | None] = None  # the search filter

    @strawberry.field(
        description="The estimate of the station's best connector for this charge: the cheapest "
        "among those that match the search filter (all of them outside a filtered search), the "
        "faster on a tie. " + ESTIMATE_DESCRIPTION
    )
    async def estimate(
        self,
        info: Info,
        energy_kwh: Decimal,
        start_at: datetime | None = None,
        vehicle_max_power_kw: float | None = None,
    ) -> Annotated[ChargeEstimate, strawberry.lazy("resolvers.stations.estimate_types")] | None:
        from resolvers.stations import estimates  # a resolver module that imports these types

        return await estimates.of_station(info, self, energy_kwh, start_at, vehicle_max_power_kw)


@strawberry.type(directives=SHAREABLE)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class StationEdge:
    cursor: str
    distance_km: float
    node: Station


@strawberry.type
class StationConnection:
    edges: list[StationEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input
class GeoPointInput:
    lat: float
    lon: float


@strawberry.input(description="Every given condition must hold for at least one connector of a station.")
class StationFilter:
    available_only: bool | None = None
    min_power_kw: float | None = None
    connector_types: list[ConnectorType] | None = None
    power_types: list[PowerType] | None = None
    operator_ids: list[strawberry.ID] | None = None
