"""A session's event log: what happened to it and when, appended, never changed.

Payloads are JSON objects; Decimals are written as strings and datetimes as ISO-8601, so an amount
reads back exactly.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select

from gateway.store.database import Database
from gateway.store.records import SessionEventRecord
from gateway.store.tables import session_events
from gateway.store.types import utcnow


def _event(row: Row[Any]) -> SessionEventRecord:
    return SessionEventRecord(**row._mapping)


class SessionEvents:
    """The event log, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def add_session_event(
        self, session_id: str, kind: str, payload: Mapping[str, Any] | None = None
    ) -> SessionEventRecord:
        """Append to the session's event log; ``payload`` is stored as JSON (Decimals as strings)."""
        values = dict(
            session_id=session_id,
            kind=kind,
            payload=json.dumps(dict(payload or {}), default=_json_default, sort_keys=True),
            created_at=utcnow(),
        )
        async with self._db.write() as conn:
            row = (
                await conn.execute(session_events.insert().values(**values).returning(*session_events.c))
            ).one()
        return _event(row)

    async def session_events(self, session_id: str) -> list[SessionEventRecord]:
        query = (
            select(session_events)
            .where(session_events.c.session_id == session_id)
            .order_by(session_events.c.id)
        )
        async with self._db.read() as conn:
            return [_event(row) for row in await conn.execute(query)]


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
