"""Paying bills: ledger first, never charged twice, retries return the original, the wallet never
goes short (nor below the holds of live prepaid sessions), keys per driver and bound to their input."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gateway.store import (
    BillRecord,
    BillStatus,
    Grant,
    PaymentMethod,
    PaymentMode,
    PaymentOutcome,
    PaymentResult,
    PaymentStatus,
    Store,
    WalletEntryKind,
)

NewBill = Callable[..., Awaitable[BillRecord]]
WALLET, PROVIDER = PaymentMethod.WALLET, PaymentMethod.PROVIDER


async def _top_up(store: Store, driver_id: str, amount: str) -> None:
    assert await store.add_wallet_entry(
        driver_id, Decimal(amount), WalletEntryKind.TOPUP, f"topup-{driver_id}"
    )


async def pay(store: Store, bill_id: str, driver_id: str, method: PaymentMethod, key: str) -> PaymentResult:
    return await store.begin_bill_payment(driver_id, bill_id, method, key, f"{bill_id}:{method.value}")


async def test_pay_from_the_wallet(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("carol", Decimal("12.3456"))
    await _top_up(store, "carol", "200")
    result = await pay(store, bill.id, "carol", WALLET, "pay-1")
    assert result.outcome is PaymentOutcome.PAID and result.paid
    assert await store.wallet_balance("carol", "CNY") == Decimal("187.6544")
    assert result.bill is not None and result.bill.status is BillStatus.PAID and result.bill.paid_at
    assert result.payment is not None and result.payment.amount == Decimal("12.3456")
    assert result.payment.status is PaymentStatus.SETTLED
    assert (await store.payments_for_bills([bill.id]))[bill.id] == [result.payment]
    charges = [e for e in await store.wallet_entries("carol") if e.kind is WalletEntryKind.CHARGE]
    assert [(e.amount, e.reference) for e in charges] == [(Decimal("-12.3456"), f"bill:{bill.id}")]
    assert await store.outstanding("carol") == 0


async def test_paying_twice_charges_once(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("carol", Decimal("20"))
    await _top_up(store, "carol", "100")
    first = await pay(store, bill.id, "carol", WALLET, "pay-1")
    retry = await pay(store, bill.id, "carol", WALLET, "pay-1")
    other_key = await pay(store, bill.id, "carol", PROVIDER, "pay-2")
    assert first.outcome is PaymentOutcome.PAID
    assert retry.outcome is other_key.outcome is PaymentOutcome.ALREADY_PAID
    assert retry.payment == other_key.payment == first.payment
    assert await store.wallet_balance("carol", "CNY") == Decimal("80")


async def test_concurrent_payments_charge_once(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("carol", Decimal("30"))
    await _top_up(store, "carol", "100")
    keys = [f"tap-{n % 3}" for n in range(12)]  # retries of three attempts, all at once
    results = await asyncio.gather(*(pay(store, bill.id, "carol", WALLET, k) for k in keys))
    assert [r.outcome for r in results].count(PaymentOutcome.PAID) == 1
    assert all(r.paid for r in results)
    assert len({r.payment.id for r in results if r.payment}) == 1
    assert await store.wallet_balance("carol", "CNY") == Decimal("70")


async def test_concurrent_bills_never_overdraw_the_wallet(store: Store, new_bill: NewBill) -> None:
    bills = [await new_bill("carol", Decimal("40")) for _ in range(5)]
    await _top_up(store, "carol", "100")
    results = await asyncio.gather(*(pay(store, b.id, "carol", WALLET, f"pay-{b.id}") for b in bills))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(PaymentOutcome.PAID) == 2
    assert outcomes.count(PaymentOutcome.INSUFFICIENT_FUNDS) == 3
    assert await store.wallet_balance("carol", "CNY") == Decimal("20")


async def test_a_prepaid_hold_is_not_spent_on_other_bills(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("carol", Decimal("50"))
    await _top_up(store, "carol", "100")
    opened = await store.open_session(
        driver_id="carol", idempotency_key="s", request_hash="h", currency="CNY",
        grant=lambda account: Grant(PaymentMode.PREPAID, Decimal("80"), account.wallet_balance),
        operator_id="OP", connector_id="C",
    )  # fmt: skip
    assert isinstance(opened, tuple) and opened[0].max_cost == Decimal("80")
    short = await pay(store, bill.id, "carol", WALLET, "k")
    assert short.outcome is PaymentOutcome.INSUFFICIENT_FUNDS and short.balance == Decimal("20")
    assert await store.release_reservation(opened[0].id)
    assert (await pay(store, bill.id, "carol", WALLET, "k")).outcome is PaymentOutcome.PAID


async def test_insufficient_balance_is_refused_and_writes_nothing(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("bob", Decimal("10"))
    result = await pay(store, bill.id, "bob", WALLET, "pay-1")
    assert result.outcome is PaymentOutcome.INSUFFICIENT_FUNDS and not result.paid
    assert result.balance == 0 and result.payment is None
    assert await store.wallet_entries("bob") == [] and await store.payments_for_bills([bill.id]) == {
        bill.id: []
    }
    assert (await store.get_bill(bill.id)).status is BillStatus.UNPAID  # type: ignore[union-attr]
    # The same key may be used again once the wallet is topped up: nothing was recorded under it.
    await _top_up(store, "bob", "10")
    assert (await pay(store, bill.id, "bob", WALLET, "pay-1")).outcome is PaymentOutcome.PAID
    assert await store.wallet_balance("bob", "CNY") == 0


async def test_a_provider_payment_is_pending_before_the_provider_is_called(store: Store, new_bill: NewBill):
    bill = await new_bill("alice", Decimal("55.5"))
    started = await pay(store, bill.id, "alice", PROVIDER, "pay-1")
    assert started.outcome is PaymentOutcome.PENDING and started.payment is not None
    assert started.payment.status is PaymentStatus.PENDING
    other = await pay(store, bill.id, "alice", PROVIDER, "pay-2")
    assert other.outcome is PaymentOutcome.IN_PROGRESS and other.payment == started.payment
    again = await pay(store, bill.id, "alice", PROVIDER, "pay-1")
    assert again.outcome is PaymentOutcome.PENDING and again.payment == started.payment
    settled = await store.settle_payment(started.payment.id, "psp-1")
    assert settled.status is PaymentStatus.SETTLED and settled.provider_reference == "psp-1"
    assert await store.settle_payment(started.payment.id, "psp-1") == settled  # a repeat changes nothing
    assert (await store.get_bill(bill.id)).status is BillStatus.PAID  # type: ignore[union-attr]
    assert await store.wallet_entries("alice") == []
    assert await store.pending_payments(datetime.now(UTC)) == []


async def test_a_failed_provider_payment_frees_the_bill(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("alice", Decimal("9"))
    started = await pay(store, bill.id, "alice", PROVIDER, "pay-1")
    assert started.payment is not None
    assert await store.pending_payments(datetime.now(UTC) - timedelta(minutes=1)) == []
    assert [p.id for p in await store.pending_payments(datetime.now(UTC))] == [started.payment.id]
    failed = await store.fail_payment(started.payment.id)
    assert failed.status is PaymentStatus.FAILED
    assert (await pay(store, bill.id, "alice", PROVIDER, "pay-1")).outcome is PaymentOutcome.DECLINED
    retry = await pay(store, bill.id, "alice", PROVIDER, "pay-2")
    assert retry.outcome is PaymentOutcome.PENDING and retry.payment and retry.payment.id != failed.id


async def test_top_ups_are_credited_once_when_settled(store: Store) -> None:
    first = await store.begin_top_up("carol", Decimal("10"), "CNY", "K", "10")
    assert not isinstance(first, type(None)) and first.status is PaymentStatus.PENDING  # type: ignore[union-attr]
    assert await store.wallet_balance("carol", "CNY") == 0
    assert await store.begin_top_up("carol", Decimal("10"), "CNY", "K", "10") == first
    conflict = await store.begin_top_up("carol", Decimal("500"), "CNY", "K", "500")
    assert conflict.__class__.__name__ == "KeyConflict"
    await store.settle_payment(first.id, "psp")  # type: ignore[union-attr]
    await store.settle_payment(first.id, "psp")  # type: ignore[union-attr]
    assert await store.wallet_balance("carol", "CNY") == Decimal("10")


async def test_refusals_and_keys_per_driver(store: Store, new_bill: NewBill) -> None:
    alice_bill = await new_bill("alice", Decimal("5"))
    disputed = await new_bill("alice", Decimal("5"), status=BillStatus.DISPUTED)
    bob_bill = await new_bill("bob", Decimal("5"))
    await _top_up(store, "alice", "100")
    await _top_up(store, "bob", "100")
    not_hers = await pay(store, bob_bill.id, "alice", WALLET, "k1")
    assert not_hers.outcome is PaymentOutcome.NOT_FOUND and not_hers.bill is None
    unknown_driver = await pay(store, alice_bill.id, "nobody", WALLET, "k2")
    assert unknown_driver.outcome is PaymentOutcome.NOT_FOUND
    assert (await pay(store, disputed.id, "alice", PROVIDER, "k3")).outcome is PaymentOutcome.NOT_PAYABLE
    assert (await pay(store, alice_bill.id, "alice", WALLET, "k4")).outcome is PaymentOutcome.PAID
    conflict = await pay(store, disputed.id, "alice", WALLET, "k4")  # the same key, another bill
    assert conflict.outcome is PaymentOutcome.KEY_CONFLICT and conflict.payment is None
    bobs = await pay(store, bob_bill.id, "bob", WALLET, "k4")  # another driver's key is another key
    assert bobs.outcome is PaymentOutcome.PAID
    assert await store.wallet_balance("alice", "CNY") == Decimal("95")
