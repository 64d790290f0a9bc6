"""A :class:`~operators.base.SharedState` bound after the adapters are built: without Redis the
adapters share the ledger database, which opens only once the adapters exist (the session service
needs them). Nothing uses the state before the gateway serves, and by then it is bound."""

from __future__ import annotations

from operators.base import SharedState


class LateState:
    def __init__(self) -> None:
        self._target: SharedState | None = None

    def bind(self, target: SharedState) -> None:
        self._target = target

    def _bound(self) -> SharedState:
        if self._target is None:
            raise RuntimeError("operator state used before the ledger was opened")
        return self._target

    async def get(self, key: str) -> str | None:
        return await self._bound().get(key)

    async def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        await self._bound().put(key, value, ttl_s)

    async def add(self, key: str, value: str, ttl_s: float | None = None) -> bool:
        return await self._bound().add(key, value, ttl_s)

    async def delete(self, key: str) -> None:
        await self._bound().delete(key)
