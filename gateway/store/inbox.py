"""The inbox: every inbound notification stored raw, before it is acknowledged or applied.

A push route verifies the sender, calls :meth:`Inbox.record_inbound`, and only then answers the
operator; applying the notification follows, then :meth:`Inbox.mark_applied`. The operator's
redelivery of the same notification (same ``dedupe_key``) is stored once. After a crash between
storing and applying, :meth:`Inbox.unapplied` lists what still has to be applied.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.database import Database
from gateway.store.records import InboxRecord
from gateway.store.tables import inbox
from gateway.store.types import utcnow


def _inbox(row: Row[Any]) -> InboxRecord:
    return InboxRecord(**row._mapping)


async def _find(conn: AsyncConnection, operator_id: str, kind: str, dedupe_key: str) -> InboxRecord:
    query = select(inbox).where(
        inbox.c.operator_id == operator_id, inbox.c.kind == kind, inbox.c.dedupe_key == dedupe_key
    )
    return _inbox((await conn.execute(query)).one())


class Inbox:
    """Raw inbound notifications, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def record_inbound(
        self, operator_id: str, kind: str, dedupe_key: str, raw: str | bytes
    ) -> tuple[InboxRecord, bool]:
        """Store a notification once; ``True`` if it is new.

        A stored one is returned with ``False``; if its ``applied_at`` is still None, an earlier
        attempt stored it but never finished applying it, so the caller should apply it now.
        """
        text = raw.decode() if isinstance(raw, bytes) else raw
        values = dict(
            operator_id=operator_id, kind=kind, dedupe_key=dedupe_key, raw=text, received_at=utcnow()
        )
        async with self._db.write() as conn:
            statement = self._db.insert_ignore(inbox).values(**values).returning(*inbox.c)
            row = (await conn.execute(statement)).first()
            if row is not None:
                return _inbox(row), True
            return await _find(conn, operator_id, kind, dedupe_key), False

    async def mark_applied(self, inbox_id: int) -> bool:
        """Record that the notification took effect; False if it already had (or does not exist)."""
        statement = (
            inbox.update()
            .where(inbox.c.id == inbox_id, inbox.c.applied_at.is_(None))
            .values(applied_at=utcnow())
            .returning(inbox.c.id)
        )
        async with self._db.write() as conn:
            return (await conn.execute(statement)).first() is not None

    async def unapplied(self, limit: int = 500) -> list[InboxRecord]:
        """Notifications stored but not yet applied, in arrival order."""
        query = select(inbox).where(inbox.c.applied_at.is_(None)).order_by(inbox.c.id).limit(limit)
        async with self._db.read() as conn:
            return [_inbox(row) for row in await conn.execute(query)]
