"""The billing service: every money decision in one place.

Credit and reservations at start, settlement of final orders into bills, payments, top-ups (and,
in :mod:`gateway.billing.admin`, refunds and dispute resolutions). Resolvers call it and translate
its answers; nothing else in the gateway touches the ledger's money tables or the payment provider.

Every provider of money is a :class:`~gateway.rails.port.CreditRail`: the card for top-ups and bills
paid by card (an order named by the payment's id: authorised for the amount, completed at once),
and the credit rails for postpaid sessions (:mod:`gateway.billing.rails`: an order named by the
session, authorised for the cap, completed with the bill). Ledger first, provider second: a
provider payment is written PENDING in the transaction that checks the bill is payable, the rail is
called with references bound to that payment, and only then is the payment settled (or failed). A
payment left pending by a crash is resolved by :meth:`BillingService.reconcile_payments`, which
queries the rail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gateway.billing import amounts
from gateway.billing.admin import AdminOperations
from gateway.billing.assessment import Assessment, assess, at_minor_unit
from gateway.billing.outcomes import Declined, Insufficient, NotFound, NotPayable
from gateway.billing.quoting import quoted_bill
from gateway.billing.rails import RailBilling
from gateway.billing.requests import request_hash
from gateway.currency import limit_to_minor
from gateway.rails.bureau.check import Bureau, CreditCheck, Standing
from gateway.rails.bureau.decision import Denied, PaymentMode, Postpaid, Prepaid
from gateway.rails.port import CreditRail, OrderState, RailError, RailUnavailable
from gateway.settings.sections import LedgerSettings
from gateway.store import (
    Account,
    BillRecord,
    BillStatus,
    Booking,
    DriverRecord,
    Grant,
    KeyConflict,
    Page,
    PaymentMethod,
    PaymentOutcome,
    PaymentRecord,
    PaymentStatus,
    SessionClose,
    SessionRecord,
    Store,
)
from operators.domain import FinalOrder, OrderLine, SessionPhase

log = logging.getLogger(__name__)

PENDING_GRACE = timedelta(seconds=60)  # a pending payment older than this was left by a crash
CARD_SUBJECT = "chargegate"  # what a card statement shows


def standing(account: Account) -> Standing:
    return Standing(account.wallet_balance, account.outstanding, account.has_overdue, account.reserved,
                    account.held)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CreditReport:
    """``Driver.credit``: the score, whether postpay is open, the limit and what a start could reserve."""

    score: int | None
    postpay_eligible: bool
    limit: Decimal
    available: Decimal


@dataclass(frozen=True, slots=True)
class SessionStart:
    """What a new session needs from the billing side (the connector is already known to exist)."""

    operator_id: str
    connector_id: str
    station_id: str | None
    currency: str
    tariff_json: str | None
    session_id: str
    requested_mode: PaymentMode | None = None
    max_cost: Decimal | None = None
    max_energy_kwh: Decimal | None = None
    quote_id: str | None = None  # a binding quote (gateway.billing.quoting)

    def digest(self) -> str:
        mode = self.requested_mode.value if self.requested_mode else None
        quoted = (f"quote:{self.quote_id}",) if self.quote_id else ()  # unquoted starts hash as before
        return request_hash("start", self.operator_id, self.connector_id, mode, amounts.normal(self.max_cost),
                            amounts.normal(self.max_energy_kwh), *quoted)  # fmt: skip


class BillingService(AdminOperations):
    def __init__(
        self,
        store: Store,
        credit: CreditCheck,
        card: CreditRail,
        settings: LedgerSettings,
        currency: str,
        rails: RailBilling | None = None,
    ) -> None:
        self.store = store
        self.credit = credit
        self.currency = currency
        self.rails = rails
        self._card = card
        self._settings = settings

    # -- credit and reservations --------------------------------------------------------------------

    async def standing(self, driver_id: str) -> Standing:
        return standing(await self.store.account(driver_id, self.currency))

    async def credit_status(self, driver_id: str) -> CreditReport:
        bureau = await self.credit.bureau(driver_id)
        decision = self.credit.decide(bureau, await self.standing(driver_id))
        available = decision.cap if isinstance(decision, Postpaid) else Decimal(0)
        if isinstance(decision, Prepaid):
            available = decision.budget
        return CreditReport(
            bureau.score, isinstance(decision, Postpaid), self.credit.limit(bureau), available
        )

    async def started(
        self, driver_id: str, key: str, start: SessionStart
    ) -> SessionRecord | KeyConflict | None:
        """The session an earlier start with this key made, before any operator is asked."""
        return await self.store.started(driver_id, key, start.digest())

    async def open_session(
        self, driver_id: str, key: str, start: SessionStart
    ) -> tuple[SessionRecord, bool] | Denied | KeyConflict:
        """Check credit and reserve the session's cap in one ledger transaction; ``True`` if new."""
        bureau = await self.credit.bureau(driver_id, start.requested_mode)  # outside the transaction

        def grant(account: Account) -> Grant | Denied:
            return self._grant(bureau, account, start.requested_mode, start.currency)

        opened = await self.store.open_session(
            driver_id=driver_id, idempotency_key=key, request_hash=start.digest(), currency=start.currency,
            grant=grant, max_cost=start.max_cost, session_id=start.session_id, operator_id=start.operator_id,
            connector_id=start.connector_id, station_id=start.station_id, max_energy_kwh=start.max_energy_kwh,
            tariff_json=start.tariff_json,
        )  # fmt: skip
        if self.rails is not None and isinstance(opened, tuple) and opened[1]:
            denied = await self.rails.authorise(opened[0])
            if denied is not None:  # the rail holds nothing: free the reservation, end the session
                await self.store.release_reservation(opened[0].id)
                await self.store.apply_progress(
                    opened[0].id, status=SessionPhase.FAILED, failure=denied.message
                )
                return denied
        return opened

    def _grant(
        self, bureau: Bureau, account: Account, mode: PaymentMode | None, currency: str
    ) -> Grant | Denied:
        """The reservation the policy allows; caps are cut down to the minor unit (gateway.currency)."""
        decision = self.credit.decide(bureau, standing(account), mode)
        if isinstance(decision, Postpaid):
            cap = limit_to_minor(decision.cap, currency)
            return Grant(PaymentMode.POSTPAID, cap, self.credit.limit(bureau))
        if isinstance(decision, Prepaid):
            budget = limit_to_minor(decision.budget, currency)
            return Grant(PaymentMode.PREPAID, budget, account.wallet_balance)
        return decision

    def invalid_limits(
        self, max_cost: Decimal | None, max_energy_kwh: Decimal | None
    ) -> amounts.InvalidAmount | None:
        """Whether a start's own limits are acceptable amounts (checked before any operator is asked)."""
        return amounts.check(
            max_cost, "limit.maxCost", upper=amounts.MAX_COST, currency=self.currency
        ) or amounts.check(
            max_energy_kwh, "limit.maxEnergyKwh", upper=amounts.MAX_ENERGY_KWH, scale=3, unit="kWh"
        )

    async def release(self, session_id: str) -> None:
        """A session ended without a bill (it failed): what it reserved is free again, and a credit
        rail's order for it collects nothing."""
        await self.store.release_reservation(session_id)
        if self.rails is not None:
            await self.rails.cancel(session_id)

    # -- settlement ---------------------------------------------------------------------------------

    async def settle(
        self, session: SessionRecord, order: FinalOrder, close: SessionClose | None = None
    ) -> Booking:
        """Book the final order as the session's bill (once), release the reservation, and settle a
        prepaid bill from the wallet; a bill past the session's cap is held UNPAID for review. With
        ``close``, the session is completed with the billed figures in the same transaction."""
        tolerance = Decimal(self._settings.dispute_tolerance)
        lines: Sequence[OrderLine] = order.lines
        total = order.total
        quote = await self.store.quote_for_session(session.id)
        if quote is not None:  # the quote wins: our lines and total, the operator's figure compared
            lines, total = quoted_bill(quote, order)
            disputed = abs(order.total - total) > tolerance
            assessment = Assessment(total, BillStatus.DISPUTED if disputed else BillStatus.UNPAID)
        else:
            assessment = assess(session.tariff_json, order, tolerance)
        billed = at_minor_unit(lines, total, order.currency)
        total = sum((line.amount for line in billed), Decimal(0))
        due = datetime.now(UTC) + timedelta(days=self._settings.bill_due_days)
        review = None
        if session.max_cost is not None and total > session.max_cost:
            review = (
                f"billed {total} {order.currency}, past the session's cap of "
                f"{session.max_cost.normalize():f}: not taken from the wallet until reviewed"
            )
            log.warning("session %s: %s", session.id, review)
        booking = await self.store.book_bill(
            session.id, session.driver_id, order.currency, billed, order.total, assessment.recomputed,
            assessment.status, due, review=review, from_wallet=session.payment_mode is PaymentMode.PREPAID,
            close=close,
        )  # fmt: skip
        if self.rails is not None and booking.created:
            await self.rails.collect(session, booking.bill)
        return booking

    # -- payments and top-ups -------------------------------------------------------------------------

    async def pay_bill(
        self, driver_id: str, bill_id: str, method: PaymentMethod, key: str
    ) -> BillRecord | NotFound | NotPayable | Insufficient | Declined | KeyConflict:
        """Pay the bill whole, at most once; a retry with the same key answers like the first call."""
        result = await self.store.begin_bill_payment(
            driver_id, bill_id, method, key, request_hash("pay", bill_id, method.value)
        )
        outcome, bill = result.outcome, result.bill
        if outcome is PaymentOutcome.KEY_CONFLICT:
            return KeyConflict("payBill", key)
        if outcome is PaymentOutcome.NOT_FOUND or bill is None:
            return NotFound("no such bill")
        if outcome is PaymentOutcome.NOT_PAYABLE:
            return NotPayable("a DISPUTED bill cannot be paid until it is resolved")
        if outcome is PaymentOutcome.INSUFFICIENT_FUNDS:
            return Insufficient(result.balance or Decimal(0), bill.total, bill.currency)
        if outcome is PaymentOutcome.DECLINED:
            return Declined("the payment provider declined this payment")
        if outcome is PaymentOutcome.PENDING and result.payment is not None:
            charged = await self._charge(result.payment)
            if isinstance(charged, Declined):
                return charged
            bill = await self.store.get_bill(bill_id) or bill
        return bill  # paid now or before, or another payment of it is pending at the provider

    async def top_up(
        self, driver_id: str, amount: Decimal, key: str
    ) -> Decimal | Declined | KeyConflict | amounts.InvalidAmount:
        """Charge the provider and credit the wallet once per key; the wallet's balance after."""
        invalid = amounts.check(amount, "amount", upper=amounts.MAX_TOP_UP, currency=self.currency)
        if invalid:
            return invalid
        digest = request_hash("topup", amounts.normal(amount), self.currency)
        payment = await self.store.begin_top_up(driver_id, amount, self.currency, key, digest)
        if isinstance(payment, KeyConflict):
            return payment
        if payment.status is PaymentStatus.PENDING:
            charged = await self._charge(payment)
            if isinstance(charged, Declined):
                return charged
        elif payment.status is PaymentStatus.FAILED:
            return Declined("the payment provider declined this top-up")
        return await self.store.wallet_balance(driver_id, self.currency)

    async def _charge(self, payment: PaymentRecord) -> PaymentRecord | Declined:
        """Take a PENDING payment on the card: hold its amount and capture it, both under the
        payment's id (a repeat finds the first call). Unanswered, it stays PENDING for reconciliation."""
        try:
            await self._card.authorise(payment.id, payment.driver_id, payment.amount, CARD_SUBJECT)
            order = await self._card.complete(payment.id, payment.amount, CARD_SUBJECT)
        except RailUnavailable as exc:
            log.warning("payment %s: the card did not answer: %s", payment.id, exc)
            return Declined("the card did not answer; the payment is pending: retry with the same key")
        except RailError as exc:  # declined or refused: nothing was taken
            await self.store.fail_payment(payment.id)
            return Declined(str(exc))
        if order.state is not OrderState.COLLECTED:
            return payment  # still collecting: a notification or reconciliation settles it
        return await self.store.settle_payment(payment.id, order.provider_reference or payment.id)

    async def reconcile_payments(self, grace: timedelta = PENDING_GRACE) -> int:
        """Resolve payments pending longer than ``grace`` (their caller crashed) by asking their rail:
        collected means settle, held but not captured means capture (the driver asked to pay),
        never charged means failed. Returns how many it resolved."""
        resolved = 0
        for payment in await self.store.pending_payments(datetime.now(UTC) - grace):
            if self.rails is not None and await self.rails.resolve(payment):
                after = await self.store.get_payment(payment.id)
                resolved += after is not None and after.status is not PaymentStatus.PENDING
                continue
            try:
                order = await self._card.query(payment.id)
                if order.state is OrderState.AUTHORISED:
                    order = await self._card.complete(payment.id, payment.amount, CARD_SUBJECT)
            except RailError as exc:
                log.warning("pending payment %s not resolved: %s", payment.id, exc)
                continue
            if order.state is OrderState.COLLECTED:
                await self.store.settle_payment(payment.id, order.provider_reference or payment.id)
            elif order.state is OrderState.COLLECTING:
                continue
            else:
                await self.store.fail_payment(payment.id)
            log.info("pending payment %s resolved: %s", payment.id, order.state.value)
            resolved += 1
        if self.rails is not None:
            await self.rails.retry_collections()  # failed collections whose next attempt is due
            await self.rails.scheduled_check()  # the rails' collections against the ledger, now and then
        return resolved

    # -- what drivers may read ----------------------------------------------------------------------

    async def wallet(self, driver_id: str) -> Decimal:
        return await self.store.wallet_balance(driver_id, self.currency)

    async def driver(self, driver_id: str) -> DriverRecord:
        return await self.store.ensure_driver(driver_id)

    async def bill(self, driver_id: str, bill_id: str) -> BillRecord | None:
        """The bill if it is this driver's; None otherwise (callers cannot probe others' ids)."""
        return await self.store.get_bill_for_driver(driver_id, bill_id)

    async def bills(self, driver_id: str, first: int, after: str | None) -> Page[BillRecord]:
        """The driver's bills, newest first; raises ``InvalidCursor`` for a foreign ``after``."""
        return await self.store.list_bills(driver_id, first, after)

    async def bills_for_sessions(self, session_ids: Iterable[str]) -> dict[str, BillRecord]:
        return await self.store.bills_for_sessions(session_ids)

    async def payments(self, bill_ids: Iterable[str]) -> dict[str, list[PaymentRecord]]:
        return await self.store.payments_for_bills(bill_ids)
