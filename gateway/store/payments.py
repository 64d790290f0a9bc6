"""Payments: recorded in the ledger first, in the transaction that checks the bill is payable.

A wallet payment is whole in that one transaction: lock the driver, check the key, lock the bill,
refuse a PAID or DISPUTED one or one with a payment pending, check the wallet less its live holds,
debit it (reference ``bill:<id>``), write the payment SETTLED and mark the bill PAID. A provider
payment (and every top-up) is written PENDING there instead; the caller then charges the provider
with the payment's id as the provider's idempotency key and settles or fails it here. A pending
payment whose caller vanished is settled by reconciliation, which asks the provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.bills import load_bill
from gateway.store.database import Database
from gateway.store.exposure import reserved_in
from gateway.store.idempotency import claim_key, find_key
from gateway.store.records import (
    BillRecord,
    BillStatus,
    KeyConflict,
    PaymentMethod,
    PaymentMode,
    PaymentOutcome,
    PaymentPurpose,
    PaymentRecord,
    PaymentResult,
    PaymentStatus,
    WalletEntryKind,
)
from gateway.store.tables import bills, payments
from gateway.store.types import new_id, utcnow
from gateway.store.wallet import balance_in, ensure_driver_row, insert_entry, lock_driver

PAY, TOP_UP = "payBill", "topUpWallet"


def payment_record(row: Row[Any]) -> PaymentRecord:
    m = row._mapping
    return PaymentRecord(
        **{**m, "method": PaymentMethod(m["method"]), "status": PaymentStatus(m["status"]),
           "purpose": PaymentPurpose(m["purpose"])}
    )  # fmt: skip


async def _payment(conn: AsyncConnection, *where: Any, lock: bool = False) -> PaymentRecord | None:
    query = select(payments).where(*where)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else payment_record(row)


async def available_in(conn: AsyncConnection, driver_id: str, currency: str) -> Decimal:
    """The wallet balance less the holds of live prepaid sessions."""
    return await balance_in(conn, driver_id, currency) - await reserved_in(
        conn, driver_id, PaymentMode.PREPAID
    )


async def _insert(conn: AsyncConnection, **values: Any) -> PaymentRecord:
    now = utcnow()
    settled = values["status"] is PaymentStatus.SETTLED
    values = {
        **values, "id": new_id(), "created_at": now, "settled_at": now if settled else None,
        "status": values["status"].value, "method": values["method"].value,
        "purpose": values["purpose"].value,
    }  # fmt: skip
    return payment_record(
        (await conn.execute(payments.insert().values(**values).returning(*payments.c))).one()
    )


async def _mark_paid(conn: AsyncConnection, bill_id: str) -> BillRecord:
    await conn.execute(
        bills.update().where(bills.c.id == bill_id).values(status=BillStatus.PAID.value, paid_at=utcnow())
    )
    bill = await load_bill(conn, bill_id)
    assert bill is not None
    return bill


async def pay_from_wallet(db: Database, conn: AsyncConnection, bill: BillRecord) -> PaymentResult:
    """Pay an unpaid ``bill`` whole from its driver's wallet (driver and bill already locked)."""
    available = await available_in(conn, bill.driver_id, bill.currency)
    if available < bill.total:
        return PaymentResult(PaymentOutcome.INSUFFICIENT_FUNDS, bill, balance=available)
    if bill.total > 0:
        reference = f"bill:{bill.id}"
        await insert_entry(
            db, conn, bill.driver_id, -bill.total, bill.currency, WalletEntryKind.CHARGE, reference
        )
    payment = await _insert(
        conn, driver_id=bill.driver_id, bill_id=bill.id, purpose=PaymentPurpose.BILL, amount=bill.total,
        currency=bill.currency, method=PaymentMethod.WALLET, status=PaymentStatus.SETTLED,
    )  # fmt: skip
    return PaymentResult(PaymentOutcome.PAID, await _mark_paid(conn, bill.id), payment)


