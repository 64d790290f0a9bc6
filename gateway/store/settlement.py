"""Settlement: a final order becomes the session's bill, its reservation is released, and a prepaid
bill is paid from the wallet, all in one transaction.

A bill past the session's cap is booked UNPAID with a ``review`` note and never taken from the
wallet: the driver was promised the cap, so the excess needs a person, not an automatic debit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.store.bills import insert_bill
from gateway.store.database import Database
from gateway.store.exposure import release_in
from gateway.store.payments import pay_from_wallet
from gateway.store.records import (
    BillLineInput,
    BillRecord,
    BillStatus,
    PaymentResult,
    SessionEndReason,
    SessionRecord,
)
from gateway.store.sessions import merge_progress
from gateway.store.wallet import lock_driver
from operators.domain import OrderLine, SessionPhase


@dataclass(frozen=True, slots=True)
class Booking:
    """What settling a final order did: the bill, whether this call made it, any wallet payment."""

    bill: BillRecord
    created: bool
    payment: PaymentResult | None = None
    session: SessionRecord | None = None  # closed with the billed figures, when asked to


@dataclass(frozen=True, slots=True)
class SessionClose:
    """The final figures a session takes with its bill, in the same transaction (its cost is the
    bill's total), so nobody ever reads a billed session that still shows its last progress report."""

    energy_kwh: Decimal
    started_at: datetime
    ended_at: datetime
    end_reason: SessionEndReason
    failure: str | None = None


class Settlement:
    """Booking bills, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def book_bill(
        self,
        session_id: str,
        driver_id: str,
        currency: str,
        lines: Sequence[BillLineInput | OrderLine],
        operator_total: Decimal,
        recomputed_total: Decimal | None,
        status: BillStatus,
        due_at: datetime,
        *,
        review: str | None = None,
        from_wallet: bool = False,
        close: SessionClose | None = None,
    ) -> Booking:
        """Bill the session once (a redelivery returns the first bill), release its reservation,
        with ``from_wallet`` (prepaid) pay an UNPAID bill without a ``review`` note from the wallet,
        and with ``close`` mark the session COMPLETED with its billed figures."""
        async with self._db.write() as conn:
            await lock_driver(conn, driver_id)
            bill, created = await insert_bill(
                self._db, conn, session_id, driver_id, currency, lines, operator_total, recomputed_total,
                status, due_at, review,
            )  # fmt: skip
            await release_in(conn, session_id)
            payment = None
            if created and from_wallet and bill.status is BillStatus.UNPAID and bill.review is None:
                payment = await pay_from_wallet(self._db, conn, bill)
                bill = payment.bill or bill
            session = None
            if close is not None:
                session = await merge_progress(
                    conn, session_id, status=SessionPhase.COMPLETED, energy_kwh=close.energy_kwh,
                    cost=bill.total, started_at=close.started_at, ended_at=close.ended_at,
                    end_reason=close.end_reason, failure=close.failure, final=True,
                )  # fmt: skip
            return Booking(bill, created, payment, session)
