"""The operator adapters' :class:`~operators.base.SharedState` in the ledger database, for
deployments without Redis: OCPI registrations and pushed objects, the T/CEC replay cache survive a
restart and are shared by replicas on one PostgreSQL. Expired keys are ignored when read, replaced
when written, and deleted by ``add`` at most once a minute (the replay cache adds one per push)."""

from __future__ import annotations

import time

from sqlalchemy import ColumnElement, delete, or_, select

from gateway.store.database import Database
from gateway.store.tables import operator_state as t


class OperatorState:
    """Mixed into :class:`~gateway.store.Store`; every method is one transaction."""

    _db: Database
    _swept_at = 0.0  # when this process last deleted expired keys
    SWEEP_EVERY_S = 60.0

    async def get(self, key: str) -> str | None:
        async with self._db.read() as conn:
            row = await conn.execute(select(t.c.value).where(t.c.key == key, _alive(time.time())))
            return row.scalar_one_or_none()

    async def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        expires = None if ttl_s is None else time.time() + ttl_s
        upsert = self._db.upsert(t).values(key=key, value=value, expires_at=expires)
        async with self._db.write() as conn:
            await conn.execute(upsert.on_conflict_do_update(index_elements=[t.c.key], set_=upsert.excluded))

    async def add(self, key: str, value: str, ttl_s: float | None = None) -> bool:
        now = time.time()
        upsert = self._db.upsert(t).values(
            key=key, value=value, expires_at=None if ttl_s is None else now + ttl_s
        )
        # Insert, or take over a key whose time is up; a live key is left alone (rowcount 0).
        statement = upsert.on_conflict_do_update(
            index_elements=[t.c.key], set_=upsert.excluded, where=~_alive(now)
        )
        async with self._db.write() as conn:
            if now - self._swept_at > self.SWEEP_EVERY_S:
                self._swept_at = now
                await conn.execute(delete(t).where(t.c.expires_at <= now))
            return (await conn.execute(statement)).rowcount == 1

    async def delete(self, key: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(delete(t).where(t.c.key == key))


def _alive(now: float) -> ColumnElement[bool]:
    return or_(t.c.expires_at.is_(None), t.c.expires_at > now)