class Payments:
    """Bill payments and top-ups, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def begin_bill_payment(
        self,
        driver_id: str,
        bill_id: str,
        method: PaymentMethod,
        key: str,
        request_hash: str,
        rail: str | None = None,
    ) -> PaymentResult:
        """Pay from the wallet, or record a PENDING provider payment; see :class:`PaymentOutcome`.
        With ``rail``, the provider payment is that credit rail's collection of the bill."""
        async with self._db.write() as conn:
            if not await lock_driver(conn, driver_id):
                return PaymentResult(PaymentOutcome.NOT_FOUND)
            earlier = await find_key(conn, driver_id, PAY, key, request_hash)
            if isinstance(earlier, KeyConflict):
                return PaymentResult(PaymentOutcome.KEY_CONFLICT)
            if earlier is not None:
                payment = await _payment(conn, payments.c.id == earlier)
                assert payment is not None and payment.bill_id is not None
                outcome = {
                    PaymentStatus.SETTLED: PaymentOutcome.ALREADY_PAID,
                    PaymentStatus.PENDING: PaymentOutcome.PENDING,
                    PaymentStatus.FAILED: PaymentOutcome.DECLINED,
                }[payment.status]
                return PaymentResult(outcome, await load_bill(conn, payment.bill_id), payment)
            bill = await load_bill(conn, bill_id, driver_id, lock=True)
            if bill is None:
                return PaymentResult(PaymentOutcome.NOT_FOUND)
            live = await _payment(conn, payments.c.bill_id == bill_id, payments.c.status != "FAILED")
            if bill.status is BillStatus.PAID:
                return PaymentResult(PaymentOutcome.ALREADY_PAID, bill, live)
            if bill.status is BillStatus.DISPUTED:
                return PaymentResult(PaymentOutcome.NOT_PAYABLE, bill)
            if live is not None:
                return PaymentResult(PaymentOutcome.IN_PROGRESS, bill, live)
            if method is PaymentMethod.WALLET or bill.total == 0:
                result = await pay_from_wallet(self._db, conn, bill)
            else:
                payment = await _insert(
                    conn, driver_id=driver_id, bill_id=bill_id, purpose=PaymentPurpose.BILL,
                    amount=bill.total, currency=bill.currency, method=method, status=PaymentStatus.PENDING,
                    rail=rail,
                )  # fmt: skip
                result = PaymentResult(PaymentOutcome.PENDING, bill, payment)
            if result.payment is not None:
                await claim_key(self._db, conn, driver_id, PAY, key, request_hash, result.payment.id)
            return result

    async def begin_top_up(
        self, driver_id: str, amount: Decimal, currency: str, key: str, request_hash: str
    ) -> PaymentRecord | KeyConflict:
        """A PENDING top-up for the key, or the one an earlier use of the key recorded."""
        async with self._db.write() as conn:
            await ensure_driver_row(self._db, conn, driver_id, None)
            await lock_driver(conn, driver_id)
            earlier = await find_key(conn, driver_id, TOP_UP, key, request_hash)
            if isinstance(earlier, KeyConflict):
                return earlier
            if earlier is not None:
                found = await _payment(conn, payments.c.id == earlier)
                assert found is not None
                return found
            payment = await _insert(
                conn, driver_id=driver_id, bill_id=None, purpose=PaymentPurpose.TOPUP, amount=amount,
                currency=currency, method=PaymentMethod.PROVIDER, status=PaymentStatus.PENDING,
            )  # fmt: skip
            await claim_key(self._db, conn, driver_id, TOP_UP, key, request_hash, payment.id)
            return payment

    async def settle_payment(self, payment_id: str, provider_reference: str) -> PaymentRecord:
        """The provider charged a PENDING payment: mark it SETTLED and mark its bill PAID or credit
        the wallet (reference ``payment:<id>``). A payment no longer pending is returned as is."""
        async with self._db.write() as conn:
            payment = await _payment(conn, payments.c.id == payment_id, lock=True)
            if payment is None:
                raise LookupError(f"no payment {payment_id}")
            if payment.status is not PaymentStatus.PENDING:
                return payment
            await lock_driver(conn, payment.driver_id)
            if payment.bill_id is not None:
                await _mark_paid(conn, payment.bill_id)
            else:
                await insert_entry(
                    self._db, conn, payment.driver_id, payment.amount, payment.currency,
                    WalletEntryKind.TOPUP, f"payment:{payment.id}",
                )  # fmt: skip
            statement = (
                payments.update()
                .where(payments.c.id == payment_id)
                .values(status=PaymentStatus.SETTLED.value, provider_reference=provider_reference,
                        settled_at=utcnow())
                .returning(*payments.c)
            )  # fmt: skip
            return payment_record((await conn.execute(statement)).one())

    async def fail_payment(self, payment_id: str) -> PaymentRecord:
        """The provider declined (or never received) a PENDING payment: it is FAILED, for good."""
        async with self._db.write() as conn:
            statement = (
                payments.update()
                .where(payments.c.id == payment_id, payments.c.status == PaymentStatus.PENDING.value)
                .values(status=PaymentStatus.FAILED.value)
            )
            await conn.execute(statement)
            payment = await _payment(conn, payments.c.id == payment_id)
        if payment is None:
            raise LookupError(f"no payment {payment_id}")
        return payment

    async def get_payment(self, payment_id: str) -> PaymentRecord | None:
        async with self._db.read() as conn:
            return await _payment(conn, payments.c.id == payment_id)

    async def payments_for_bills(self, bill_ids: Iterable[str]) -> dict[str, list[PaymentRecord]]:
        """Each bill's payments (failed attempts too), oldest first."""
        wanted = list(bill_ids)
        found: dict[str, list[PaymentRecord]] = {bill_id: [] for bill_id in wanted}
        query = select(payments).where(payments.c.bill_id.in_(wanted)).order_by(payments.c.created_at)
        async with self._db.read() as conn:
            for row in await conn.execute(query):
                found[row.bill_id].append(payment_record(row))
        return found

    async def failed_collections(
        self, driver_ids: Iterable[str]
    ) -> list[tuple[BillRecord, list[PaymentRecord]]]:
        """Bills of these drivers that a credit rail failed to collect and nothing else is paying:
        UNPAID or OVERDUE, not held for review, with a FAILED rail payment and no live payment; each
        with its rail payments (the attempts; not the driver's own), oldest first."""
        wanted = list(driver_ids)
        failed = (
            select(payments.c.bill_id)
            .where(payments.c.rail.is_not(None), payments.c.status == "FAILED")
            .scalar_subquery()
        )
        live = (
            select(payments.c.bill_id)
            .where(payments.c.bill_id.is_not(None), payments.c.status != "FAILED")
            .scalar_subquery()
        )
        query = (
            select(bills.c.id)
            .where(
                bills.c.driver_id.in_(wanted),
                bills.c.status.in_((BillStatus.UNPAID.value, BillStatus.OVERDUE.value)),
                bills.c.review.is_(None),
                bills.c.id.in_(failed),
                bills.c.id.not_in(live),
            )
            .order_by(bills.c.created_at)
        )
        found: list[tuple[BillRecord, list[PaymentRecord]]] = []
        async with self._db.read() as conn:
            for bill_id in (await conn.execute(query)).scalars().all():
                bill = await load_bill(conn, bill_id)
                attempts = select(payments).where(payments.c.bill_id == bill_id, payments.c.rail.is_not(None))
                rows = await conn.execute(attempts.order_by(payments.c.created_at))
                if bill is not None:
                    found.append((bill, [payment_record(row) for row in rows]))
        return found

    async def pending_payments(self, created_before: datetime) -> list[PaymentRecord]:
        query = (
            select(payments)
            .where(payments.c.status == PaymentStatus.PENDING.value, payments.c.created_at <= created_before)
            .order_by(payments.c.created_at)
        )
        async with self._db.read() as conn:
            return [payment_record(row) for row in await conn.execute(query)]
