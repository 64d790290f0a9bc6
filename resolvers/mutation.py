"""Mutations that spend money: start and stop charging, pay a bill, top up the wallet.

Expected failures are typed results in the union, never top-level errors; only a missing or bad
driver token is (``UNAUTHENTICATED``), since no result type could be right for an unknown caller.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway import billing as b
from gateway.charging.service import Refused
from resolvers import ids
from resolvers.charging import types as ct
from resolvers.charging.money_errors import MAX_KEY, conflict, invalid_amount, money_error
from resolvers.drivers.admin import AdminMutation
from resolvers.drivers.driver import Driver, driver, require_driver
from resolvers.drivers.identity import IdentityMutation
from resolvers.stations.quotes import QuoteResult, quote, quote_for_start
from resolvers.stations.types import QuoteUnavailable

StartChargingResult = Annotated[
    ct.ChargingSession
    | ct.CreditDenied
    | ct.ConnectorUnavailable
    | ct.OperatorUnavailable
    | ct.InvalidInput
    | ct.NotFound
    | ct.IdempotencyConflict
    | QuoteUnavailable,
    strawberry.union("StartChargingResult"),
]
StopChargingResult = Annotated[
    ct.ChargingSession | ct.NotFound | ct.OperatorUnavailable | ct.InvalidInput,
    strawberry.union("StopChargingResult"),
]
PayBillResult = Annotated[
    ct.Bill
    | ct.NotFound
    | ct.InsufficientFunds
    | ct.PaymentDeclined
    | ct.InvalidInput
    | ct.IdempotencyConflict,
    strawberry.union("PayBillResult"),
]
TopUpWalletResult = Annotated[
    Driver | ct.PaymentDeclined | ct.InvalidInput | ct.IdempotencyConflict,
    strawberry.union("TopUpWalletResult"),
]


@strawberry.input
class ChargingLimitInput:
    max_cost: Decimal | None = None
    max_energy_kwh: Decimal | None = None


@strawberry.input(
    description="Give exactly one of connectorId and qrCode, or a quoteId (then either may be left out)."
)
class StartChargingInput:
    idempotency_key: str = strawberry.field(
        description="Repeat a request with the same key to get the same session."
    )
    connector_id: strawberry.ID | None = None
    qr_code: str | None = None
    payment_mode: ct.PaymentMode | None = strawberry.field(
        default=None, description="Leave out to let the credit check choose."
    )
    limit: ChargingLimitInput | None = None
    quote_id: strawberry.ID | None = strawberry.field(
        default=None, description="A PriceQuote from `quote`: the bill is computed from its prices."
    )


@strawberry.input
class StopChargingInput:
    session_id: strawberry.ID


@strawberry.input
class PayBillInput:
    bill_id: strawberry.ID
    method: ct.PaymentMethod = b.PaymentMethod.WALLET
    idempotency_key: str | None = None


@strawberry.input
class TopUpWalletInput:
    amount: Decimal
    idempotency_key: str


def _key(value: str, field: str) -> ct.InvalidInput | None:
    if not value or len(value) > MAX_KEY or not value.isprintable():
        return ct.InvalidInput(message=f"{field} must be 1–{MAX_KEY} printable characters", field=field)
    return None


def _refused(
    refusal: Refused,
) -> ct.ConnectorUnavailable | ct.OperatorUnavailable | ct.NotFound | QuoteUnavailable:
    if refusal.kind == "QuoteUsed":
        return QuoteUnavailable(message=refusal.message, code="QUOTE_USED")
    if refusal.kind == "NotFound":
        return ct.NotFound(message=refusal.message)
    if refusal.kind == "OperatorUnavailable":
        return ct.OperatorUnavailable(message=refusal.message, operator_id=refusal.operator_id)
    return ct.ConnectorUnavailable(message=refusal.message)


def _stop_refused(refusal: Refused) -> ct.NotFound | ct.OperatorUnavailable:
    """A stop is refused for no such session, or for its operator (the service's two refusals)."""
    if refusal.kind == "NotFound":
        return ct.NotFound(message=refusal.message)
    return ct.OperatorUnavailable(message=refusal.message, operator_id=refusal.operator_id)


def _connector_ref(info: Info, data: StartChargingInput) -> tuple[str, str] | ct.InvalidInput | ct.NotFound:
    if (data.connector_id is None) == (data.qr_code is None):
        return ct.InvalidInput(message="give exactly one of connectorId and qrCode", field="connectorId")
    if data.qr_code is not None:
        catalogue = info.context.runtime.catalogue
        found = catalogue.by_qr_code(data.qr_code[:512])
        if found is None:
            formats = ", ".join(catalogue.qr_patterns.formats())
            return ct.NotFound(message=f"no connector carries this QR code; accepted formats: {formats}")
        station, connector = found
        return station.operator_id, connector.id
    decoded = ids.decode(str(data.connector_id))
    if decoded is None or decoded[0] != "Connector" or len(decoded[1]) != 2:
        return ct.InvalidInput(message="connectorId is not a Connector id", field="connectorId")
    return decoded[1][0], decoded[1][1]


@strawberry.type
class Mutation(AdminMutation, IdentityMutation):
    @strawberry.mutation(description="Start charging: credit check, then the operator. Idempotent per key.")
    async def start_charging(self, info: Info, input: StartChargingInput) -> StartChargingResult:
        driver_id = require_driver(info)
        if invalid := _key(input.idempotency_key, "idempotencyKey"):
            return invalid
        limit = input.limit or ChargingLimitInput()
        sessions = info.context.runtime.sessions
        if bad := sessions.billing.invalid_limits(limit.max_cost, limit.max_energy_kwh):
            return invalid_amount(bad)
        quote = None
        ref: tuple[str, str] | None = None
        if input.quote_id is None or input.connector_id is not None or input.qr_code is not None:
            found = _connector_ref(info, input)
            if not isinstance(found, tuple):
                return found
            ref = found
        if input.quote_id is not None:
            quote = await quote_for_start(info, driver_id, input.quote_id, ref, input.idempotency_key)
            if isinstance(quote, QuoteUnavailable):
                return quote
            ref = (quote.operator_id, quote.connector_id)
        assert ref is not None
        outcome = await sessions.start(
            driver_id,
            ref[0],
            ref[1],
            input.idempotency_key,
            input.payment_mode,
            limit.max_cost,
            limit.max_energy_kwh,
            quote,
        )
        if isinstance(outcome, b.Denied):
            return ct.CreditDenied(
                message=outcome.message,
                code=outcome.reason_code.value,
                score=outcome.score,
                unlock=outcome.unlock,
                top_up=ct.ledger_money(outcome.top_up, sessions.currency) if outcome.top_up else None,
            )
        if isinstance(outcome, Refused):
            return _refused(outcome)
        if isinstance(outcome, b.KeyConflict):
            return conflict(input.idempotency_key)
        return ct.session(outcome)

    quote: QuoteResult = strawberry.mutation(
        resolver=quote,
        description="A binding price for charging `energyKwh` on a connector now (see PriceQuote); "
        "needs a driver token.",
    )

    @strawberry.mutation
    async def stop_charging(self, info: Info, input: StopChargingInput) -> StopChargingResult:
        driver_id = require_driver(info)
        decoded = ids.decode(str(input.session_id))
        if decoded is None or decoded[0] != "ChargingSession" or len(decoded[1]) != 1:
            return ct.NotFound(message="no such charging session")
        outcome = await info.context.runtime.sessions.stop(driver_id, decoded[1][0])
        return _stop_refused(outcome) if isinstance(outcome, Refused) else ct.session(outcome)

    @strawberry.mutation(description="Pay a bill from the wallet or with the payment provider. Idempotent.")
    async def pay_bill(self, info: Info, input: PayBillInput) -> PayBillResult:
        driver_id = require_driver(info)
        decoded = ids.decode(str(input.bill_id))
        if decoded is None or decoded[0] != "Bill" or len(decoded[1]) != 1:
            return ct.NotFound(message="no such bill")
        bill_id = decoded[1][0]
        key = input.idempotency_key or f"pay:{bill_id}"
        if invalid := _key(key, "idempotencyKey"):
            return invalid
        paid = await info.context.runtime.sessions.billing.pay_bill(driver_id, bill_id, input.method, key)
        return ct.bill(paid) if isinstance(paid, b.BillRecord) else money_error(paid)

    @strawberry.mutation(
        description="Add money to the wallet through the payment provider. Idempotent per key."
    )
    async def top_up_wallet(self, info: Info, input: TopUpWalletInput) -> TopUpWalletResult:
        driver_id = require_driver(info)
        if invalid := _key(input.idempotency_key, "idempotencyKey"):
            return invalid
        billing = info.context.runtime.sessions.billing
        result = await billing.top_up(driver_id, input.amount, input.idempotency_key)
        if isinstance(result, Decimal):
            return await driver(info, driver_id)
        return money_error(result)
