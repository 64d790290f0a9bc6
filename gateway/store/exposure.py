"""Exposure: what a driver owes plus what their live sessions may still cost, checked and reserved
in one transaction.

:meth:`Exposure.open_session` locks the driver (a row lock on PostgreSQL; SQLite's ``BEGIN
IMMEDIATE`` serialises every writer), reads the :class:`Account` (wallet, unpaid bills, live
reservations and holds), asks the caller's pure ``grant`` function, and only then writes the
session, its reservation and its idempotency key, so concurrent starts can never promise more than
the limit or the wallet. A reservation is released when its session is billed or fails.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.database import Database
from gateway.store.idempotency import claim_key, find_key
from gateway.store.records import (
    OPEN_BILL_STATUSES,
    Account,
    BillStatus,
    Grant,
    KeyConflict,
    PaymentMode,
    ReservationRecord,
    SessionRecord,
)
from gateway.store.sessions import session_record
from gateway.store.tables import bills, reservations, sessions
from gateway.store.types import new_id, utcnow
from gateway.store.wallet import balance_in, ensure_driver_row, lock_driver
from operators.domain import SessionPhase

R = TypeVar("R")
START = "startCharging"


async def _sum(conn: AsyncConnection, column: Any, *where: Any) -> Decimal:
    total = (await conn.execute(select(func.sum(column)).where(*where))).scalar_one()
    return total if total is not None else Decimal(0)


async def reserved_in(conn: AsyncConnection, driver_id: str, mode: PaymentMode) -> Decimal:
    """The amounts of the driver's live reservations in ``mode``."""
    return await _sum(
        conn,
        reservations.c.amount,
        reservations.c.driver_id == driver_id,
        reservations.c.mode == mode.value,
        reservations.c.released_at.is_(None),
    )


async def account_in(conn: AsyncConnection, driver_id: str, currency: str) -> Account:
    open_statuses = [status.value for status in OPEN_BILL_STATUSES]
    outstanding = await _sum(
        conn, bills.c.total, bills.c.driver_id == driver_id, bills.c.status.in_(open_statuses),
        bills.c.currency == currency,
    )  # fmt: skip
    overdue = exists().where(bills.c.driver_id == driver_id, bills.c.status == BillStatus.OVERDUE.value)
    return Account(
        wallet_balance=await balance_in(conn, driver_id, currency),
        outstanding=outstanding,
        has_overdue=bool((await conn.execute(select(overdue))).scalar_one()),
        reserved=await reserved_in(conn, driver_id, PaymentMode.POSTPAID),
        held=await reserved_in(conn, driver_id, PaymentMode.PREPAID),
    )


async def release_in(conn: AsyncConnection, session_id: str) -> bool:
    statement = (
        reservations.update()
        .where(reservations.c.session_id == session_id, reservations.c.released_at.is_(None))
        .values(released_at=utcnow())
        .returning(reservations.c.id)
    )
    return (await conn.execute(statement)).first() is not None


def _reservation(row: Any) -> ReservationRecord:
    m = row._mapping
    return ReservationRecord(**{**m, "mode": PaymentMode(m["mode"])})


class Exposure:
    """Reservations, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def account(self, driver_id: str, currency: str) -> Account:
        async with self._db.read() as conn:
            return await account_in(conn, driver_id, currency)

    async def open_session(
        self,
        *,
        driver_id: str,
        idempotency_key: str,
        request_hash: str,
        currency: str,
        grant: Callable[[Account], Grant | R],
        max_cost: Decimal | None = None,
        **fields: Any,
    ) -> tuple[SessionRecord, bool] | KeyConflict | R:
        """The driver's session for this key, created STARTING with its reservation if ``grant``
        allows (``True`` if this call made it); a key reused with another request is a conflict;
        anything else ``grant`` returns (a refusal) comes back as is, with nothing written."""
        async with self._db.write() as conn:
            await ensure_driver_row(self._db, conn, driver_id, None)
            await lock_driver(conn, driver_id)
            earlier = await find_key(conn, driver_id, START, idempotency_key, request_hash)
            if isinstance(earlier, KeyConflict):
                return earlier
            query = select(sessions).where(
                sessions.c.driver_id == driver_id, sessions.c.idempotency_key == idempotency_key
            )
            row = (await conn.execute(query)).first()
            if row is not None:
                return session_record(row), False  # the same key never starts a second session
            decision = grant(await account_in(conn, driver_id, currency))
            if not isinstance(decision, Grant):
                return decision
            amount = decision.amount if max_cost is None else min(decision.amount, max_cost)
            now = utcnow()
            values = dict(
                id=fields.pop("session_id", None) or new_id(), driver_id=driver_id,
                idempotency_key=idempotency_key, payment_mode=decision.mode.value,
                status=SessionPhase.STARTING.value, currency=currency, energy_kwh=Decimal(0),
                cost=Decimal(0), max_cost=amount, created_at=now, updated_at=now, version=1, **fields,
            )  # fmt: skip
            row = (await conn.execute(sessions.insert().values(**values).returning(*sessions.c))).one()
            await conn.execute(
                reservations.insert().values(
                    session_id=values["id"],
                    driver_id=driver_id,
                    mode=decision.mode.value,
                    amount=amount,
                    currency=currency,
                    limit_amount=decision.limit,
                    created_at=now,
                )  # fmt: skip
            )
            await claim_key(self._db, conn, driver_id, START, idempotency_key, request_hash, values["id"])
            return session_record(row), True

    async def started(
        self, driver_id: str, key: str, request_hash: str
    ) -> SessionRecord | KeyConflict | None:
        """The session an earlier start with this key made (a conflict if its request differed)."""
        async with self._db.read() as conn:
            earlier = await find_key(conn, driver_id, START, key, request_hash)
            if isinstance(earlier, KeyConflict):
                return earlier
            query = select(sessions).where(
                sessions.c.driver_id == driver_id, sessions.c.idempotency_key == key
            )
            row = (await conn.execute(query)).first()
        return None if row is None else session_record(row)

    async def release_reservation(self, session_id: str) -> bool:
        """Release a session's reservation (it failed, or was billed); False if none was live."""
        async with self._db.write() as conn:
            return await release_in(conn, session_id)

    async def live_reservations(self, driver_id: str | None = None) -> list[ReservationRecord]:
        query = select(reservations).where(reservations.c.released_at.is_(None))
        if driver_id is not None:
            query = query.where(reservations.c.driver_id == driver_id)
        async with self._db.read() as conn:
            return [_reservation(row) for row in await conn.execute(query.order_by(reservations.c.id))]
