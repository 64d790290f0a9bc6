"""The operator adapters' shared state in the ledger (no Redis): values, expiry, and ``add`` letting
exactly one of many concurrent writers through, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from gateway.store import Store
from gateway.store.tables import operator_state
from operators.base import SharedState


async def test_values_expiry_and_an_atomic_add(store: Store) -> None:
    assert isinstance(store, SharedState)
    assert await store.get("ocpi:CNSHA:token_b") is None
    await store.put("ocpi:CNSHA:token_b", "b-1")
    await store.put("ocpi:CNSHA:token_b", "b-2")  # replaced
    assert await store.get("ocpi:CNSHA:token_b") == "b-2"
    wins = await asyncio.gather(*(store.add("tcec:seen:1", str(i), ttl_s=60) for i in range(8)))
    assert wins.count(True) == 1
    assert not await store.add("tcec:seen:1", "again", ttl_s=60)
    await store.put("tcec:seen:2", "x", ttl_s=-1)  # already expired: invisible, and taken over by add
    assert await store.get("tcec:seen:2") is None
    assert await store.add("tcec:seen:2", "y", ttl_s=60) and await store.get("tcec:seen:2") == "y"
    await store.delete("tcec:seen:2")
    assert await store.get("tcec:seen:2") is None


async def test_expired_keys_are_swept(store: Store) -> None:
    await store.put("tcec:seen:old", "x", ttl_s=-1)
    await store.put("ocpi:CNSHA:registration", "{}")  # no expiry: never swept
    store._swept_at = 0.0
    assert await store.add("tcec:seen:new", "y", ttl_s=60)
    async with store._db.read() as conn:
        keys = set((await conn.execute(select(operator_state.c.key))).scalars())
    assert keys == {"ocpi:CNSHA:registration", "tcec:seen:new"}
