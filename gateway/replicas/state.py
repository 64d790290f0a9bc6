"""The replicas' :class:`~operators.base.SharedState` in Redis: plain string keys under one prefix."""

from __future__ import annotations

import redis.asyncio as aioredis


class RedisState:
    """``SET`` / ``SET NX`` with ``PX`` expiry, so ``add`` is atomic across replicas."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._key(key))
        return value.decode("utf-8") if isinstance(value, bytes) else value

    async def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        await self._redis.set(self._key(key), value.encode("utf-8"), px=_ms(ttl_s))

    async def add(self, key: str, value: str, ttl_s: float | None = None) -> bool:
        return bool(await self._redis.set(self._key(key), value.encode("utf-8"), px=_ms(ttl_s), nx=True))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._key(key))


def _ms(ttl_s: float | None) -> int | None:
    return None if ttl_s is None else max(1, int(ttl_s * 1000))
