"""Retried collections with several replicas, on SQLite and PostgreSQL, against the rail simulators.

Two replicas (each its own connection pool to the ledger and its own client session to the rail)
run the retry job at the same moment over the same failed bills, meeting at the provider for the
same bill (:mod:`tests.gateway.billing.rail_doubles`); notifications are delivered twice, and while the
collection they report is still being made by another replica. After every step both sides' books
obey the money rules of :func:`tests.gateway.billing.rail_books.check`: each bill collected at most
once and never above its total, one payment and one merchant number per attempt, at most four
attempts, a bill PAID exactly when a payment settled, one COLLECTION_FAILED mismatch after the last.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest

from gateway.billing import (
    BillingService,
    BillStatus,
    Declined,
    PaymentMethod,
    PaymentStatus,
    RefundRecord,
)
from gateway.billing.rails import MAX_ATTEMPTS, RETRY_AFTER_S
from gateway.rails.card import CardBooks, DemoCard
from gateway.rails.reconcile import MismatchKind
from gateway.rails.sim.faults import RailFaults
from gateway.store import PaymentOutcome, Store
from operators.domain import SessionPhase
from tests.gateway.billing.rail_books import Collection, check, collection
from tests.gateway.billing.rail_doubles import Lockstep
from tests.gateway.billing.rail_harness import NewBilling, Rail, acknowledging, failed_collection, rails_of
from tests.rails.conftest import MerchantEndpoint

BILLS = 4
TOTAL = Decimal("12.00")


async def failed_bills(billing: BillingService, rail: Rail, count: int = BILLS, **faults: bool) -> list[str]:
    """``count`` bills of alice's whose first collection failed."""
    return [
        (await failed_collection(billing, rail, str(TOTAL), key=f"k{n}", cap="20", **faults))[1].id
        for n in range(count)
    ]


async def checked(store: Store, rail: Rail, bill_ids: list[str]) -> list[Collection]:
    found = [await collection(store, rail.sim, bill_id) for bill_id in bill_ids]
    for each in found:
        check(each)
    return found


async def retry_at_once(new_billing: NewBilling, ledgers: list[Store], now: datetime) -> Lockstep:
    """The retry job at ``now`` on one replica per ledger connection (separate processes), all at
    once and meeting at the provider; the lockstep they met in."""
    lockstep = Lockstep(len(ledgers))
    replicas = [new_billing(ledger=ledger, wrap=lockstep.around) for ledger in ledgers]
    await asyncio.gather(*(lockstep.running(rails_of(r).retry_collections(now)) for r in replicas))
    return lockstep


def due(attempt: int) -> datetime:
    """A moment when attempt ``attempt`` of a collection whose last attempt began by now is due."""
    return datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_S[attempt - 2] + 1)


def only_alipay(rail: Rail) -> None:
    if rail.name != "alipay":
        pytest.skip("WeChat Pay keeps deducting a failed collection itself: the retry job has nothing to do")


@pytest.mark.parametrize("collects_at", [2, MAX_ATTEMPTS, None], ids=["second", "last", "never"])
async def test_replicas_retrying_at_once_collect_a_bill_once_and_make_each_attempt_once(
    new_billing: NewBilling, rail: Rail, store: Store, ledgers: list[Store], collects_at: int | None
) -> None:
    only_alipay(rail)
    bills = await failed_bills(new_billing(), rail)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        rail.sim.faults = RailFaults(collection_failure=attempt != collects_at)
        assert await rails_of(new_billing()).retry_collections(datetime.now(UTC)) == 0  # not due yet
        lockstep = await retry_at_once(new_billing, ledgers, due(attempt))
        collections = await checked(store, rail, bills)
        if collects_at is None or attempt <= collects_at:
            assert lockstep.rounds >= 1  # the replicas did reach the provider together
        for each in collections:
            made = min(attempt, collects_at or attempt)
            assert len(each.payments) == made and len(each.trades) == made
            assert each.collected == (TOTAL if collects_at and attempt >= collects_at else 0)
    await retry_at_once(new_billing, ledgers, datetime.now(UTC) + timedelta(days=30))
    for each in await checked(store, rail, bills):
        assert len(each.payments) == (collects_at or MAX_ATTEMPTS)  # bounded, then nothing more
        assert each.bill.status is (BillStatus.PAID if collects_at else BillStatus.UNPAID)
        assert each.mismatches == (0 if collects_at else 1)
    assert Decimal(rail.collected()) == (TOTAL * BILLS if collects_at else 0)
    assert await store.check_ledger() == []


@pytest.mark.parametrize("collects_at", [2, None], ids=["second", "never"])
async def test_notifications_delivered_twice_while_a_replica_retries_are_applied_once(
    new_billing: NewBilling,
    rail: Rail,
    store: Store,
    ledgers: list[Store],
    merchant: MerchantEndpoint,
    collects_at: int | None,
) -> None:
    """Replica A makes the collections; each outcome is notified twice to replica B before the
    provider answers A, so B applies it while A's call is still open, and again afterwards."""
    only_alipay(rail)
    retrying, notified = new_billing(ledger=ledgers[0]), new_billing(ledger=ledgers[1])
    applied: list[str] = []
    merchant.answer = acknowledging(notified, rail, applied)
    twice = {"duplicate_notifications": True, "notify_before_response": True}
    [bill] = await failed_bills(retrying, rail, 1, **twice)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        [before] = await checked(store, rail, [bill])
        if before.bill.status is BillStatus.PAID:
            break
        rail.sim.faults = RailFaults(collection_failure=attempt != collects_at, **twice)
        assert await rails_of(retrying).retry_collections(due(attempt)) == 1
        [after] = await checked(store, rail, [bill])
        assert len(after.payments) == attempt
    assert len(applied) == 2 * len(after.payments)  # every outcome, delivered and applied twice
    assert all(first == second for first, second in zip(applied[::2], applied[1::2], strict=True))
    assert len(set(applied)) == len(after.payments)
    statuses = [p.status for p in after.payments]
    if collects_at:
        assert statuses == [PaymentStatus.FAILED] * (collects_at - 1) + [PaymentStatus.SETTLED]
        assert after.collected == TOTAL and after.bill.status is BillStatus.PAID
    else:
        assert statuses == [PaymentStatus.FAILED] * MAX_ATTEMPTS and after.mismatches == 1
    assert await rails_of(notified).retry_collections(datetime.now(UTC) + timedelta(days=30)) == 0
    assert await store.check_ledger() == []


