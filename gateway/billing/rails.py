"""Sessions and bills on a credit rail (Alipay pay-after-use, WeChat Pay score, the bureau and card).

A driver enrolled on a rail (:class:`Enrolment`) charges on the rail's credit; the account on file
must be held by the provider user the driver signs in as (checked once per account, before its
first authorisation). When a postpaid
session opens, the rail authorises the session's cap as its risk amount, on an order named by the
session id. When the session's bill is booked, the rail collects the bill's total: a PROVIDER
payment is recorded PENDING first (ledger first, provider second) and settled once the rail says the
money was collected — in its answer, in a notification, or when reconciliation asks. A session that
ends without a bill cancels its order. A DISPUTED bill, or one past the cap held for review, is not
collected until a person resolves it.

A payment the rail collects is marked with the rail's name in the ledger (``PaymentRecord.rail``); the
driver's own payments of the same bill (the wallet, the card) are not the rail's: they are never
resolved, retried, counted as attempts, compared with the rail or refunded through it.

A failed collection (the provider could not take the money) is tried again on the same order, as
attempt n+1 with its own merchant number (Alipay ``out_trade_no`` ``{session}_{n}``; WeChat Pay asks
for the deduction again), each attempt a new PROVIDER payment of the bill written first with a key
bound to the bill and the attempt, so a retry that is itself interrupted repeats, never doubles.
Attempt n+1 waits :data:`RETRY_AFTER_S` [n-1] after attempt n began; after :data:`MAX_ATTEMPTS` the
bill stays UNPAID (then OVERDUE) for the driver to pay otherwise, and a ``COLLECTION_FAILED``
mismatch is kept in the ledger for internal tooling until someone resolves it.

Reconciliation (:meth:`RailBilling.check_collections`) keeps every mismatch it finds in the ledger
(``rail_mismatches``) and resolves, audited as ``reconciliation``, those that went away.

Kill and restart: nothing lives only in memory. The order is named by the session id and the
payment lives in the ledger; every rail call is idempotent per reference, so whichever process
carries on repeats the call and the provider answers with what it did the first time. A repeated
notification finds its payment already settled and changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gateway.rails.bureau.decision import DenialReason, Denied
from gateway.rails.port import (
    CreditRail,
    EventKind,
    OrderState,
    RailDeclined,
    RailError,
    RailEvent,
    RailOrder,
    RailRefused,
)
from gateway.rails.reconcile import Expected, Mismatch, MismatchKind, reconcile
from gateway.store import (
    BillRecord,
    BillStatus,
    PaymentMethod,
    PaymentMode,
    PaymentOutcome,
    PaymentRecord,
    PaymentStatus,
    SessionRecord,
    Store,
)

log = logging.getLogger(__name__)

SUBJECT = "EV charging"
AUTHORISED_EVENT = "RAIL_AUTHORISED"  # the session event that records an authorisation on a rail
CHECK_PER_DRIVER = 50  # latest sessions per enrolled driver compared by check_collections
CHECK_EVERY_S = 600.0  # how often the reconciliation loop runs check_collections
RETRY_AFTER_S = (60.0, 600.0, 3600.0)  # attempt n+1 of a failed collection waits [n-1] after attempt n
MAX_ATTEMPTS = len(RETRY_AFTER_S) + 1


def collection_key(session_id: str, attempt: int = 1) -> str:
    """The ledger key of a collection attempt. It sits in the driver's own key space, so it starts with
    a control character no client key may hold (the API takes printable keys only): a key a driver
    chose can never take a collection's place and stop it."""
    return f"\x1frail-{session_id}" if attempt == 1 else f"\x1frail-{session_id}-{attempt}"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A driver's account on a rail: ``rail`` names it (``alipay``, ``wechatpay``); ``account`` is
    the Alipay pay-after-use agreement id or the WeChat openid."""

    rail: str
    account: str


Owner = Callable[[str, str], Awaitable[str | None]]  # (sign-in provider, its user id) → driver id


class RailBilling:
    """What the billing service asks of the rails; built once, with the rails and the enrolments.

    With ``owner`` (the identity store's :meth:`~gateway.identity.store.IdentityStore.linked_driver`),
    an account is only used for the driver whose sign-in identity holds it: an Alipay agreement
    must be signed by the Alipay user the driver signs in as, a WeChat openid must be the driver's.
    """

    def __init__(
        self,
        store: Store,
        rails: Mapping[str, CreditRail],
        enrolments: Mapping[str, Enrolment],
        owner: Owner | None = None,
    ) -> None:
        unknown = {e.rail for e in enrolments.values()} - set(rails)
        if unknown:
            raise ValueError(
                f"drivers are enrolled on rails that are not configured: {', '.join(sorted(unknown))}"
            )
        self._store = store
        self._rails = dict(rails)
        self._enrolments = dict(enrolments)
        self._owner = owner
        self._held: set[tuple[str, str, str]] = set()  # (rail, account, driver) checked once
        self._next_check = 0.0

    def rail_for(self, session: SessionRecord) -> CreditRail | None:
        """The rail a postpaid session of an enrolled driver is on; None otherwise."""
        enrolment = self._enrolments.get(session.driver_id)
        if enrolment is None or session.payment_mode is not PaymentMode.POSTPAID:
            return None
        return self._rails[enrolment.rail]

    @property
    def rails(self) -> Mapping[str, CreditRail]:
        return self._rails

    def rail(self, name: str) -> CreditRail | None:
        return self._rails.get(name)

    async def authorise(self, session: SessionRecord) -> Denied | None:
        """Open the session's order for its cap; a Denied (nothing authorised) if the rail says no."""
        rail = self.rail_for(session)
        if rail is None or session.max_cost is None:
            return None
        account = self._enrolments[session.driver_id].account
        try:
            if not await self._held_by(rail, account, session.driver_id):
                log.warning("session %s: the %s account on file is not %s's", session.id, rail.name,
                            session.driver_id)  # fmt: skip
                return Denied(
                    DenialReason.RAIL_DECLINED, f"the {rail.name} account on file is not yours", None,
                    f"sign in with {rail.identity} as the user who signed the agreement", Decimal(0),
                )  # fmt: skip
            await rail.authorise(session.id, account, session.max_cost, SUBJECT)
        except RailDeclined:
            return Denied(
                DenialReason.RAIL_DECLINED, f"{rail.name} declined credit for this session", None,
                "pay from the wallet instead (startCharging with paymentMode PREPAID)", Decimal(0),
            )  # fmt: skip
        except RailError as exc:
            log.warning("session %s: %s authorisation failed: %s", session.id, rail.name, exc)
            await self._cancel_quietly(rail, session.id)  # it may have been opened before the error
            return Denied(
                DenialReason.RAIL_UNAVAILABLE, f"{rail.name} could not authorise this session", None,
                "try again in a minute, or pay from the wallet", Decimal(0),
            )  # fmt: skip
        await self._store.add_session_event(
            session.id, AUTHORISED_EVENT, {"rail": rail.name, "risk_amount": str(session.max_cost)}
        )
        return None

    async def collect(self, session: SessionRecord, bill: BillRecord) -> None:
        """Collect a freshly booked bill on the session's rail (not a disputed or held one)."""
        rail = self.rail_for(session)
        if rail is None or bill.status is not BillStatus.UNPAID or bill.review:
            return
        if bill.total == 0:
            await self._cancel_quietly(rail, session.id)
        result = await self._store.begin_bill_payment(
            session.driver_id, bill.id, PaymentMethod.PROVIDER, collection_key(session.id), f"rail:{bill.id}",
            rail.name,
        )  # fmt: skip
        if result.outcome is PaymentOutcome.PENDING and result.payment is not None:
            await self._complete(rail, session.id, result.payment, await self._attempt(result.payment))

    async def retry_collections(self, now: datetime | None = None) -> int:
        """Collect again, on their rail, the bills whose collection failed and whose next attempt is
        due (see the module's docstring); how many attempts were made."""
        now = now or datetime.now(UTC)
        made = 0
        for bill, attempts in await self._store.failed_collections(self._enrolments):
            session = await self._store.get_session(bill.session_id)
            rail = self.rail_for(session) if session is not None else None
            done = len(attempts)
            if rail is None or session is None or done >= MAX_ATTEMPTS:
                continue
            if now < attempts[-1].created_at + timedelta(seconds=RETRY_AFTER_S[done - 1]):
                continue
            if not await self._authorised(session.id):
                continue
            attempt = done + 1
            result = await self._store.begin_bill_payment(
                session.driver_id, bill.id, PaymentMethod.PROVIDER, collection_key(session.id, attempt),
                f"rail:{bill.id}:{attempt}", rail.name,
            )  # fmt: skip
            if result.outcome is PaymentOutcome.PENDING and result.payment is not None:
                log.info("bill %s: %s collection attempt %d", bill.id, rail.name, attempt)
                await self._complete(rail, session.id, result.payment, attempt)
                made += 1
        return made

    async def collect_resolved(self, bill: BillRecord) -> None:
        """A dispute was resolved (the bill is UNPAID again): collect it if its session is on a rail."""
        session = await self._store.get_session(bill.session_id)
        if session is not None:
            await self.collect(session, bill)

    async def refund(self, payment: PaymentRecord, refund_id: str, amount: Decimal) -> str | None:
        """Give back ``amount`` of a payment a rail collected, once per ``refund_id``; the refund's
        reference, or None when the payment is not a rail's. Raises the port's errors."""
        session = await self._session_of(payment)
        rail = self._rail_of(payment)
        if rail is None or session is None:
            return None
        await rail.refund(session.id, refund_id, amount, "refund")
        return f"{rail.name}:{refund_id}"

    async def cancel(self, session_id: str) -> None:
        """A session ended without a bill: its order collects nothing."""
        session = await self._store.get_session(session_id)
        rail = self.rail_for(session) if session is not None else None
        if rail is not None:
            await self._cancel_quietly(rail, session_id)

    async def apply(self, rail: CreditRail, event: RailEvent) -> None:
        """A verified notification: settle or fail the payment it is about (once; repeats are no-ops).

        The notification says that something happened; the order's query says what, with the
        provider's reference for the ledger.
        """
        if event.kind not in (EventKind.COLLECTED, EventKind.COLLECTION_FAILED) or event.reference is None:
            return
        payment = await self._pending_payment(rail, event.reference)
        if payment is not None:
            attempt = await self._attempt(payment)
            await self._record(payment, await rail.query(event.reference, attempt), rail, attempt)

    async def resolve(self, payment: PaymentRecord) -> bool:
        """Resolve a payment left pending (a crash, a lost answer) by asking its rail; False if the
        payment is not a rail's."""
        if payment.rail is None:
            return False
        session = await self._session_of(payment)
        rail = self._rail_of(payment)
        if rail is None or session is None:
            log.error("payment %s: rail %s is not configured; left pending", payment.id, payment.rail)
            return True
        attempt = await self._attempt(payment)
        try:
            order = await rail.query(session.id, attempt)
        except RailError as exc:
            log.warning("payment %s: %s did not answer the query: %s", payment.id, rail.name, exc)
            return True
        if order.state is OrderState.AUTHORISED:  # the completion never arrived: make it (same numbers)
            await self._complete(rail, session.id, payment, attempt)
        elif order.state is not OrderState.COLLECTING:  # while the provider collects, nothing to ask
            await self._record(payment, order, rail, attempt)
        return True

    async def check_collections(
        self, per_driver: int = CHECK_PER_DRIVER, now: datetime | None = None
    ) -> list[Mismatch]:
        """Compare, for each enrolled driver's latest ended sessions that a rail authorised, what the
        ledger settled through the rail with what the rail says it collected, and list the bills
        whose collection failed for good; every difference, each also kept in the ledger (and those
        no longer found resolved there)."""
        found: list[Mismatch] = []
        for driver_id, enrolment in self._enrolments.items():
            rail = self._rails[enrolment.rail]
            page = await self._store.list_sessions(driver_id, per_driver, None)
            ended = [s for s in page.items if s.terminal and await self._authorised(s.id)]
            bills = await self._store.bills_for_sessions([s.id for s in ended])
            paid = await self._store.payments_for_bills([b.id for b in bills.values()])
            expected = []
            for session in ended:
                bill = bills.get(session.id)
                settled = [
                    p.amount for p in (paid.get(bill.id, []) if bill else [])
                    if p.rail == rail.name and p.status is PaymentStatus.SETTLED
                ]  # fmt: skip
                expected.append(Expected(session.id, sum(settled, Decimal("0.00"))))
            mismatches = await reconcile(rail, expected)
            mismatches += self._exhausted(rail, bills.values(), paid, now or datetime.now(UTC))
            found += mismatches
            await self._keep(rail, [e.reference for e in expected], mismatches)
        for mismatch in found:
            log.warning("rail reconciliation: %s", mismatch)
        return found

    @staticmethod
    def _exhausted(
        rail: CreditRail,
        bills: Iterable[BillRecord],
        paid: Mapping[str, Sequence[PaymentRecord]],
        now: datetime,
    ) -> list[Mismatch]:
        """Bills left UNPAID after every collection attempt failed, or whose collection has been
        pending longer than all the attempts would take (WeChat Pay still deducting by itself)."""
        found = []
        stale = now - timedelta(seconds=sum(RETRY_AFTER_S))
        for bill in bills:
            attempts = [p for p in paid.get(bill.id, []) if p.rail == rail.name]
            failed = len(attempts) >= MAX_ATTEMPTS and all(p.status is PaymentStatus.FAILED for p in attempts)
            stuck = (
                bool(attempts)
                and attempts[-1].status is PaymentStatus.PENDING
                and attempts[0].created_at < stale
            )
            if (failed or stuck) and bill.status in (BillStatus.UNPAID, BillStatus.OVERDUE):
                found.append(_exhausted(rail.name, bill, len(attempts), still_pending=stuck))
        return found

    async def _keep(
        self, rail: CreditRail, references: Sequence[str], mismatches: Sequence[Mismatch]
    ) -> None:
        """Store ``mismatches``; resolve the stored ones of ``references`` that were not found again
        (unless the provider could not be asked about the order)."""
        for mismatch in mismatches:
            await self._store.record_mismatch(mismatch.rail, mismatch.reference, mismatch.kind.value,
                                              mismatch.ours, mismatch.theirs, mismatch.detail)  # fmt: skip
        for reference in references:
            kinds = frozenset(m.kind.value for m in mismatches if m.reference == reference)
            if MismatchKind.UNREACHABLE.value not in kinds:
                await self._store.clear_mismatches(rail.name, reference, kinds)

    async def scheduled_check(self) -> None:
        """:meth:`check_collections` at most every :data:`CHECK_EVERY_S` (from the reconciliation
        loop, which only the replica holding the sessions lease runs); never raises."""
        if time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + CHECK_EVERY_S
        try:
            await self.check_collections()
        except Exception:  # the loop must go on; the next round tries again
            log.exception("rail reconciliation failed")

    async def _held_by(self, rail: CreditRail, account: str, driver_id: str) -> bool:
        """Whether ``account`` on ``rail`` is held by the user ``driver_id`` signs in as."""
        if self._owner is None or (rail.name, account, driver_id) in self._held:
            return True
        try:
            holder = await rail.holder(account)
        except RailRefused:
            return False
        if not rail.identity:  # the account is a driver id (the bureau, the card)
            return holder == driver_id
        if await self._owner(rail.identity, holder) != driver_id:
            return False
        self._held.add((rail.name, account, driver_id))
        return True

    async def _authorised(self, session_id: str) -> bool:
        return any(e.kind == AUTHORISED_EVENT for e in await self._store.session_events(session_id))

    async def _complete(self, rail: CreditRail, reference: str, payment: PaymentRecord, attempt: int) -> None:
        try:
            order = await rail.complete(reference, payment.amount, SUBJECT, attempt)
        except RailRefused as exc:
            log.error("payment %s: %s refused to collect: %s", payment.id, rail.name, exc)
            await self._failed(rail, reference, payment, attempt)
            return
        except RailError as exc:  # outcome unknown: stays PENDING until a notification or reconciliation
            log.warning("payment %s: %s did not answer: %s", payment.id, rail.name, exc)
            return
        await self._record(payment, order, rail, attempt)

    async def _failed(self, rail: CreditRail, reference: str, payment: PaymentRecord, attempt: int) -> None:
        await self._store.fail_payment(payment.id)
        if attempt < MAX_ATTEMPTS or payment.bill_id is None:
            return
        bill = await self._store.get_bill(payment.bill_id)
        if bill is not None and bill.status in (BillStatus.UNPAID, BillStatus.OVERDUE):
            mismatch = _exhausted(rail.name, bill, attempt)
            log.error("rail collection: %s", mismatch)
            await self._store.record_mismatch(mismatch.rail, mismatch.reference, mismatch.kind.value,
                                              mismatch.ours, mismatch.theirs, mismatch.detail)  # fmt: skip

    async def _attempt(self, payment: PaymentRecord) -> int:
        """Which collection attempt ``payment`` is: one more than the bill's rail payments that
        failed before it (read from the ledger, so the same after a restart)."""
        if payment.bill_id is None:
            return 1
        earlier = (await self._store.payments_for_bills([payment.bill_id])).get(payment.bill_id, [])
        return 1 + sum(
            1 for p in earlier
            if p.id != payment.id and p.rail is not None and p.status is PaymentStatus.FAILED
            and p.created_at <= payment.created_at
        )  # fmt: skip

    async def _record(
        self, payment: PaymentRecord, order: RailOrder, rail: CreditRail | None = None, attempt: int = 1
    ) -> None:
        if order.state is OrderState.COLLECTED:
            await self._store.settle_payment(payment.id, order.provider_reference or order.reference)
        elif order.state in (OrderState.FAILED, OrderState.CANCELLED):
            if rail is None:
                await self._store.fail_payment(payment.id)
            else:
                await self._failed(rail, order.reference, payment, attempt)

    async def _session_of(self, payment: PaymentRecord) -> SessionRecord | None:
        bill = await self._store.get_bill(payment.bill_id) if payment.bill_id else None
        return await self._store.get_session(bill.session_id) if bill is not None else None

    def _rail_of(self, payment: PaymentRecord) -> CreditRail | None:
        """The rail whose collection ``payment`` is (None for the driver's own payments)."""
        return self._rails.get(payment.rail) if payment.rail is not None else None

    async def _pending_payment(self, rail: CreditRail, session_id: str) -> PaymentRecord | None:
        """The pending collection by ``rail`` of the bill of ``session_id`` (the order's name)."""
        bill = (await self._store.bills_for_sessions([session_id])).get(session_id)
        if bill is None:
            return None
        payments = (await self._store.payments_for_bills([bill.id])).get(bill.id, [])
        return next((p for p in payments if p.status is PaymentStatus.PENDING and p.rail == rail.name), None)

    @staticmethod
    async def _cancel_quietly(rail: CreditRail, reference: str) -> None:
        try:
            await rail.cancel(reference, "session ended without a charge")
        except RailError as exc:
            log.warning(
                "order %s on %s not cancelled: %s (reconciliation will see it)", reference, rail.name, exc
            )


def _exhausted(rail: str, bill: BillRecord, attempts: int, still_pending: bool = False) -> Mismatch:
    detail = (
        f"bill {bill.id} not collected yet, {attempts} attempt(s), the provider still collecting"
        if still_pending
        else f"{attempts} collections failed; bill {bill.id} stays {bill.status.value} for the driver to pay"
    )
    return Mismatch(
        rail, bill.session_id, MismatchKind.COLLECTION_FAILED, bill.total, Decimal("0.00"), detail
    )
