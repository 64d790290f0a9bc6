"""DataLoader batch functions: one upstream call per operator per batch, operators concurrently.

A failing operator fails only its own keys (they come back empty) and is reported once in the
request context, which turns it into an ``OPERATOR_UNAVAILABLE`` error in the response.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from gateway.fanout import fan_out
from operators.domain import Capability, ConnectorState, Tariff

if TYPE_CHECKING:
    from resolvers.context import RequestContext


def _by_operator(keys: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for op_id, native_id in keys:
        if native_id not in grouped[op_id]:
            grouped[op_id].append(native_id)
    return grouped


async def _batch(
    ctx: RequestContext,
    keys: Sequence[tuple[str, str]],
    capability: Capability,
    method: Callable[[str, list[str]], Awaitable[Mapping[str, object]]],
) -> dict[str, Mapping[str, object]]:
    ops = ctx.runtime.operators
    grouped = {
        op_id: ids
        for op_id, ids in _by_operator(keys).items()
        if op_id in ops and capability in ops[op_id].info.capabilities
    }
    calls = {op_id: (lambda op_id=op_id, ids=ids: method(op_id, ids)) for op_id, ids in grouped.items()}
    values, errors = await fan_out(calls, ctx.deadline)
    ctx.report(errors)
    return values


async def load_statuses(
    ctx: RequestContext, keys: Sequence[tuple[str, str]]
) -> list[dict[str, ConnectorState]]:
    """Keys are ``(operator_id, station_id)``; each value maps connector id to state."""
    ops = ctx.runtime.operators
    values = await _batch(
        ctx, keys, Capability.LIVE_STATUS, lambda op_id, ids: ops[op_id].connector_statuses(ids)
    )
    return [values.get(op_id, {}) for op_id, _ in keys]  # type: ignore[misc]


async def load_tariffs(ctx: RequestContext, keys: Sequence[tuple[str, str]]) -> list[Tariff | None]:
    """Keys are ``(operator_id, connector_id)``."""
    ops = ctx.runtime.operators
    values = await _batch(ctx, keys, Capability.TARIFFS, lambda op_id, ids: ops[op_id].tariffs(ids))
    return [values.get(op_id, {}).get(cid) for op_id, cid in keys]  # type: ignore[misc]