async def test_wechat_pay_deducting_by_itself_is_settled_once_by_notifications_and_reconciliation(
    new_billing: NewBilling,
    rail: Rail,
    store: Store,
    ledgers: list[Store],
    merchant: MerchantEndpoint,
    http: aiohttp.ClientSession,
) -> None:
    """WeChat Pay keeps a failed deduction going and takes the money later by itself: its
    notification, delivered twice to replica B, races replica A reconciling and retrying."""
    if rail.name != "wechatpay":
        pytest.skip("Alipay closes a failed collection: the retry job tries again (above)")
    reconciling, notified = new_billing(ledger=ledgers[0]), new_billing(ledger=ledgers[1])
    applied: list[str] = []
    merchant.answer = acknowledging(notified, rail, applied)
    [bill] = await failed_bills(reconciling, rail, 1)
    [pending] = await checked(store, rail, [bill])
    assert [p.status for p in pending.payments] == [PaymentStatus.PENDING]
    rail.sim.faults = RailFaults(duplicate_notifications=True, notify_before_response=True)
    wechat_pay = rail.make(http)  # WeChat Pay deducting again, by itself
    await asyncio.gather(
        wechat_pay.complete(pending.bill.session_id, TOTAL, "EV charging", attempt=2),
        reconciling.reconcile_payments(grace=timedelta(0)),
        rails_of(reconciling).retry_collections(datetime.now(UTC) + timedelta(days=1)),
    )
    assert await reconciling.reconcile_payments(grace=timedelta(0)) == 0  # nothing left pending
    [after] = await checked(store, rail, [bill])
    assert [p.status for p in after.payments] == [PaymentStatus.SETTLED]
    assert after.collected == TOTAL and after.bill.status is BillStatus.PAID
    assert len(applied) == 2 and applied[0] == applied[1]
    assert await store.check_ledger() == []


async def test_a_bill_the_driver_pays_by_card_is_left_to_the_card(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    """After a failed collection alice pays the bill by card, and the gateway dies after the card
    captured it, before the ledger heard. Reconciliation asks the card, not the rail; the bill is
    paid once, by the card; the rail's retries and checks leave it alone; a refund goes back to
    the card."""
    only_alipay(rail)
    books = CardBooks()  # the acquirer's: every process's card reaches the same books
    _, booked = await failed_collection(new_billing(card=DemoCard(books)), rail)
    rail.sim.faults = RailFaults()
    started = await store.begin_bill_payment("alice", booked.id, PaymentMethod.PROVIDER, "pay-1", "by card")
    payment = started.payment
    assert started.outcome is PaymentOutcome.PENDING and payment is not None
    await DemoCard(books).authorise(payment.id, "alice", payment.amount, "EV charging")
    await DemoCard(books).complete(payment.id, payment.amount, "EV charging")  # then the process died
    billing = new_billing(card=DemoCard(books))
    assert await billing.reconcile_payments(grace=timedelta(0)) == 1
    assert await rails_of(billing).retry_collections(due(2)) == 0
    [after] = await checked(store, rail, [booked.id])
    assert [p.status for p in after.others] == [PaymentStatus.SETTLED]  # the card's, once
    assert after.bill.status is BillStatus.PAID
    assert (books.collected(), after.collected) == (TOTAL, 0)  # the card took it; Alipay nothing
    refund = await billing.refund("admin", "r1", payment.id, None, "goodwill")
    assert isinstance(refund, RefundRecord) and refund.status is PaymentStatus.SETTLED
    assert books.refunded() == TOTAL and rail.sim.ledger.to_json()["refunded"] == "0.00"
    await store.apply_progress(after.bill.session_id, status=SessionPhase.COMPLETED)
    kinds = {m.kind for m in await rails_of(billing).check_collections()}
    assert MismatchKind.MISSING_COLLECTION not in kinds  # the rail was never meant to have it
    assert await store.check_ledger() == []


async def test_a_declined_card_payment_is_not_one_of_the_rails_attempts(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    """A card payment the card declined between two collections is the driver's, not an attempt:
    the rail's second attempt still comes a minute after its first, as attempt 2."""
    only_alipay(rail)
    billing = new_billing(card=DemoCard(CardBooks(limit=Decimal("1"))))  # declines the bill
    session, booked = await failed_collection(billing, rail)
    assert isinstance(await billing.pay_bill("alice", booked.id, PaymentMethod.PROVIDER, "pay-1"), Declined)
    rail.sim.faults = RailFaults()
    assert await rails_of(billing).retry_collections(due(2)) == 1
    [after] = await checked(store, rail, [booked.id])
    assert after.attempts == [1, 2] and after.trades == [session.id, f"{session.id}_2"]
    assert [p.status for p in after.others] == [PaymentStatus.FAILED] and after.bill.status is BillStatus.PAID
    assert await store.check_ledger() == []
