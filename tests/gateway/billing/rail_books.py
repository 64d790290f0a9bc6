"""One bill's collection as both sides keep it, and the money rules they must obey together.

The ledger's side: the bill, the payments the rail collects (one per collection attempt) and the
attempt each was written for, read back from the idempotency key that wrote it
(:func:`~gateway.billing.rails.collection_key`), and the bill's other payments (the driver's own,
from the wallet or by card). The provider's side, from the simulator's own books: what it
collected for the order and, on Alipay, the merchant number (``out_trade_no``) of every collection
it was asked to make."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from gateway.billing import BillRecord, BillStatus, PaymentRecord, PaymentStatus
from gateway.billing.rails import MAX_ATTEMPTS, collection_key
from gateway.rails.alipay.rail import out_trade_no
from gateway.rails.amounts import from_fen
from gateway.store import Store
from gateway.store.tables import idempotency_keys

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Collection:
    bill: BillRecord
    payments: list[PaymentRecord]  # the rail's collections of the bill, oldest first
    attempts: list[int]  # the attempt each was written for
    others: list[PaymentRecord]  # the bill's payments made otherwise (the driver's, by wallet or card)
    trades: list[str]  # Alipay: the out_trade_no of every collection asked for (WeChat Pay: none)
    collected: Decimal  # what the provider took for the order
    mismatches: int  # open COLLECTION_FAILED mismatches of the order

    @property
    def settled(self) -> list[PaymentRecord]:
        return [p for p in self.payments if p.status is PaymentStatus.SETTLED]

    @property
    def pending(self) -> bool:
        return any(p.status is PaymentStatus.PENDING for p in self.payments)

    @property
    def exhausted(self) -> bool:
        """Every attempt was made and failed."""
        failed = [p for p in self.payments if p.status is PaymentStatus.FAILED]
        return len(failed) >= MAX_ATTEMPTS


async def collection(store: Store, sim: Any, bill_id: str) -> Collection:
    """The collection of ``bill_id`` as the ledger and the simulator ``sim`` have it now."""
    bill = await store.get_bill(bill_id)
    assert bill is not None
    keys = await _keys(store, bill.driver_id)
    prefix = collection_key(bill.session_id)
    payments, attempts, others = [], [], []
    for payment in (await store.payments_for_bills([bill_id]))[bill_id]:
        attempt = _attempt(keys.get(payment.id), prefix)
        if attempt is None:
            others.append(payment)
        else:
            payments.append(payment)
            attempts.append(attempt)
    failed = [m for m in await store.mismatches() if m.kind == "COLLECTION_FAILED"]
    mismatches = sum(m.reference == bill.session_id for m in failed)
    trades, collected = _books(sim, bill.session_id)
    return Collection(bill, payments, attempts, others, trades, collected, mismatches)


def check(c: Collection) -> None:
    """The rules: collected at most once and never more than the bill; one settled payment at most
    (the rail's or another), the rail's equal to what the provider took once none is in flight; one
    payment per attempt, attempts numbered 1, 2, … in order, at most :data:`MAX_ATTEMPTS`, each with
    its own merchant number and no collection asked for that the ledger did not write first; a bill
    PAID exactly when a payment settled; one COLLECTION_FAILED mismatch kept once every attempt
    failed."""
    session = c.bill.session_id
    settled = c.settled + [p for p in c.others if p.status is PaymentStatus.SETTLED]
    assert c.collected <= c.bill.total, (session, c.collected, c.bill.total)
    assert len(settled) <= 1, (c.payments, c.others)
    assert c.attempts == list(range(1, len(c.payments) + 1)), (c.attempts, c.payments)
    assert len(c.payments) <= MAX_ATTEMPTS, c.payments
    assert len(set(c.trades)) == len(c.trades), c.trades
    assert set(c.trades) <= {out_trade_no(session, n) for n in range(1, len(c.payments) + 1)}, c.trades
    assert all(p.amount == c.bill.total for p in c.payments), c.payments
    if not c.pending:
        assert sum((p.amount for p in c.settled), ZERO) == c.collected, (c.payments, c.collected)
    assert (c.bill.status is BillStatus.PAID) == bool(settled), (c.bill.status, c.payments, c.others)
    if c.exhausted and c.bill.status is not BillStatus.PAID:
        assert c.mismatches == 1, (session, c.mismatches)
    assert c.mismatches <= 1, (session, c.mismatches)


async def _keys(store: Store, driver_id: str) -> dict[str, str]:
    """The driver's payBill idempotency keys by the payment each wrote."""
    query = select(idempotency_keys.c.key, idempotency_keys.c.result_id).where(
        idempotency_keys.c.owner == driver_id, idempotency_keys.c.operation == "payBill"
    )
    async with store.database.read() as conn:
        return {row.result_id: row.key for row in await conn.execute(query)}


def _attempt(key: str | None, prefix: str) -> int | None:
    if key == prefix:
        return 1
    if key is not None and key.startswith(f"{prefix}-") and key[len(prefix) + 1 :].isdigit():
        return int(key[len(prefix) + 1 :])
    return None


def _books(sim: Any, session_id: str) -> tuple[list[str], Decimal]:
    """The merchant numbers the provider was asked to collect under, and what it took, for the
    order named by the session."""
    books = sim.ledger
    if hasattr(books, "trades"):  # Alipay: one credit order, one trade per collection asked for
        orders = {o.credit_biz_order_id for o in books.orders.values() if o.out_order_no == session_id}
        trades = [t for t in books.trades.values() if t.credit_biz_order_id in orders]
        taken = [t.total_amount for t in trades if t.status == "TRADE_SUCCESS" or t.refunds]
        return [t.out_trade_no for t in trades], sum(taken, ZERO)
    order = books.orders.get(session_id)  # WeChat Pay: one service order, deducted at most once
    return [], ZERO if order is None else from_fen(order.paid_fen)
