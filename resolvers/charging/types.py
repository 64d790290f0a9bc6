"""GraphQL types of the money side: drivers, charging sessions, bills, and the typed errors.

Built from ledger records; the few fields that need more data (a session's connector and bill, a
driver's credit, wallet and history) are resolvers, all scoped to the calling driver.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.billing import BillLineRecord, BillRecord, Page, PaymentRecord, SessionRecord
from gateway.billing import BillStatus as StoreBillStatus
from gateway.billing import PaymentMethod as StorePaymentMethod
from gateway.billing import PaymentMode as StorePaymentMode
from gateway.billing import PaymentStatus as StorePaymentStatus
from gateway.billing import SessionEndReason as StoreSessionEndReason
from gateway.currency import to_minor
from operators.domain import SessionPhase
from resolvers import ids
from resolvers.federation_directives import KEY
from resolvers.stations import types as t
from resolvers.stations.hydrate import Wants, hydrate, money

# strawberry.enum registers the GraphQL enum on the class itself and returns it: the aliases are
# the classes, named as the schema names them.
SessionStatus: TypeAlias = SessionPhase
PaymentMode: TypeAlias = StorePaymentMode
BillStatus: TypeAlias = StoreBillStatus
SessionEndReason: TypeAlias = StoreSessionEndReason
PaymentMethod: TypeAlias = StorePaymentMethod
PaymentStatus: TypeAlias = StorePaymentStatus
strawberry.enum(SessionStatus, name="SessionStatus")
strawberry.enum(PaymentMode, name="PaymentMode")
strawberry.enum(BillStatus, name="BillStatus")
strawberry.enum(
    SessionEndReason,
    name="SessionEndReason",
    description="Why a session ended. DRIVER_STOP: stopCharging, or the driver at the pile. COST_CAP: "
    "it was about to pass its cost cap (the driver's maxCost or the postpay cap). BALANCE: a prepaid "
    "session was about to pass the wallet balance. ENERGY_LIMIT: it was about to pass the driver's "
    "maxEnergyKwh. VEHICLE: the car ended it (battery full, unplugged). OPERATOR: the operator ended "
    "it, for a reason of its own or none given. FAULT: the charger or operator failed during the "
    "session (see `failure`). START_FAILED: the start was refused or charging never began (see "
    "`failure`). UNKNOWN: it ended before the gateway recorded reasons.",
)
strawberry.enum(PaymentMethod, name="PaymentMethod")
strawberry.enum(
    PaymentStatus,
    name="PaymentStatus",
    description="PENDING while the payment provider is asked, then SETTLED or FAILED.",
)


@strawberry.type
class CreditStatus:
    score: int | None
    postpay_eligible: bool
    limit: t.Money = strawberry.field(
        description="The most you may owe at once, postpaid: unpaid bills plus the caps of live sessions."
    )
    available: t.Money = strawberry.field(
        description="What a new session could reserve now: its cap (postpaid) or budget (prepaid)."
    )


@strawberry.type
class Payment:
    id: strawberry.ID = strawberry.field(description="What refundPayment takes.")
    amount: t.Money
    method: PaymentMethod
    status: PaymentStatus
    provider_reference: str | None
    created_at: datetime


@strawberry.type
class BillLine:
    kind: str = strawberry.field(description="ENERGY, SERVICE, PARKING, TIME, FLAT, ADJUSTMENT, …")
    description: str
    amount: t.Money
    starts_at: datetime | None
    ends_at: datetime | None
    energy_kwh: Decimal | None
    unit_price: Decimal | None = strawberry.field(
        description="Price per kWh in the bill's currency; a unit price, so it may keep more than "
        "the currency's decimals."
    )


@strawberry.type(directives=KEY)
class Bill(t.Node):
    id: strawberry.ID
    status: BillStatus
    total: t.Money
    lines: list[BillLine]
    operator_total: t.Money = strawberry.field(description="What the operator billed.")
    recomputed_total: t.Money | None = strawberry.field(
        description="Our own computation from the tariff quoted at start; a gap marks the bill DISPUTED."
    )
    due_at: datetime
    created_at: datetime
    paid_at: datetime | None
    review: str | None = strawberry.field(
        description="Why a person reviews this bill before it is settled (billed past the session's cap)."
    )
    record: strawberry.Private[BillRecord]

    @strawberry.field(description="Payments of this bill, oldest first (failed attempts included).")
    async def payments(self, info: Info) -> list[Payment]:
        found = await info.context.runtime.sessions.billing.payments([self.record.id])
        return [payment(p) for p in found.get(self.record.id, [])]


@strawberry.type(directives=KEY)
class ChargingSession(t.Node):
    id: strawberry.ID
    status: SessionStatus
    payment_mode: PaymentMode
    energy_kwh: Decimal
    cost: t.Money
    power_kw: float | None
    soc: float | None = strawberry.field(description="State of charge, percent, when the car reports it.")
    max_cost: t.Money | None = strawberry.field(description="The gateway stops the session at this cost.")
    started_at: datetime | None
    ended_at: datetime | None = strawberry.field(
        description="When charging ended; set while the session is still STOPPING, awaiting its bill."
    )
    end_reason: SessionEndReason | None = strawberry.field(
        description="Why the session ended: set once an end is asked for or reported, and on every "
        "COMPLETED or FAILED session; null while it charges."
    )
    failure: str | None = strawberry.field(description="What went wrong, for FAULT and START_FAILED ends.")
    record: strawberry.Private[SessionRecord]

    @strawberry.field
    async def connector(self, info: Info) -> t.Connector:
        catalogue = info.context.runtime.catalogue
        found = catalogue.connector(self.record.operator_id, self.record.connector_id)
        if found is None:
            raise LookupError(f"connector {self.record.connector_id} is no longer in the catalogue")
        station, connector = found
        node = (await hydrate(info.context, [station], Wants.of(info)))[0]
        index = [c.id for c in station.connectors].index(connector.id)
        return node.connectors[index]

    @strawberry.field
    async def bill(self, info: Info) -> Bill | None:
        found = await info.context.runtime.sessions.billing.bills_for_sessions([self.record.id])
        record = found.get(self.record.id)
        return bill(record) if record else None


@strawberry.type
class ChargingSessionConnection:
    nodes: list[ChargingSession]
    page_info: t.PageInfo


@strawberry.type
class BillConnection:
    nodes: list[Bill]
    page_info: t.PageInfo


# -- typed errors (every one implements Error) ---------------------------------------------------


@strawberry.type
class CreditDenied(t.Error):
    message: str
    code: str
    score: int | None
    unlock: str = strawberry.field(description="What would let this driver charge.")
    top_up: t.Money | None = strawberry.field(description="The least top-up that would allow prepaid.")


@strawberry.type
class ConnectorUnavailable(t.Error):
    message: str
    code: str = "CONNECTOR_UNAVAILABLE"


@strawberry.type
class OperatorUnavailable(t.Error):
    message: str
    operator_id: str | None
    code: str = "OPERATOR_UNAVAILABLE"


@strawberry.type
class InvalidInput(t.Error):
    message: str
    field: str
    code: str = "INVALID_INPUT"


@strawberry.type
class NotFound(t.Error):
    message: str
    code: str = "NOT_FOUND"


@strawberry.type
class InsufficientFunds(t.Error):
    message: str
    balance: t.Money
    required: t.Money
    code: str = "INSUFFICIENT_FUNDS"


@strawberry.type
class PaymentDeclined(t.Error):
    message: str
    code: str = "PAYMENT_DECLINED"


@strawberry.type(description="The idempotency key was used before with a different input; nothing was done.")
class IdempotencyConflict(t.Error):
    message: str
    code: str = "IDEMPOTENCY_CONFLICT"


# -- records → types -------------------------------------------------------------------------------

WATT_HOUR = Decimal("0.001")


def tidy(value: Decimal, places: Decimal) -> Decimal:
    """The ledger keeps energy to 0.000001 kWh; show ``12.3`` as ``12.300``, not ``12.300000``,
    unless the extra places carry something."""
    shorter = value.quantize(places)
    return shorter if shorter == value else value


def ledger_money(amount: Decimal, currency: str) -> t.Money:
    """An amount (not a unit price) as the API shows it: at the currency's minor unit."""
    return money(to_minor(amount, currency), currency)


