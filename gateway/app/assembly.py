"""Assembly of the runtime: built once in the Starlette lifespan, torn down with it.

The operators from the registry, the money side (:mod:`gateway.app.money`), identity, the replicas'
shared parts, and the background tasks: catalogue sync, the push fan-in, and session reconciliation
while this replica holds the sessions lease.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp

from gateway.app.late_state import LateState
from gateway.app.money import session_service
from gateway.billing.quoting import Quoting
from gateway.catalogue.qrcodes import QrPatterns
from gateway.catalogue.stations import Catalogue
from gateway.identity import build_identity
from gateway.observability.metrics import Metrics
from gateway.rails.card import DemoCard
from gateway.replicas import shared as replication
from gateway.replicas.cache_backend import build_backend
from gateway.replicas.lease import while_held
from gateway.runtime import Runtime
from gateway.settings.load import Settings
from gateway.upstream.cache import Cache
from operators import registry


@contextlib.asynccontextmanager
async def running(settings: Settings, shared: replication.Replicas | None = None) -> AsyncIterator[Runtime]:
    """Build the runtime, start catalogue sync in the background, and tear everything down.

    ``shared`` is what the replicas share (built from ``settings`` and closed here if not given)."""
    own = shared is None
    shared = shared or replication.build(settings)
    metrics = Metrics()
    cache = Cache(build_backend(settings.cache.backend, settings.cache), metrics)
    # The adapters set their own per-call timeouts; this is only a ceiling for anything that forgets.
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), raise_for_status=False)
    qr_patterns = QrPatterns.from_operators(settings.operators)
    runtime = Runtime(settings, metrics, cache, Catalogue(settings.catalogue, metrics, qr_patterns), http)
    runtime.fanin = shared.fanin
    leased = replication.lease_gauge(metrics).labels(replication.SESSIONS_LEASE)
    if settings.gateway.mode in ("demo", "dev"):
        runtime.card = DemoCard()
    tasks: list[asyncio.Task[None]] = []
    state = shared.state or LateState()  # without Redis, the ledger's (bound once it is open)
    try:
        for adapter in registry.build_all(
            settings.operators, http, runtime.on_event, settings.public_url, state
        ):
            runtime.add(adapter)
        async with session_service(
            settings, http, cache, runtime.catalogue, dict(runtime.operators), runtime.card
        ) as sessions:
            if isinstance(state, LateState):
                state.bind(sessions.store)
            runtime.sessions = sessions
            runtime.quoting = Quoting(sessions.store, runtime.catalogue, dict(runtime.operators))
            runtime.authenticator, runtime.sign_ins = await build_identity(settings, http, sessions.store)
            sessions.broker.relay = shared.fanin.publish
            tasks.append(asyncio.create_task(runtime.catalogue.run(runtime.operators), name="catalogue-sync"))
            tasks.append(asyncio.create_task(shared.fanin.run(runtime.apply_shared), name="fan-in"))
            reconcile = while_held(shared.sessions_lease, sessions.run, on_change=leased.set)
            tasks.append(asyncio.create_task(reconcile, name="sessions"))
            try:
                yield runtime
            finally:
                await _cancel(tasks)
    finally:
        for record in runtime.records.values():
            await record.adapter.aclose()
        await http.close()
        await cache.close()
        if own:
            await shared.aclose()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
