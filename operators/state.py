"""The in-process :class:`~operators.base.SharedState`: one replica, or an adapter built without one."""

from __future__ import annotations

import time
from collections.abc import Callable


class MemoryState:
    """A dict with per-key expiry on a monotonic clock; expired keys are dropped as they are met."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[str, float | None]] = {}

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        value, expiry = item
        if expiry is not None and expiry <= self._clock():
            del self._items[key]
            return None
        return value

    async def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        self._items[key] = (value, None if ttl_s is None else self._clock() + ttl_s)

    async def add(self, key: str, value: str, ttl_s: float | None = None) -> bool:
        if await self.get(key) is not None:
            return False
        await self.put(key, value, ttl_s)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)
