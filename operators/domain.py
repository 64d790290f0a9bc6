"""The unified domain model: everything that crosses the operator port.

Adapters translate their protocol into these frozen dataclasses and enums; the gateway and the
resolvers see nothing else. Identifiers are the operator's own (native) ids, always strings, and are
unique only within one operator: ``(operator_id, station_id)`` and ``(operator_id, connector_id)``
are the global keys. Money is ``Decimal`` end to end; power and coordinates are floats.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Protocol


class ConnectorStatus(enum.Enum):
    """Live state of one connector, as a driver cares about it."""

    AVAILABLE = "AVAILABLE"
    OCCUPIED = "OCCUPIED"  # plugged in or blocked, not charging
    CHARGING = "CHARGING"
    RESERVED = "RESERVED"
    FAULTED = "FAULTED"
    OFFLINE = "OFFLINE"
    UNKNOWN = "UNKNOWN"


class ConnectorType(enum.Enum):
    """Physical plug standard."""

    GBT_AC = "GBT_AC"  # GB/T 20234.2
    GBT_DC = "GBT_DC"  # GB/T 20234.3
    TYPE1 = "TYPE1"  # IEC 62196 Type 1 (SAE J1772)
    TYPE2 = "TYPE2"  # IEC 62196 Type 2 (Mennekes)
    CCS1 = "CCS1"  # IEC 62196 Type 1 combo
    CCS2 = "CCS2"  # IEC 62196 Type 2 combo
    CHADEMO = "CHADEMO"
    TESLA = "TESLA"
    DOMESTIC = "DOMESTIC"  # household socket
    WIRELESS = "WIRELESS"
    OTHER = "OTHER"


class PowerType(enum.Enum):
    AC = "AC"
    DC = "DC"


class StatusSource(enum.Enum):
    """Where a status came from: a push from the operator, or our own poll."""

    PUSH = "PUSH"
    POLL = "POLL"


class Capability(enum.Enum):
    """What an operator can do through the port. Callers check before they ask."""

    STATIONS = "STATIONS"
    LIVE_STATUS = "LIVE_STATUS"
    TARIFFS = "TARIFFS"
    REMOTE_START_STOP = "REMOTE_START_STOP"
    SESSIONS = "SESSIONS"
    STATUS_PUSH = "STATUS_PUSH"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Connector:
    """One plug. ``qr_code`` is what is printed on the pile, when the protocol defines one."""

    id: str
    station_id: str
    type: ConnectorType
    power_type: PowerType
    max_power_kw: float
    qr_code: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Station:
    """A charging site and its connectors, as of ``updated_at`` (operator's clock, aware)."""

    operator_id: str
    id: str
    name: str
    location: GeoPoint
    address: str | None
    connectors: tuple[Connector, ...]
    timezone: str = "Asia/Shanghai"
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StationPage:
    """One page of an operator's catalogue. ``next_cursor`` is None on the last page."""

    stations: tuple[Station, ...]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """A connector's status at ``observed_at`` (aware datetime)."""

    connector_id: str
    status: ConnectorStatus
    observed_at: datetime
    source: StatusSource = StatusSource.POLL


@dataclass(frozen=True, slots=True)
class Price:
    """Per-kWh price in force at one moment."""

    currency: str
    energy_per_kwh: Decimal
    service_per_kwh: Decimal

    @property
    def total_per_kwh(self) -> Decimal:
        return self.energy_per_kwh + self.service_per_kwh


@dataclass(frozen=True, slots=True)
class TariffPeriod:
    """A time-of-use period: from ``start`` (local time) until the next period's start."""

    start: time
    energy_per_kwh: Decimal
    service_per_kwh: Decimal


@dataclass(frozen=True, slots=True)
class TariffRules:
    """The operator's own tariff, for a charge to be priced the way the operator bills it.

    ``engine`` names a pricing engine (:data:`operators.registry.PRICERS`), ``document`` is the
    tariff as that engine reads it (the OCPI Tariff object as JSON, say): what a daily
    time-of-use table cannot show — prices by weekday, energy, power or duration, step sizes,
    minimum and maximum prices.
    """

    engine: str
    document: str


@dataclass(frozen=True, slots=True)
class RuledLine:
    """One line of a charge priced by an operator's engine: ``kind`` ENERGY, TIME or FLAT,
    ``unit`` kWh, hour or session; ``unit_price`` and ``amount`` include VAT, exact (unrounded)."""

    kind: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    start: datetime
    end: datetime


class ChargePricer(Protocol):
    """An operator's engine: the lines of ``energy_kwh`` drawn at a constant ``power_kw`` from
    ``start`` (aware), restrictions read in ``timezone``; their amounts add up to the charge's
    price (a minimum or maximum price shows as a FLAT line of the difference)."""

    def __call__(
        self, document: str, energy_kwh: Decimal, start: datetime, power_kw: Decimal, timezone: str
    ) -> list[RuledLine]: ...


@dataclass(frozen=True, slots=True)
class Tariff:
    """A daily time-of-use tariff in the station's local time.

    ``periods`` are sorted by ``start``; the last one wraps past midnight to the first. A tariff with
    no period at ``00:00`` applies its last period before the first start (the wrap-around).
    With ``rules``, the periods and extras are what the operator's tariff shows as a daily table
    (current prices, summaries), and charges are priced by the operator's own engine.
    """

    currency: str
    periods: tuple[TariffPeriod, ...]
    timezone: str = "Asia/Shanghai"
    extras: tuple[TariffExtra, ...] = field(default=())
    rules: TariffRules | None = None

    def period_at(self, local: time) -> TariffPeriod:
        current = self.periods[-1]
        for period in self.periods:
            if period.start <= local:
                current = period
            else:
                break
        return current

    def price_at(self, local: time) -> Price:
        period = self.period_at(local)
        return Price(self.currency, period.energy_per_kwh, period.service_per_kwh)


@dataclass(frozen=True, slots=True)
class TariffExtra:
    """A fee beyond the per-kWh prices (OCPI TIME, PARKING_TIME, FLAT), shown as such.

    ``kind`` is one of ``FLAT``, ``TIME``, ``PARKING``; ``unit`` says what ``amount`` is per
    (``session``, ``hour``).
    """

    kind: str
    amount: Decimal
    unit: str


class SessionPhase(enum.Enum):
    STARTING = "STARTING"
    CHARGING = "CHARGING"
    STOPPING = "STOPPING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class SessionProgress:
    """Where a charging session stands, as the operator reports it.

    ``session_ref`` is the gateway's own key for the session, which the adapter maps to the
    protocol's (T/CEC ``StartChargeSeq``, OCPI session id) and back.
    """

    session_ref: str
    connector_id: str
    phase: SessionPhase
    energy_kwh: Decimal = Decimal("0")
    cost: Decimal | None = None
    power_kw: float | None = None
    soc: float | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One priced line of a final order: ``kind`` is ENERGY, SERVICE, PARKING, TIME or FLAT."""

    kind: str
    amount: Decimal
    start: datetime | None = None
    end: datetime | None = None
    energy_kwh: Decimal | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FinalOrder:
    """The operator's final bill for a session (T/CEC charge order, OCPI CDR)."""

    session_ref: str
    connector_id: str
    currency: str
    started_at: datetime
    ended_at: datetime
    energy_kwh: Decimal
    total: Decimal
    lines: tuple[OrderLine, ...]
    stop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """One order as the operator's reconciliation lists it."""

    session_ref: str | None  # None: the operator's order matches no session of ours
    operator_ref: str  # the protocol's own key (T/CEC StartChargeSeq), to answer with
    energy_kwh: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The operator's list of orders for a period (T/CEC ``check_charge_orders``).

    The gateway answers with a :class:`Dispute` for every order it does not agree with.
    """

    period_start: datetime | None
    period_end: datetime | None
    orders: tuple[OrderSummary, ...]


@dataclass(frozen=True, slots=True)
class Dispute:
    """``reason`` is ``NOT_FOUND``, ``MONEY`` or ``ENERGY``; amounts are what *we* hold."""

    operator_ref: str
    reason: str
    energy_kwh: Decimal
    total: Decimal


OperatorEvent = ConnectorState | SessionProgress | FinalOrder | Station | Reconciliation
"""What an adapter hands to the gateway when an operator pushes something to us. The sink answers
a :class:`Reconciliation` with a tuple of :class:`Dispute`; every other event with None."""
