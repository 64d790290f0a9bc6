"""The runtime: everything shared, built once in the Starlette lifespan and injected downwards.

Each operator is wrapped cache ▸ circuit breaker ▸ metrics ▸ adapter; the resolvers only see
:attr:`Runtime.operators` (port-shaped) and the catalogue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

from gateway.breaker import CircuitBreaker
from gateway.cache import Cache, build_backend
from gateway.cached import CachedOperator
from gateway.catalogue import Catalogue
from gateway.config import Settings
from gateway.instrumented import UpstreamMetrics
from gateway.metrics import Metrics
from gateway.wrapping import WrappedOperator
from operators import registry
from operators.base import Operator, OperatorInfo
from operators.domain import ConnectorState, OperatorEvent, Station

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    cache: Cache
    catalogue: Catalogue
    http: aiohttp.ClientSession
    operators: dict[str, CachedOperator] = field(default_factory=dict)
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)

    def add(self, adapter: Operator) -> None:
        op_id = adapter.info.id
        breaker = CircuitBreaker(
            op_id,
            failure_threshold=self.settings.breaker.failure_threshold,
            reset_after_s=self.settings.breaker.reset_after_s,
            metrics=self.metrics,
        )
        measured = WrappedOperator(adapter, UpstreamMetrics(op_id, self.metrics))
        self.breakers[op_id] = breaker
        self.operators[op_id] = CachedOperator(
            WrappedOperator(measured, breaker),
            self.cache,
            self.settings.cache,
            lambda station_id: self.catalogue.connector_ids(op_id, station_id),
        )

    def operator_info(self) -> list[OperatorInfo]:
        return [op.info for op in self.operators.values()]

    async def on_event(self, operator_id: str, event: OperatorEvent) -> None:
        """The event sink every adapter pushes into."""
        op = self.operators.get(operator_id)
        if op is None:
            log.warning("push for unknown operator %s dropped", operator_id)
            return
        if isinstance(event, ConnectorState):
            await op.record_push(event)
            self.metrics.pushes.labels(operator_id, "status").inc()
        elif isinstance(event, Station):
            self.catalogue.upsert([event])
            self.metrics.pushes.labels(operator_id, "station").inc()
        else:
            # Sessions and final orders are applied by the billing ledger, which is not built yet.
            log.info("push %s from %s not applied: no session ledger", type(event).__name__, operator_id)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Runtime]:
    """Build the runtime, start catalogue sync in the background, and tear everything down."""
    metrics = Metrics()
    cache = Cache(build_backend(settings.cache.backend), metrics)
    # The adapters set their own per-call timeouts; this is only a ceiling for anything that forgets.
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), raise_for_status=False)
    runtime = Runtime(settings, metrics, cache, Catalogue(settings.catalogue, metrics), http)
    sync_task: asyncio.Task[None] | None = None
    try:
        for adapter in registry.build_all(settings.operators, http, runtime.on_event, settings.public_url):
            runtime.add(adapter)
        sync_task = asyncio.create_task(runtime.catalogue.run(runtime.operators), name="catalogue-sync")
        yield runtime
    finally:
        if sync_task is not None:
            sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sync_task
        for op in runtime.operators.values():
            await op.aclose()
        await http.close()
        await cache.close()
