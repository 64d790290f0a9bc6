"""The per-request context: runtime handle, deadline, operator batch loaders, collected operator errors."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from gateway.identity.bearer import AuthError
from gateway.runtime import Runtime
from gateway.upstream.fanout import fan_out
from operators.base import OperatorError
from operators.domain import Capability, ConnectorState, Tariff
from resolvers.execution import loaders


@dataclass
class RequestContext:
    runtime: Runtime
    request: Any
    deadline: float  # event-loop time by which every upstream call must have answered
    now: datetime
    operator_errors: dict[str, OperatorError] = field(default_factory=dict)
    connection_params: Any = None  # graphql-transport-ws connection_init payload (subscriptions)
    statuses: loaders.BatchLoader[tuple[str, str], Mapping[str, ConnectorState]] = field(init=False)
    tariffs: loaders.BatchLoader[tuple[str, str], Tariff | None] = field(init=False)
    # Federation's _entities: one loader per entity type (and selection), made on first use.
    entity_loaders: dict[Any, loaders.BatchLoader[str, Any]] = field(default_factory=dict)
    # The bearer token's outcome, set by authenticate() before each operation: a driver id, None
    # (anonymous) or the AuthError to raise when a resolver asks for the driver.
    _auth: str | AuthError | None = field(default=None, init=False)
    _authenticated: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        # The loaders reach back through a weak proxy: no reference cycle, so a finished request's
        # context (and all it loaded) is freed at once instead of waiting for the cycle collector.
        me = weakref.proxy(self)
        self.statuses = loaders.BatchLoader(partial(load_statuses, me))
        self.tariffs = loaders.BatchLoader(partial(load_tariffs, me))

    @classmethod
    def create(cls, runtime: Runtime, request: Any) -> RequestContext:
        deadline = asyncio.get_running_loop().time() + runtime.settings.gateway.request_deadline_s
        return cls(runtime, request, deadline, datetime.now(UTC))

    def renew_deadline(self) -> None:
        """A fresh request deadline, for long-lived contexts (a subscription's updates)."""
        self.deadline = asyncio.get_running_loop().time() + self.runtime.settings.gateway.request_deadline_s

    def _authorization(self) -> str | None:
        params = self.connection_params
        if isinstance(params, dict):
            value = params.get("Authorization") or params.get("authorization")
            if isinstance(value, str):
                return value
        headers = getattr(self.request, "headers", None)
        return headers.get("authorization") if headers is not None else None

    @property
    def has_driver_credentials(self) -> bool:
        value = self._authorization()
        return bool(value and value.strip().lower().startswith("bearer "))

    async def authenticate(self) -> None:
        """Verify the bearer token (which may read the identity provider's keys) before an operation;
        a bad token fails only the fields that need the driver."""
        try:
            self._auth = await self.runtime.authenticator.driver(self._authorization())
        except AuthError as exc:
            self._auth = exc
        self._authenticated = True

    def driver_id(self) -> str | None:
        """The driver the bearer token names; None when anonymous. Raises ``AuthError`` for a token
        that is present but not valid (expired, forged, revoked, from an unknown issuer)."""
        if not self._authenticated:
            raise RuntimeError("driver_id() before authenticate(): the schema runs without GatewayPhases")
        if isinstance(self._auth, AuthError):
            raise self._auth
        return self._auth

    def report(self, errors: dict[str, OperatorError]) -> None:
        for op_id, error in errors.items():
            self.operator_errors.setdefault(op_id, error)


V = TypeVar("V")


async def _batch(
    ctx: RequestContext,
    keys: Sequence[tuple[str, str]],
    capability: Capability,
    method: Callable[[str, list[str]], Awaitable[Mapping[str, V]]],
) -> dict[str, Mapping[str, V]]:
    ops = ctx.runtime.operators
    grouped = {
        op_id: ids
        for op_id, ids in loaders.by_operator(keys).items()
        if op_id in ops and capability in ops[op_id].info.capabilities
    }
    calls = {op_id: (lambda op_id=op_id, ids=ids: method(op_id, ids)) for op_id, ids in grouped.items()}
    values, errors = await fan_out(calls, ctx.deadline)
    ctx.report(errors)
    return values


async def load_statuses(
    ctx: RequestContext, keys: Sequence[tuple[str, str]]
) -> list[Mapping[str, ConnectorState]]:
    """Keys are ``(operator_id, station_id)``; each value maps connector id to state."""
    ops = ctx.runtime.operators
    values = await _batch(
        ctx, keys, Capability.LIVE_STATUS, lambda op_id, ids: ops[op_id].connector_statuses(ids)
    )
    return [values.get(op_id, {}) for op_id, _ in keys]


async def load_tariffs(ctx: RequestContext, keys: Sequence[tuple[str, str]]) -> list[Tariff | None]:
    """Keys are ``(operator_id, connector_id)``."""
    ops = ctx.runtime.operators
    values = await _batch(ctx, keys, Capability.TARIFFS, lambda op_id, ids: ops[op_id].tariffs(ids))
    empty: Mapping[str, Tariff] = {}
    return [values.get(op_id, empty).get(cid) for op_id, cid in keys]
