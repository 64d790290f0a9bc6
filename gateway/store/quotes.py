"""Binding price quotes in the ledger: issued to a driver, used by at most one session.

Kept in the ledger (not in a cache) so a quote survives restarts and every replica honours it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, or_, select, update

from gateway.store.database import Database
from gateway.store.tables import quotes


@dataclass(frozen=True, slots=True)
class QuoteRecord:
    id: str
    driver_id: str
    operator_id: str
    connector_id: str
    currency: str
    energy_kwh: Decimal
    power_kw: float
    total: Decimal
    tariff_json: str  # see gateway.store.codec
    priced_at: datetime
    valid_until: datetime
    session_id: str | None  # the session that used it


def _record(row: Row[Any]) -> QuoteRecord:
    return QuoteRecord(**row._mapping)


class Quotes:
    """Quotes, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def add_quote(self, quote: QuoteRecord) -> None:
        async with self._db.write() as conn:
            await conn.execute(quotes.insert().values(**{f: getattr(quote, f) for f in quote.__slots__}))

    async def get_quote(self, quote_id: str) -> QuoteRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(quotes).where(quotes.c.id == quote_id))).first()
        return _record(row) if row else None

    async def claim_quote(self, quote_id: str, session_id: str) -> bool:
        """Bind the quote to ``session_id``; False if another session has it already."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(quotes)
                .where(quotes.c.id == quote_id)
                .where(or_(quotes.c.session_id.is_(None), quotes.c.session_id == session_id))
                .values(session_id=session_id)
            )
        return bool(result.rowcount)

    async def quote_for_session(self, session_id: str) -> QuoteRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(quotes).where(quotes.c.session_id == session_id))).first()
        return _record(row) if row else None
