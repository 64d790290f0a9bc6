"""Drivers and their wallets: a balance is the sum of immutable entries, never a stored number.

Every entry carries a reference unique per kind (a top-up's provider id, ``bill:<id>`` for a charge),
so recording the same money movement twice is a no-op. Writers that depend on the balance lock the
driver's row first, which serialises them per driver on PostgreSQL (SQLite serialises all writers).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.database import Database
from gateway.store.records import DriverRecord, WalletEntryKind, WalletEntryRecord
from gateway.store.tables import drivers, wallet_entries
from gateway.store.types import utcnow

_SIGN = {
    WalletEntryKind.TOPUP: 1,
    WalletEntryKind.REFUND: 1,
    WalletEntryKind.CHARGE: -1,
    WalletEntryKind.ADJUSTMENT: 0,  # either sign
}


async def ensure_driver_row(db: Database, conn: AsyncConnection, driver_id: str, name: str | None) -> None:
    await conn.execute(db.insert_ignore(drivers).values(id=driver_id, name=name, created_at=utcnow()))


async def lock_driver(conn: AsyncConnection, driver_id: str) -> bool:
    """Take the driver's row lock for the rest of the transaction; False if there is no such driver."""
    query = select(drivers.c.id).where(drivers.c.id == driver_id).with_for_update()
    return (await conn.execute(query)).first() is not None


async def balance_in(conn: AsyncConnection, driver_id: str, currency: str) -> Decimal:
    query = select(func.sum(wallet_entries.c.amount)).where(
        wallet_entries.c.driver_id == driver_id, wallet_entries.c.currency == currency
    )
    total = (await conn.execute(query)).scalar_one()
    return total if total is not None else Decimal("0.0000")


async def insert_entry(
    db: Database,
    conn: AsyncConnection,
    driver_id: str,
    amount: Decimal,
    currency: str,
    kind: WalletEntryKind,
    reference: str,
) -> bool:
    sign = _SIGN[kind]
    if amount == 0 or (sign and (amount > 0) != (sign > 0)):
        raise ValueError(f"a {kind.value} entry of {amount} has the wrong sign")
    values = dict(
        driver_id=driver_id,
        amount=amount,
        currency=currency,
        kind=kind.value,
        reference=reference,
        created_at=utcnow(),
    )
    statement = db.insert_ignore(wallet_entries).values(**values).returning(wallet_entries.c.id)
    return (await conn.execute(statement)).first() is not None


def _entry(row: Row[Any]) -> WalletEntryRecord:
    m = row._mapping
    return WalletEntryRecord(**{**m, "kind": WalletEntryKind(m["kind"])})


class Wallets:
    """Drivers and wallet entries, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def ensure_driver(self, driver_id: str, name: str | None = None) -> DriverRecord:
        """The driver, created on first sight; an existing driver's name is left as it is."""
        async with self._db.write() as conn:
            await ensure_driver_row(self._db, conn, driver_id, name)
            row = (await conn.execute(select(drivers).where(drivers.c.id == driver_id))).one()
        return DriverRecord(**row._mapping)

    async def get_driver(self, driver_id: str) -> DriverRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(drivers).where(drivers.c.id == driver_id))).first()
        return None if row is None else DriverRecord(**row._mapping)

    async def wallet_balance(self, driver_id: str, currency: str) -> Decimal:
        async with self._db.read() as conn:
            return await balance_in(conn, driver_id, currency)

    async def add_wallet_entry(
        self,
        driver_id: str,
        amount: Decimal,
        kind: WalletEntryKind,
        reference: str,
        *,
        currency: str = "CNY",
    ) -> bool:
        """Record a money movement; False if ``(kind, reference)`` was recorded before (a retry).

        Creates the driver if needed. The sign must suit the kind: TOPUP and REFUND credit (> 0),
        CHARGE debits (< 0), ADJUSTMENT either. No balance check here; :meth:`pay_bill` does that.
        """
        async with self._db.write() as conn:
            await ensure_driver_row(self._db, conn, driver_id, None)
            await lock_driver(conn, driver_id)
            return await insert_entry(self._db, conn, driver_id, amount, currency, kind, reference)

    async def wallet_entries(self, driver_id: str, limit: int = 100) -> list[WalletEntryRecord]:
        """The driver's latest entries, newest first."""
        query = (
            select(wallet_entries)
            .where(wallet_entries.c.driver_id == driver_id)
            .order_by(wallet_entries.c.id.desc())
            .limit(limit)
        )
        async with self._db.read() as conn:
            return [_entry(row) for row in await conn.execute(query)]
