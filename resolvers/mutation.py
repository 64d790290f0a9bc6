"""Mutations that spend money: start and stop charging, pay a bill, top up the wallet.

Expected failures are typed results in the union, never top-level errors; only a missing or bad
driver token is (``UNAUTHENTICATED``), since no result type could be right for an unknown caller.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.credit.decision import Denied
from gateway.payments import PaymentDeclined
from gateway.sessions.service import Refused
from gateway.store import PaymentMethod, PaymentOutcome, WalletEntryKind
from resolvers import charging_types as ct
from resolvers import ids
from resolvers.driver import Driver, driver, require_driver

MAX_KEY = 128
MAX_TOP_UP = Decimal("10000")

StartChargingResult = Annotated[
    ct.ChargingSession
    | ct.CreditDenied
    | ct.ConnectorUnavailable
    | ct.OperatorUnavailable
    | ct.InvalidInput
    | ct.NotFound,
    strawberry.union("StartChargingResult"),
]
StopChargingResult = Annotated[
    ct.ChargingSession | ct.NotFound | ct.OperatorUnavailable | ct.InvalidInput,
    strawberry.union("StopChargingResult"),
]
PayBillResult = Annotated[
    ct.Bill | ct.NotFound | ct.InsufficientFunds | ct.PaymentDeclined | ct.InvalidInput,
    strawberry.union("PayBillResult"),
]
TopUpWalletResult = Annotated[
    Driver | ct.PaymentDeclined | ct.InvalidInput, strawberry.union("TopUpWalletResult")
]

PaymentMethodEnum = strawberry.enum(PaymentMethod, name="PaymentMethod")


@strawberry.input
class ChargingLimitInput:
    max_cost: Decimal | None = None
    max_energy_kwh: Decimal | None = None


@strawberry.input(description="Give exactly one of connectorId and qrCode.")
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


@strawberry.input
class StopChargingInput:
    session_id: strawberry.ID


@strawberry.input
class PayBillInput:
    bill_id: strawberry.ID
    method: PaymentMethodEnum = PaymentMethod.WALLET  # type: ignore[valid-type]
    idempotency_key: str | None = None


@strawberry.input
class TopUpWalletInput:
    amount: Decimal
    idempotency_key: str


def _key(value: str, field: str) -> ct.InvalidInput | None:
    if not value or len(value) > MAX_KEY or not value.isprintable():
        return ct.InvalidInput(message=f"{field} must be 1–{MAX_KEY} printable characters", field=field)
    return None


def _amount(value: Decimal | None, field: str, upper: Decimal | None = None) -> ct.InvalidInput | None:
    try:
        bad = value is not None and (
            not value.is_finite() or value <= 0 or value.as_tuple().exponent < -2 or (upper and value > upper)
        )
    except (InvalidOperation, TypeError):
        bad = True
    if bad:
        limit = f" and at most {upper}" if upper else ""
        return ct.InvalidInput(
            message=f"{field} must be a positive amount with at most 2 decimals{limit}", field=field
        )
    return None


def _refused(refusal: Refused) -> ct.ConnectorUnavailable | ct.OperatorUnavailable | ct.NotFound:
    if refusal.kind == "NotFound":
        return ct.NotFound(message=refusal.message)
    if refusal.kind == "OperatorUnavailable":
        return ct.OperatorUnavailable(message=refusal.message, operator_id=refusal.operator_id)
    return ct.ConnectorUnavailable(message=refusal.message)


def _connector_ref(info: Info, data: StartChargingInput) -> tuple[str, str] | ct.InvalidInput | ct.NotFound:
    if (data.connector_id is None) == (data.qr_code is None):
        return ct.InvalidInput(message="give exactly one of connectorId and qrCode", field="connectorId")
    if data.qr_code is not None:
        found = info.context.runtime.catalogue.by_qr_code(data.qr_code[:512])
        if found is None:
            return ct.NotFound(message="no connector carries this QR code")
        station, connector = found
        return station.operator_id, connector.id
    decoded = ids.decode(str(data.connector_id))
    if decoded is None or decoded[0] != "Connector" or len(decoded[1]) != 2:
        return ct.InvalidInput(message="connectorId is not a Connector id", field="connectorId")
    return decoded[1][0], decoded[1][1]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start charging: credit check, then the operator. Idempotent per key.")
    async def start_charging(self, info: Info, input: StartChargingInput) -> StartChargingResult:
        driver_id = require_driver(info)
        invalid = _key(input.idempotency_key, "idempotencyKey")
        limit = input.limit or ChargingLimitInput()
        invalid = invalid or _amount(limit.max_cost, "limit.maxCost")
        invalid = invalid or _amount(limit.max_energy_kwh, "limit.maxEnergyKwh")
        if invalid:
            return invalid
        ref = _connector_ref(info, input)
        if not isinstance(ref, tuple):
            return ref
        outcome = await info.context.runtime.sessions.start(
            driver_id,
            ref[0],
            ref[1],
            input.idempotency_key,
            input.payment_mode,
            limit.max_cost,
            limit.max_energy_kwh,
        )
        if isinstance(outcome, Denied):
            return ct.CreditDenied(
                message=outcome.message,
                code=outcome.reason_code.value,
                score=outcome.score,
                unlock=outcome.unlock,
                top_up=ct.ledger_money(outcome.top_up, info.context.runtime.sessions.currency)
                if outcome.top_up
                else None,
            )
        if isinstance(outcome, Refused):
            return _refused(outcome)
        return ct.session(outcome)

    @strawberry.mutation
    async def stop_charging(self, info: Info, input: StopChargingInput) -> StopChargingResult:
        driver_id = require_driver(info)
        decoded = ids.decode(str(input.session_id))
        if decoded is None or decoded[0] != "ChargingSession" or len(decoded[1]) != 1:
            return ct.NotFound(message="no such charging session")
        outcome = await info.context.runtime.sessions.stop(driver_id, decoded[1][0])
        return _refused(outcome) if isinstance(outcome, Refused) else ct.session(outcome)

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
        runtime = info.context.runtime
        store = runtime.sessions.store
        bill = await store.get_bill_for_driver(driver_id, bill_id)
        if bill is None:
            return ct.NotFound(message="no such bill")
        reference = None
        if input.method is PaymentMethod.PROVIDER and bill.paid_at is None:
            try:
                reference = await runtime.payments.charge(driver_id, bill.total, bill.currency, key)
            except PaymentDeclined as exc:
                return ct.PaymentDeclined(message=str(exc))
        result = await store.pay_bill(bill_id, driver_id, input.method, key, reference)
        if result.paid and result.bill is not None:
            return ct.bill(result.bill)
        if result.outcome is PaymentOutcome.INSUFFICIENT_FUNDS:
            return ct.InsufficientFunds(
                message="the wallet does not cover this bill: top up or pay with the provider",
                balance=ct.ledger_money(result.balance or Decimal(0), bill.currency),
                required=ct.ledger_money(bill.total, bill.currency),
            )
        if result.outcome is PaymentOutcome.NOT_PAYABLE:
            return ct.InvalidInput(
                message="a DISPUTED bill cannot be paid until it is resolved", field="billId"
            )
        if result.outcome is PaymentOutcome.KEY_REUSED:
            return ct.InvalidInput(
                message="this idempotencyKey already paid another bill", field="idempotencyKey"
            )
        return ct.NotFound(message="no such bill")

    @strawberry.mutation(
        description="Add money to the wallet through the payment provider. Idempotent per key."
    )
    async def top_up_wallet(self, info: Info, input: TopUpWalletInput) -> TopUpWalletResult:
        driver_id = require_driver(info)
        invalid = _key(input.idempotency_key, "idempotencyKey") or _amount(input.amount, "amount", MAX_TOP_UP)
        if invalid:
            return invalid
        runtime = info.context.runtime
        currency = runtime.sessions.currency
        try:
            reference = await runtime.payments.charge(
                driver_id, input.amount, currency, input.idempotency_key
            )
        except PaymentDeclined as exc:
            return ct.PaymentDeclined(message=str(exc))
        await runtime.sessions.store.add_wallet_entry(
            driver_id, input.amount, WalletEntryKind.TOPUP, f"{driver_id}:{reference}", currency=currency
        )
        return await driver(info, driver_id)
