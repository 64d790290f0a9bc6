"""Paying a bill: one transaction that can only ever charge once.

Inside a single write transaction: lock the driver (serialising wallet debits), look the
idempotency key up (a retry gets the original payment back), lock the bill, refuse a PAID or
DISPUTED one, check and debit the wallet (reference ``bill:<id>``, itself unique), write the
payment (``bill_id`` unique) and mark the bill PAID. For PROVIDER payments the provider has
already been charged under the same idempotency key; this records the fact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.bills import load_bill
from gateway.store.database import Database
from gateway.store.records import (
    BillStatus,
    PaymentMethod,
    PaymentOutcome,
    PaymentRecord,
    PaymentResult,
    WalletEntryKind,
)
from gateway.store.tables import bills, payments
from gateway.store.types import new_id, utcnow
from gateway.store.wallet import balance_in, insert_entry, lock_driver


def _payment(row: Row[Any]) -> PaymentRecord:
    m = row._mapping
    return PaymentRecord(**{**m, "method": PaymentMethod(m["method"])})


async def _payment_where(conn: AsyncConnection, *conditions: Any) -> PaymentRecord | None:
    row = (await conn.execute(select(payments).where(*conditions))).first()
    return None if row is None else _payment(row)


class Payments:
    """Bill payments, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def pay_bill(
        self,
        bill_id: str,
        driver_id: str,
        method: PaymentMethod,
        idempotency_key: str,
        provider_reference: str | None = None,
    ) -> PaymentResult:
        """Settle the driver's bill in full, at most once; see :class:`PaymentOutcome`."""
        async with self._db.write() as conn:
            if not await lock_driver(conn, driver_id):
                return PaymentResult(PaymentOutcome.NOT_FOUND)
            earlier = await _payment_where(conn, payments.c.idempotency_key == idempotency_key)
            if earlier is not None:
                if earlier.bill_id != bill_id or earlier.driver_id != driver_id:
                    return PaymentResult(PaymentOutcome.KEY_REUSED)  # and reveal nothing about it
                return PaymentResult(PaymentOutcome.ALREADY_PAID, await load_bill(conn, bill_id), earlier)
            bill = await load_bill(conn, bill_id, driver_id, lock=True)
            if bill is None:
                return PaymentResult(PaymentOutcome.NOT_FOUND)
            if bill.status is BillStatus.PAID:
                paid = await _payment_where(conn, payments.c.bill_id == bill_id)
                return PaymentResult(PaymentOutcome.ALREADY_PAID, bill, paid)
            if bill.status is BillStatus.DISPUTED:
                return PaymentResult(PaymentOutcome.NOT_PAYABLE, bill)
            balance = None
            if method is PaymentMethod.WALLET:
                balance = await balance_in(conn, driver_id, bill.currency)
                if balance < bill.total:
                    return PaymentResult(PaymentOutcome.INSUFFICIENT_FUNDS, bill, balance=balance)
                if bill.total > 0:
                    await insert_entry(
                        self._db,
                        conn,
                        driver_id,
                        -bill.total,
                        bill.currency,
                        WalletEntryKind.CHARGE,
                        f"bill:{bill_id}",
                    )
                    balance -= bill.total
            now = utcnow()
            values = dict(
                id=new_id(), bill_id=bill_id, driver_id=driver_id, amount=bill.total, currency=bill.currency,
                method=method.value, provider_reference=provider_reference, idempotency_key=idempotency_key,
                created_at=now,
            )  # fmt: skip
            row = (await conn.execute(payments.insert().values(**values).returning(*payments.c))).one()
            await conn.execute(
                bills.update().where(bills.c.id == bill_id).values(status=BillStatus.PAID.value, paid_at=now)
            )
            return PaymentResult(PaymentOutcome.PAID, await load_bill(conn, bill_id), _payment(row), balance)

    async def payment_for_bill(self, bill_id: str) -> PaymentRecord | None:
        async with self._db.read() as conn:
            return await _payment_where(conn, payments.c.bill_id == bill_id)
