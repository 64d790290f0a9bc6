"""What internal tooling does to money, each idempotent and each leaving an audit row.

Resolving a DISPUTED bill, or one held for review (billed past the session's cap), sets its total to
the chosen figure by one ADJUSTMENT line (never by editing a line), makes it UNPAID and clears the
review note. Refunding a settled bill payment, in part or whole, writes a
refund: SETTLED at once with a wallet credit for a wallet payment, PENDING for a provider payment
until the provider has been asked (as with payments). Refunds never exceed the payment.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.bills import line_values, load_bill
from gateway.store.database import Database
from gateway.store.idempotency import claim_key, find_key
from gateway.store.payments import payment_record
from gateway.store.records import (
    BillLineInput,
    BillRecord,
    BillStatus,
    KeyConflict,
    LineKind,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    RefundRecord,
    WalletEntryKind,
)
from gateway.store.tables import audit_log, bill_lines, bills, payments, refunds
from gateway.store.types import new_id, utcnow
from gateway.store.wallet import insert_entry, lock_driver

RESOLVE, REFUND = "resolveBill", "refundPayment"


def refund_record(row: Any) -> RefundRecord:
    m = row._mapping
    return RefundRecord(**{**m, "status": PaymentStatus(m["status"])})


async def audit(conn: AsyncConnection, actor: str, action: str, subject: str, note: str, **data: Any) -> None:
    payload = json.dumps({k: str(v) for k, v in data.items()}, sort_keys=True)
    await conn.execute(
        audit_log.insert().values(
            actor=actor, action=action, subject=subject, note=note, payload=payload, created_at=utcnow()
        )
    )


class Admin:
    """Dispute resolutions and refunds, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def resolve_bill(
        self, actor: str, key: str, request_hash: str, bill_id: str, total: Decimal, note: str
    ) -> BillRecord | KeyConflict | str | None:
        """Settle a dispute or a review at ``total``; None for no such bill, a reason when there is
        nothing to resolve."""
        async with self._db.write() as conn:
            bill = await load_bill(conn, bill_id, lock=True)  # first: a concurrent retry waits here
            earlier = await find_key(conn, actor, RESOLVE, key, request_hash)
            if isinstance(earlier, KeyConflict):
                return earlier
            if earlier is not None:
                return await load_bill(conn, earlier)
            if bill is None:
                return None
            held = bill.review is not None and bill.status in (BillStatus.UNPAID, BillStatus.OVERDUE)
            if bill.status is not BillStatus.DISPUTED and not held:
                return f"the bill is {bill.status.value}, neither DISPUTED nor held for review"
            delta = total - bill.total
            if delta:
                position = max((line.position for line in bill.lines), default=0) + 1
                line = BillLineInput(LineKind.ADJUSTMENT, delta, f"Resolved: {note}"[:200])
                await conn.execute(
                    bill_lines.insert().values(**line_values(bill_id, position, line, f"resolve:{key}"))
                )
            status = BillStatus.UNPAID if bill.status is BillStatus.DISPUTED else bill.status
            await conn.execute(
                bills.update()
                .where(bills.c.id == bill_id)
                .values(total=total, status=status.value, review=None)
            )
            await audit(conn, actor, RESOLVE, bill_id, note, before=bill.total, after=total)
            await claim_key(self._db, conn, actor, RESOLVE, key, request_hash, bill_id)
            return await load_bill(conn, bill_id)

    async def begin_refund(
        self, actor: str, key: str, request_hash: str, payment_id: str, amount: Decimal | None, note: str
    ) -> RefundRecord | KeyConflict | str | None:
        """Refund ``amount`` (None: what is left) of a settled bill payment; None for no such payment,
        a reason when it cannot be refunded. A wallet refund is SETTLED here, a provider one PENDING."""
        async with self._db.write() as conn:
            row = (await conn.execute(select(payments).where(payments.c.id == payment_id))).first()
            if row is not None:
                await lock_driver(conn, row.driver_id)  # first: a concurrent retry waits here
            earlier = await find_key(conn, actor, REFUND, key, request_hash)
            if isinstance(earlier, KeyConflict):
                return earlier
            if earlier is not None:
                found = (await conn.execute(select(refunds).where(refunds.c.id == earlier))).one()
                return refund_record(found)
            if row is None:
                return None
            payment = payment_record(row)
            if payment.status is not PaymentStatus.SETTLED or payment.purpose is not PaymentPurpose.BILL:
                return "only a settled bill payment can be refunded"
            given = (
                await conn.execute(
                    select(func.sum(refunds.c.amount)).where(
                        refunds.c.payment_id == payment_id, refunds.c.status != PaymentStatus.FAILED.value
                    )
                )
            ).scalar_one() or Decimal(0)
            amount = payment.amount - given if amount is None else amount
            if amount <= 0 or given + amount > payment.amount:
                return f"at most {payment.amount - given} of this payment is left to refund"
            wallet = payment.method is PaymentMethod.WALLET
            status = PaymentStatus.SETTLED if wallet else PaymentStatus.PENDING
            values = dict(
                id=new_id(), payment_id=payment_id, driver_id=payment.driver_id, amount=amount,
                currency=payment.currency, status=status.value, provider_reference=None, created_at=utcnow(),
            )  # fmt: skip
            refund = refund_record(
                (await conn.execute(refunds.insert().values(**values).returning(*refunds.c))).one()
            )
            if wallet:
                await insert_entry(
                    self._db, conn, payment.driver_id, amount, payment.currency, WalletEntryKind.REFUND,
                    f"refund:{refund.id}",
                )  # fmt: skip
            await audit(conn, actor, REFUND, payment_id, note, refund=refund.id, amount=amount)
            await claim_key(self._db, conn, actor, REFUND, key, request_hash, refund.id)
            return refund

    async def finish_refund(self, refund_id: str, provider_reference: str | None) -> RefundRecord:
        """The provider refunded (a reference) or refused (None) a PENDING refund."""
        status = PaymentStatus.SETTLED if provider_reference else PaymentStatus.FAILED
        async with self._db.write() as conn:
            await conn.execute(
                refunds.update()
                .where(refunds.c.id == refund_id, refunds.c.status == PaymentStatus.PENDING.value)
                .values(status=status.value, provider_reference=provider_reference)
            )
            return refund_record((await conn.execute(select(refunds).where(refunds.c.id == refund_id))).one())

    async def audit_trail(self, subject: str) -> list[dict[str, Any]]:
        query = select(audit_log).where(audit_log.c.subject == subject).order_by(audit_log.c.id)
        async with self._db.read() as conn:
            return [dict(row._mapping) for row in await conn.execute(query)]
