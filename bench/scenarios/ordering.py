"""Scenario 5: ordered search — a 5 km radius ordered by price and by estimated cost, tariffs warm.

Times what one ``stations(orderBy: PRICE | ESTIMATED_COST)`` request does before it builds its
page (:func:`resolvers.stations.search.ordered`, with a fresh request context each time): the radius search,
the matching connectors' tariffs from the caching wrapper (in-memory cache), and the ranking. The
operator is in-process and answers from a seeded pool of time-of-use tariffs, a fresh object per
connector as a parser would give; every tariff is fetched once before timing, so the figures
exclude the cold fetch.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections.abc import Mapping, Sequence
from datetime import time as clock
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from bench.procs import pin
from bench.scenarios.catalogue import BOX, RADIUS_KM, synthetic
from bench.stats import percentile
from gateway.catalogue import ranking
from gateway.catalogue.stations import Catalogue, freeze_heap
from gateway.observability.metrics import Metrics
from gateway.replicas.cache_backend import build_backend
from gateway.runtime import OperatorRecord, Runtime
from gateway.settings.load import CacheSettings, CatalogueSettings, Settings
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache import Cache
from gateway.upstream.caching import CachedOperator
from gateway.upstream.health import RecentCalls
from operators.base import OperatorInfo
from operators.domain import Capability, Tariff, TariffExtra, TariffPeriod
from resolvers.context import RequestContext
from resolvers.stations.search import ordered
from resolvers.stations.types import GeoPointInput

OP_ID = "MA1SYNTH0"
ENERGY_KWH = Decimal(30)
PAGE = 20
ORDERS = (ranking.StationOrder.PRICE, ranking.StationOrder.ESTIMATED_COST)


def tariff_pool(seed: int, size: int = 16) -> list[Tariff]:
    """Daily tariffs shaped like the T/CEC simulator's: valley, flat and peak bands, some with a fee."""
    rng = random.Random(f"bench-tariffs:{seed}")
    shapes = ((0, 8, 12, 17, 21, 23), (0, 7, 10, 15, 18, 22), (0, 8, 22))
    pool = []
    for i in range(size):
        hours = shapes[i % len(shapes)]
        periods = tuple(
            TariffPeriod(clock(h), Decimal(rng.randrange(2500, 12000, 50)).scaleb(-4),
                         Decimal(rng.randrange(4000, 9000, 50)).scaleb(-4))
            for h in hours
        )  # fmt: skip
        extras = (TariffExtra("FLAT", Decimal("1.00"), "session"),) if i % 4 == 0 else ()
        pool.append(Tariff("CNY", periods, extras=extras))
    return pool


class PooledTariffs:
    """An in-process operator that prices every connector from the pool (the only method used)."""

    def __init__(self, pool: list[Tariff]) -> None:
        self.info = OperatorInfo(OP_ID, "Synthetic", "tcec", frozenset({Capability.TARIFFS}))
        self._pool = pool

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, Tariff]:
        pool = self._pool
        out = {}
        for cid in connector_ids:
            t = pool[zlib.crc32(cid.encode()) % len(pool)]
            out[cid] = Tariff(t.currency, t.periods, t.timezone, t.extras)  # a parser's fresh object
        return out


def ordered_worker(spec: tuple[int | None, int, int, int], conn: Connection) -> None:
    core, n, queries, seed = spec
    pin(core)
    try:
        conn.send(asyncio.run(measure_ordered(n, queries, seed, freeze=True)))
    except Exception as exc:  # noqa: BLE001
        conn.send(exc)
    conn.poll(60)


async def measure_ordered(n: int, queries: int, seed: int, freeze: bool = False) -> dict[str, Any]:
    catalogue = Catalogue(CatalogueSettings(), Metrics())
    stations = synthetic(n, seed, OP_ID)
    catalogue.upsert(stations)
    cache = Cache(build_backend("memory"), Metrics())
    pooled = PooledTariffs(tariff_pool(seed))
    op = CachedOperator(
        pooled,  # type: ignore[arg-type]  # tariffs is all it needs
        cache,
        CacheSettings(),
        lambda sid: catalogue.connector_ids(OP_ID, sid),
    )
    ids = [c.id for s in stations for c in s.connectors]
    del stations
    for i in range(0, len(ids), 5000):  # the cold fetch, before any timing
        await op.tariffs(ids[i : i + 5000])
    del ids
    if freeze:  # as the gateway does after its first sync (only in the bench's own process)
        freeze_heap()
    rng = random.Random(f"bench-ordered:{seed}")
    points = [
        (BOX[0][0] + 0.1 + rng.random() * 1.8, BOX[1][0] + 0.1 + rng.random() * 2.1) for _ in range(queries)
    ]
    runtime = Runtime(Settings(), Metrics(), cache, catalogue, None)  # type: ignore[arg-type]  # no HTTP
    breaker = CircuitBreaker(OP_ID, failure_threshold=5, reset_after_s=30)  # never consulted here
    runtime.records[OP_ID] = OperatorRecord(pooled, op, breaker, RecentCalls(), None)  # type: ignore[arg-type]
    charge = ranking.Charge(ENERGY_KWH)
    out: dict[str, Any] = {"stations": n, "queries": queries, "radius_km": RADIUS_KM}
    for order in ORDERS:
        timings, hits, cpu_ns = [], 0, 0
        for i, (lat, lon) in enumerate([*points[:20], *points]):  # the first 20: warm-up
            t, c = time.perf_counter_ns(), time.process_time_ns()
            ctx = RequestContext.create(runtime, None)
            ranked, _ = await ordered(ctx, GeoPointInput(lat=lat, lon=lon), RADIUS_KM, order, charge)
            page = ranked[:PAGE]
            elapsed = (time.perf_counter_ns() - t) / 1e6
            if i >= 20:
                cpu_ns += time.process_time_ns() - c
                timings.append(elapsed)
                hits += len(ranked)
                assert len(page) == min(PAGE, len(ranked)) and not ctx.operator_errors
        out[order.value] = {
            "mean_hits": hits / queries,
            "p50_ms": percentile(timings, 50),
            "p99_ms": percentile(timings, 99),
            "cpu_ms": cpu_ns
            / queries
            / 1e6,  # this process's CPU per query: what load elsewhere cannot inflate
        }
    return out
