"""The replicas' shared adapter state in real Redis: one replica's write is the other's read, and
``add`` lets exactly one of many concurrent writers through (what the T/CEC replay cache needs)."""

from __future__ import annotations

import asyncio

from gateway.replicas import redis as redis_conn
from gateway.replicas.state import RedisState
from gateway.settings.load import CacheSettings
from operators.base import SharedState
from operators.state import MemoryState
from tests.gateway.redis.conftest import Clients


async def test_replicas_share_keys_and_add_is_atomic(
    new_client: Clients, redis_settings: CacheSettings
) -> None:
    prefix = redis_conn.key(redis_settings, "operators")
    one, two = RedisState(new_client(), prefix), RedisState(new_client(), prefix)
    assert isinstance(one, SharedState) and isinstance(MemoryState(), SharedState)
    await one.put("k", "v")
    assert await two.get("k") == "v"
    wins = await asyncio.gather(*(state.add("seen", "1", ttl_s=30) for state in (one, two) * 10))
    assert wins.count(True) == 1
    await two.delete("seen")
    assert await one.add("seen", "1", ttl_s=30)
    await one.put("short", "x", ttl_s=0.05)
    deadline = asyncio.get_running_loop().time() + 5
    while await two.get("short") is not None:
        assert asyncio.get_running_loop().time() < deadline, "the key never expired"
        await asyncio.sleep(0.02)
