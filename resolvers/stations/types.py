"""GraphQL types of stations, connectors, prices, estimates, quotes and summaries: plain data, built
once per request from the domain model (one module: the types refer to one another).

Fields are plain attributes, not resolvers, so completing a large result costs little; the only
resolvers are ``Connector.station`` (a back-reference), ``Operator.stationCount``/``health``
(read from the runtime, and only when selected) and the ``estimate`` fields (priced on demand).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.catalogue import pricing, ranking
from gateway.security.apikeys import Scope
from gateway.security.authz import principal_of
from operators import domain
from resolvers.execution.compiled import shared
from resolvers.federation_directives import INACCESSIBLE, KEY, SHAREABLE
from resolvers.stations import estimates

# strawberry.enum registers the GraphQL enum on the class itself and returns it: the aliases are the classes.
ConnectorStatus: TypeAlias = domain.ConnectorStatus
ConnectorType: TypeAlias = domain.ConnectorType
PowerType: TypeAlias = domain.PowerType
strawberry.enum(ConnectorStatus, description="Live state of a connector.")
strawberry.enum(ConnectorType, description="Physical plug standard.")
strawberry.enum(PowerType)


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


@shared  # never changed once built; hydrate.py shares them between requests
@strawberry.type(
    description="An amount of money. Amounts (costs, caps, bills, balances) are at the currency's "
    "minor unit (CNY: 2 decimals), rounded half up; unit prices (per kWh, per hour) may keep more "
    "places and say so.",
    directives=SHAREABLE,
)
class Money:
    amount: Decimal = strawberry.field(description="A plain decimal string, e.g. `12.30`.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. `CNY`.")


@shared  # never changed once built; hydrate.py shares them between requests
@strawberry.type(description="Per-kWh price in force now, in the station's local time.", directives=SHAREABLE)
class Price:
    energy_per_kwh: Money = strawberry.field(description=UNIT_PRICE)
    service_per_kwh: Money = strawberry.field(description=UNIT_PRICE)
    total_per_kwh: Money = strawberry.field(description=UNIT_PRICE)


@shared  # never changed once built; hydrate.py shares them between requests
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


@shared  # never changed once built; hydrate.py shares them between requests
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


@shared  # one per cached tariff (hydrate.py); never changed
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
    ) -> ChargeEstimate | None:
        found = await estimates.of_connector(
            info.context, self.operator_key, self.source, energy_kwh, start_at, vehicle_max_power_kw
        )
        return charge_estimate(found.estimate, found.tariff, self) if found else None


@shared  # reused by hydrate.py while built from the same objects; never changed
@strawberry.type(directives=KEY)
class Station(Node):
    id: strawberry.ID
    name: str
    operator: Operator
    location: GeoPoint
    address: str | None
    connectors: list[Connector]
    tariff: Tariff | None
    connector_summary: ConnectorSummary | None = strawberry.field(
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
    ) -> ChargeEstimate | None:
        found = await estimates.of_station(
            info.context, self.source, self.matches, energy_kwh, start_at, vehicle_max_power_kw
        )
        return charge_estimate(found.estimate, found.tariff, self.connectors[found.index]) if found else None


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


@strawberry.enum(description="What a line of a charge's price is for.")
class FeeKind(enum.Enum):
    ENERGY = "ENERGY"
    SERVICE = "SERVICE"
    TIME = "TIME"
    FLAT = "FLAT"


@strawberry.type(description="One priced line: a fee kind in one time-of-use period, or a session fee.")
class ChargeLine:
    kind: FeeKind
    period_start: str | None = strawberry.field(
        description="Local start (HH:MM:SS) of the time-of-use period an ENERGY or SERVICE line "
        "falls in; null for FLAT and TIME."
    )
    start_at: datetime = strawberry.field(description="When this part of the charge begins (UTC).")
    end_at: datetime = strawberry.field(description="When this part of the charge ends (UTC).")
    quantity: Decimal = strawberry.field(description="kWh, hours or 1 (per session), see `unit`.")
    unit: str = strawberry.field(description="kWh, hour or session.")
    unit_price: Money = strawberry.field(description="The operator's unit price, with all its places.")
    amount: Money = strawberry.field(description="quantity × unitPrice, rounded half-up to the cent.")


@strawberry.type(
    description="What a charge would cost and how long it would take. The charge draws the "
    "connector's maximum power (capped by the vehicle's limit when given) from `startAt` until "
    "`energyKwh` is delivered, priced period by period under the tariff cached for the connector "
    "(refreshed at least hourly). Parking fees, which depend on when the car leaves, are not "
    "included. An estimate binds nobody."
)
class ChargeEstimate:
    connector: Connector
    energy_kwh: Decimal
    power_kw: float = strawberry.field(description="The power the estimate assumes.")
    start_at: datetime
    end_at: datetime
    duration_minutes: int = strawberry.field(description="Expected charging time, rounded up.")
    lines: list[ChargeLine]
    total: Money = strawberry.field(description="The sum of the lines.")


@strawberry.type
class PowerTypeCount:
    power_type: PowerType
    total: int
    available: int


@strawberry.type
class ConnectorTypeCount:
    connector_type: ConnectorType
    total: int
    available: int


@strawberry.type(
    description="A station at a glance, for maps and lists: counts, the lowest price in force now "
    "and the highest power. Over the connectors that match the search filter (all of them when "
    "the station was not reached through a filtered search). Statuses and prices come from the "
    "same caches as the connectors' own fields."
)
class ConnectorSummary:
    total: int
    available: int = strawberry.field(description="Connectors whose status is AVAILABLE.")
    by_power_type: list[PowerTypeCount]
    by_connector_type: list[ConnectorTypeCount]
    lowest_price: Price | None = strawberry.field(description="The lowest total price per kWh now.")
    highest_power_kw: float | None


@strawberry.type(
    description="A binding price for charging `energyKwh` on a connector, valid until `validUntil`. "
    "Pass its id to `startCharging(input: {quoteId})`: the bill is then computed from the prices "
    "quoted here (for the energy actually delivered); if the operator bills otherwise, the bill is "
    "DISPUTED and keeps the quoted prices."
)
class PriceQuote:
    id: strawberry.ID
    connector: Connector
    energy_kwh: Decimal
    power_kw: float = strawberry.field(description="The power the quote assumes.")
    start_at: datetime
    end_at: datetime
    duration_minutes: int
    lines: list[ChargeLine]
    total: Money = strawberry.field(description="The sum of the lines.")
    valid_until: datetime = strawberry.field(description="Start charging before this time.")


@strawberry.type(
    description="The quote cannot start this session. `code`: QUOTE_NOT_FOUND (unknown, or another "
    "driver's), QUOTE_EXPIRED, QUOTE_USED (by another session) or QUOTE_OTHER_CONNECTOR."
)
class QuoteUnavailable(Error):
    message: str
    code: str


def money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def charge_estimate(
    estimate: pricing.Estimate, tariff: domain.Tariff, connector: Connector
) -> ChargeEstimate:
    """An estimate (or a quote's prices) as the GraphQL type, on the hydrated connector."""
    c = estimate.currency
    lines = [
        ChargeLine(
            kind=FeeKind(line.kind),
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
    return ChargeEstimate(
        connector=connector,
        energy_kwh=estimate.energy_kwh,
        power_kw=float(estimate.power_kw),
        start_at=estimate.start,
        end_at=estimate.end,
        duration_minutes=math.ceil((estimate.end - estimate.start).total_seconds() / 60),
        lines=lines,
        total=money(estimate.total, c),
    )
