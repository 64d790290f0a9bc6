"""Paying bills: never charged twice, retries return the original, the wallet never goes short."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

from gateway.store import BillRecord, BillStatus, PaymentMethod, PaymentOutcome, Store, WalletEntryKind

NewBill = Callable[..., Awaitable[BillRecord]]


async def _top_up(store: Store, driver_id: str, amount: str) -> None:
    assert await store.add_wallet_entry(
        driver_id, Decimal(amount), WalletEntryKind.TOPUP, f"topup-{driver_id}"
    )


async def test_pay_from_the_wallet(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("carol", Decimal("12.3456"))
    await _top_up(store, "carol", "200")
    result = await store.pay_bill(bill.id, "carol", PaymentMethod.WALLET, "pay-1")
    assert result.outcome is PaymentOutcome.PAID and result.paid
    assert result.balance == Decimal("187.6544") == await store.wallet_balance("carol", "CNY")
    assert (
        result.bill is not None and result.bill.status is BillStatus.PAID and result.bill.paid_at is not None
    )
    assert result.payment is not None and result.payment.amount == Decimal("12.3456")
    assert result.payment == await store.payment_for_bill(bill.id)
    charges = [e for e in await store.wallet_entries("carol") if e.kind is WalletEntryKind.CHARGE]
    assert [(e.amount, e.reference) for e in charges] == [(Decimal("-12.3456"), f"bill:{bill.id}")]
    assert await store.outstanding("carol") == 0


async def test_paying_twice_charges_once(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("carol", Decimal("20"))
    await _top_up(store, "carol", "100")
    first = await store.pay_bill(bill.id, "carol", PaymentMethod.WALLET, "pay-1")
    retry = await store.pay_bill(bill.id, "carol", PaymentMethod.WALLET, "pay-1")
    other_key = await store.pay_bill(bill.id, "carol", PaymentMethod.PROVIDER, "pay-2", "psp-77")
    assert first.outcome is PaymentOutcome.PAID
    assert retry.outcome is other_key.outcome is PaymentOutcome.ALREADY_PAID
    assert retry.payment == other_key.payment == first.payment
    assert await store.wallet_balance("carol", "CNY") == Decimal("80")


async def test_concurrent_payments_charge_once(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("carol", Decimal("30"))
    await _top_up(store, "carol", "100")
    keys = [f"tap-{n % 3}" for n in range(12)]  # retries of three attempts, all at once
    results = await asyncio.gather(*(store.pay_bill(bill.id, "carol", PaymentMethod.WALLET, k) for k in keys))
    assert [r.outcome for r in results].count(PaymentOutcome.PAID) == 1
    assert all(r.paid for r in results)
    assert len({r.payment.id for r in results if r.payment}) == 1
    assert await store.wallet_balance("carol", "CNY") == Decimal("70")


async def test_concurrent_bills_never_overdraw_the_wallet(store: Store, new_bill: NewBill) -> None:
    bills = [await new_bill("carol", Decimal("40")) for _ in range(5)]
    await _top_up(store, "carol", "100")
    results = await asyncio.gather(
        *(store.pay_bill(b.id, "carol", PaymentMethod.WALLET, f"pay-{b.id}") for b in bills)
    )
    outcomes = [r.outcome for r in results]
    assert outcomes.count(PaymentOutcome.PAID) == 2
    assert outcomes.count(PaymentOutcome.INSUFFICIENT_FUNDS) == 3
    assert await store.wallet_balance("carol", "CNY") == Decimal("20")


async def test_insufficient_balance_is_refused_and_writes_nothing(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("bob", Decimal("10"))
    result = await store.pay_bill(bill.id, "bob", PaymentMethod.WALLET, "pay-1")
    assert result.outcome is PaymentOutcome.INSUFFICIENT_FUNDS and not result.paid
    assert result.balance == 0 and result.payment is None
    assert await store.wallet_entries("bob") == [] and await store.payment_for_bill(bill.id) is None
    assert (await store.get_bill(bill.id)).status is BillStatus.UNPAID  # type: ignore[union-attr]
    # The same key may be used again once the wallet is topped up: nothing was recorded under it.
    await _top_up(store, "bob", "10")
    assert (
        await store.pay_bill(bill.id, "bob", PaymentMethod.WALLET, "pay-1")
    ).outcome is PaymentOutcome.PAID
    assert await store.wallet_balance("bob", "CNY") == 0


async def test_provider_payments_leave_the_wallet_alone(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("alice", Decimal("55.5"))
    result = await store.pay_bill(
        bill.id, "alice", PaymentMethod.PROVIDER, "pay-1", provider_reference="psp-1"
    )
    assert result.outcome is PaymentOutcome.PAID and result.balance is None
    assert result.payment is not None and result.payment.provider_reference == "psp-1"
    assert result.payment.method is PaymentMethod.PROVIDER
    assert await store.wallet_entries("alice") == []


async def test_refusals(store: Store, new_bill: NewBill) -> None:
    alice_bill = await new_bill("alice", Decimal("5"))
    disputed = await new_bill("alice", Decimal("5"), status=BillStatus.DISPUTED)
    bob_bill = await new_bill("bob", Decimal("5"))
    await _top_up(store, "alice", "100")
    not_hers = await store.pay_bill(bob_bill.id, "alice", PaymentMethod.WALLET, "k1")
    assert not_hers.outcome is PaymentOutcome.NOT_FOUND and not_hers.bill is None
    unknown_driver = await store.pay_bill(alice_bill.id, "nobody", PaymentMethod.WALLET, "k2")
    assert unknown_driver.outcome is PaymentOutcome.NOT_FOUND
    assert (
        await store.pay_bill(disputed.id, "alice", PaymentMethod.WALLET, "k3")
    ).outcome is PaymentOutcome.NOT_PAYABLE
    assert (
        await store.pay_bill(alice_bill.id, "alice", PaymentMethod.WALLET, "k4")
    ).outcome is PaymentOutcome.PAID
    reused = await store.pay_bill(bob_bill.id, "bob", PaymentMethod.PROVIDER, "k4")
    assert reused.outcome is PaymentOutcome.KEY_REUSED and reused.payment is None and reused.bill is None
    assert await store.wallet_balance("alice", "CNY") == Decimal("95")
