"""Payments through the billing service, on SQLite and PostgreSQL: the ledger first, the provider
second, one charge per bill however many callers race, nothing for a DISPUTED bill or a conflicting
key, and a payment left pending by a crash resolved by asking the provider."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from gateway.billing import BillingService, BillRecord, BillStatus, KeyConflict, NotPayable, PaymentMethod
from gateway.rails.card import DemoCard
from gateway.store import PaymentStatus, Store
from tests.gateway.billing.conftest import charges
from tests.gateway.store.conftest import NewBill

PARALLEL = 20


async def test_parallel_card_payments_of_one_bill_charge_once(
    billing: BillingService, provider: DemoCard, new_bill: NewBill
):
    bill = await new_bill("alice", Decimal("42.10"))
    keys = [f"k{i % 4}" for i in range(PARALLEL)]  # four attempts, each retried, all at once
    answers = await asyncio.gather(
        *(billing.pay_bill("alice", bill.id, PaymentMethod.PROVIDER, k) for k in keys)
    )
    assert all(isinstance(a, BillRecord) for a in answers), answers
    assert list(charges(provider).values()) == [Decimal("42.10")]
    payments = (await billing.payments([bill.id]))[bill.id]
    assert [(p.status, p.amount) for p in payments] == [(PaymentStatus.SETTLED, Decimal("42.10"))]
    assert payments[0].id in charges(provider)  # the provider was called with our payment's id
    assert (await billing.bill("alice", bill.id)).status is BillStatus.PAID  # type: ignore[union-attr]


async def test_a_disputed_bill_never_reaches_the_provider(
    billing: BillingService, provider: DemoCard, new_bill: NewBill
):
    bill = await new_bill("alice", Decimal("8"), status=BillStatus.DISPUTED)
    answers = await asyncio.gather(
        *(billing.pay_bill("alice", bill.id, PaymentMethod.PROVIDER, f"k{i}") for i in range(PARALLEL))
    )
    assert all(isinstance(a, NotPayable) for a in answers)
    assert charges(provider) == {} and (await billing.payments([bill.id]))[bill.id] == []


async def test_a_conflicting_key_reaches_nothing(billing: BillingService, provider: DemoCard):
    assert await billing.top_up("carol", Decimal("10"), "K") == Decimal("10")
    assert await billing.top_up("carol", Decimal("10.00"), "K") == Decimal("10")  # the same amount
    assert isinstance(await billing.top_up("carol", Decimal("500"), "K"), KeyConflict)
    assert await billing.top_up("dave", Decimal("500"), "K") == Decimal("500")  # another driver's key
    assert list(charges(provider).values()) == [Decimal("10"), Decimal("500")]
    assert await billing.wallet("carol") == Decimal("10")


async def test_a_payment_left_pending_by_a_crash_is_resolved_by_asking_the_provider(
    billing: BillingService, provider: DemoCard, store: Store, new_bill: NewBill
):
    charged, never = await new_bill("alice", Decimal("5")), await new_bill("alice", Decimal("6"))
    # Both recorded PENDING; the provider charged the first, then the gateway died before settling.
    first = await store.begin_bill_payment("alice", charged.id, PaymentMethod.PROVIDER, "a", "h1")
    second = await store.begin_bill_payment("alice", never.id, PaymentMethod.PROVIDER, "b", "h2")
    assert first.payment and second.payment
    await provider.authorise(first.payment.id, "alice", first.payment.amount, "t")
    await provider.complete(first.payment.id, first.payment.amount, "t")
    assert await billing.reconcile_payments() == 0  # too young: a live request may still be settling it
    assert await billing.reconcile_payments(grace=timedelta(0)) == 2
    assert (await store.get_payment(first.payment.id)).status is PaymentStatus.SETTLED  # type: ignore[union-attr]
    assert (await store.get_payment(second.payment.id)).status is PaymentStatus.FAILED  # type: ignore[union-attr]
    assert (await store.get_bill(charged.id)).status is BillStatus.PAID  # type: ignore[union-attr]
    assert (await store.get_bill(never.id)).status is BillStatus.UNPAID  # type: ignore[union-attr]
    assert len(charges(provider)) == 1
    retried = await billing.pay_bill("alice", never.id, PaymentMethod.PROVIDER, "b2")
    assert isinstance(retried, BillRecord) and retried.status is BillStatus.PAID


async def test_a_card_payment_held_but_not_captured_before_a_crash_is_captured_once(
    billing: BillingService, provider: DemoCard, store: Store, new_bill: NewBill
):
    bill = await new_bill("alice", Decimal("7.25"))
    started = await store.begin_bill_payment("alice", bill.id, PaymentMethod.PROVIDER, "a", "h1")
    assert started.payment is not None
    await provider.authorise(started.payment.id, "alice", started.payment.amount, "t")  # then the crash
    assert await billing.reconcile_payments(grace=timedelta(0)) == 1
    assert await billing.reconcile_payments(grace=timedelta(0)) == 0
    assert (await store.get_bill(bill.id)).status is BillStatus.PAID  # type: ignore[union-attr]
    assert charges(provider) == {started.payment.id: Decimal("7.25")}
