"""GraphQL types of what a charge would cost (estimates, binding quotes) and of connector summaries."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.stations.types import ConnectorType, Error, Money, PowerType, Price

if TYPE_CHECKING:
    from resolvers.stations.types import Connector


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
    connector: Annotated[Connector, strawberry.lazy("resolvers.stations.types")]
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
    connector: Annotated[Connector, strawberry.lazy("resolvers.stations.types")]
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
