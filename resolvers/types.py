"""GraphQL object types: plain data, built once per request from the domain model.

Fields are plain attributes, not resolvers, so completing a large result costs little; the only
resolver is ``Connector.station`` (a back-reference).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from operators import domain

ConnectorStatus = strawberry.enum(domain.ConnectorStatus, description="Live state of a connector.")
ConnectorType = strawberry.enum(domain.ConnectorType, description="Physical plug standard.")
PowerType = strawberry.enum(domain.PowerType)


@strawberry.interface(description="An object with an opaque global ID, resolvable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="A typed, expected error.")
class Error:
    message: str
    code: str


@strawberry.type
class Money:
    amount: Decimal
    currency: str


@strawberry.type(description="Per-kWh price in force now, in the station's local time.")
class Price:
    energy_per_kwh: Money
    service_per_kwh: Money
    total_per_kwh: Money


@strawberry.type
class GeoPoint:
    lat: float
    lon: float


@strawberry.type
class Operator(Node):
    id: strawberry.ID
    name: str
    protocol: str = strawberry.field(description='Native protocol: "tcec", "ocpi", …')


@strawberry.type(description="A time-of-use period, from `startTime` (local) to the next period.")
class TariffPeriod:
    start_time: str
    energy_per_kwh: Money
    service_per_kwh: Money
    total_per_kwh: Money


@strawberry.type(description="A fee beyond the per-kWh price: FLAT (per session), TIME or PARKING.")
class TariffExtra:
    kind: str
    amount: Money
    unit: str


@strawberry.type
class Tariff:
    currency: str
    timezone: str
    periods: list[TariffPeriod]
    extras: list[TariffExtra]


@strawberry.type
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

    @strawberry.field
    def station(self) -> Station:
        assert self.parent is not None  # set by hydrate() for every connector it builds
        return self.parent


@strawberry.type
class Station(Node):
    id: strawberry.ID
    name: str
    operator: Operator
    location: GeoPoint
    address: str | None
    connectors: list[Connector]
    tariff: Tariff | None


@strawberry.type
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