def page_info(page: Page, after: str | None) -> t.PageInfo:
    return t.PageInfo(
        has_next_page=page.has_next,
        has_previous_page=after is not None,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.end_cursor,
    )


def session(record: SessionRecord) -> ChargingSession:
    c = record.currency
    return ChargingSession(
        id=ids.encode("ChargingSession", record.id),
        status=record.status,
        payment_mode=record.payment_mode,
        energy_kwh=tidy(record.energy_kwh, WATT_HOUR),
        cost=ledger_money(record.cost, c),
        power_kw=record.power_kw,
        soc=record.soc,
        max_cost=ledger_money(record.max_cost, c) if record.max_cost is not None else None,
        started_at=record.started_at,
        ended_at=record.ended_at,
        end_reason=record.end_reason,
        failure=record.failure,
        record=record,
    )


def _line(line: BillLineRecord, currency: str) -> BillLine:
    return BillLine(
        kind=line.kind.value,
        description=line.description,
        amount=ledger_money(line.amount, currency),
        starts_at=line.start,
        ends_at=line.end,
        energy_kwh=tidy(line.energy_kwh, WATT_HOUR) if line.energy_kwh is not None else None,
        unit_price=line.unit_price,
    )


def bill(record: BillRecord) -> Bill:
    c = record.currency
    return Bill(
        id=ids.encode("Bill", record.id),
        status=record.status,
        total=ledger_money(record.total, c),
        lines=[_line(line, c) for line in record.lines],
        operator_total=ledger_money(record.operator_total, c),
        recomputed_total=ledger_money(record.recomputed_total, c)
        if record.recomputed_total is not None
        else None,
        due_at=record.due_at,
        created_at=record.created_at,
        paid_at=record.paid_at,
        review=record.review,
        record=record,
    )


def payment(record: PaymentRecord) -> Payment:
    return Payment(
        id=ids.encode("Payment", record.id),
        amount=ledger_money(record.amount, record.currency),
        method=record.method,
        status=record.status,
        provider_reference=record.provider_reference,
        created_at=record.created_at,
    )
