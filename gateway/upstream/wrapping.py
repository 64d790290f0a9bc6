"""Port wrappers: an operator that runs every upstream call of another through a policy.

A policy is ``around(method, call)``: it gets the method name and a zero-argument coroutine
factory, and returns the result (or raises). Metrics and the circuit breaker are policies; the
wrapped operator still satisfies the port, so wrappers stack and resolvers never know.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from operators.base import Operator, OperatorInfo, PushApp
from operators.domain import ConnectorState, SessionProgress, StationPage, Tariff


class Policy(Protocol):
    async def __call__(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any: ...


class WrappedOperator:
    def __init__(self, inner: Operator, around: Policy) -> None:
        self.inner = inner
        self._around = around

    @property
    def info(self) -> OperatorInfo:
        return self.inner.info

    async def list_stations(self, since: datetime | None, cursor: str | None) -> StationPage:
        return await self._around("list_stations", lambda: self.inner.list_stations(since, cursor))

    async def connector_statuses(self, station_ids: Sequence[str]) -> Mapping[str, ConnectorState]:
        return await self._around("connector_statuses", lambda: self.inner.connector_statuses(station_ids))

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, Tariff]:
        return await self._around("tariffs", lambda: self.inner.tariffs(connector_ids))

    async def start_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        return await self._around(
            "start_session", lambda: self.inner.start_session(session_ref, connector_id)
        )

    async def stop_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        return await self._around("stop_session", lambda: self.inner.stop_session(session_ref, connector_id))

    async def session_status(self, session_ref: str) -> SessionProgress:
        return await self._around("session_status", lambda: self.inner.session_status(session_ref))

    def push_app(self) -> PushApp | None:
        return self.inner.push_app()

    async def aclose(self) -> None:
        await self.inner.aclose()
