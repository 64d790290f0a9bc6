"""Scenario 4: catalogue scale — radius search over synthetic catalogues, and a 100k T/CEC sync.

A radius search is what ``stations`` ordered by distance does with the catalogue: every station
within the radius found and ordered nearest first (:meth:`gateway.catalogue.stations.Catalogue.nearest`),
then the page built — 20 stations within 5 km, 50 within 50 km.

Each measurement runs in a fresh process pinned to the server core, so its memory figure (RSS
growth while the catalogue is built, divided by connectors) is not polluted by anything else.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

from bench.procs import pin, rss_bytes
from bench.stack import operator_config
from bench.stats import percentile
from gateway.catalogue.stations import Catalogue, freeze_heap
from gateway.observability.metrics import Metrics
from gateway.settings.load import CatalogueSettings
from operators import domain, registry

# The Yangtze delta: Hangzhou to Shanghai, about 220 km by 230 km.
BOX = ((29.8, 31.8), (119.6, 121.9))
RADIUS_KM = 5.0
CENTRE = ((BOX[0][0] + BOX[0][1]) / 2, (BOX[1][0] + BOX[1][1]) / 2)
# The station searches of the bench: 20 within 5 km, 50 within 50 km (radius, page size).
RADII_KM = ((RADIUS_KM, 20), (50.0, 50))
KINDS = (
    (domain.ConnectorType.GBT_AC, domain.PowerType.AC, 7.0),
    (domain.ConnectorType.GBT_DC, domain.PowerType.DC, 60.0),
    (domain.ConnectorType.GBT_DC, domain.PowerType.DC, 120.0),
)


def synthetic(n: int, seed: int, op_id: str = "MA1SYNTH0") -> list[domain.Station]:
    """``n`` stations shaped like the T/CEC adapter's output (1–6 connectors, QR codes)."""
    rng = random.Random(f"bench-catalogue:{seed}")
    rand = rng.random
    updated = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        sid = f"{op_id}S{i:07d}"
        connectors = []
        for g in range(1 + int(rand() * 6)):
            kind, power, kw = KINDS[int(rand() * 3)]
            cid = f"{i:018d}{g:02d}"
            connectors.append(
                domain.Connector(
                    cid, sid, kind, power, kw, qr_code=f"hlht://{cid}.{op_id}/", name=f"{g + 1}号枪"
                )
            )
        lat = BOX[0][0] + rand() * (BOX[0][1] - BOX[0][0])
        lon = BOX[1][0] + rand() * (BOX[1][1] - BOX[1][0])
        out.append(
            domain.Station(
                op_id,
                sid,
                f"西湖区文化中心{i}号充电站",
                domain.GeoPoint(round(lat, 6), round(lon, 6)),
                f"杭州市西湖区文三路{i % 999 + 1}号",
                tuple(connectors),
                updated_at=updated,
            )
        )
    return out


def radius_worker(spec: tuple[int | None, int, int, int], conn: Connection) -> None:
    core, n, queries, seed = spec
    pin(core)
    try:
        conn.send(measure_radius(n, queries, seed, freeze=True))
    except Exception as exc:  # noqa: BLE001
        conn.send(exc)
    conn.poll(60)


def measure_radius(n: int, queries: int, seed: int, freeze: bool = False) -> dict[str, Any]:
    gc.collect()
    before = rss_bytes()
    catalogue = Catalogue(CatalogueSettings(), Metrics())
    t0 = time.perf_counter()
    stations = synthetic(n, seed)
    catalogue.upsert(stations)
    catalogue.nearest(*CENTRE, RADIUS_KM)  # the first search indexes what the upserts left waiting
    build_s = time.perf_counter() - t0
    connectors = sum(len(s.connectors) for s in stations)
    del stations
    gc.collect()
    grown = rss_bytes() - before
    if freeze:  # as the gateway does after its first sync (only in the bench's own process)
        freeze_heap()
    rng = random.Random(f"bench-radius:{seed}")
    points = [
        (BOX[0][0] + 0.1 + rng.random() * 1.8, BOX[1][0] + 0.1 + rng.random() * 2.1) for _ in range(queries)
    ]
    out: dict[str, Any] = {
        "stations": n,
        "connectors": connectors,
        "build_s": build_s,
        "queries": queries,
        "bytes_per_connector": grown / connectors,
    }
    for radius_km, page in RADII_KM:
        for lat, lon in points[:20]:  # warm-up (the first query packs the index)
            catalogue.nearest(lat, lon, radius_km)[:page]
        timings = []
        hits = 0
        for lat, lon in points:
            t = time.perf_counter_ns()
            found = catalogue.nearest(lat, lon, radius_km)
            first = found[:page]  # what a search page takes; the rest is never built
            timings.append((time.perf_counter_ns() - t) / 1e6)
            hits += len(found)
            assert len(first) == min(page, len(found))
        row = {
            "mean_hits": hits / queries,
            "p50_ms": percentile(timings, 50),
            "p99_ms": percentile(timings, 99),
        }
        if radius_km == RADIUS_KM:
            out.update(radius_km=radius_km, **row)  # the 5 km figures, where they always were
        else:
            out[f"r{radius_km:g}"] = row
    return out


def sync_worker(spec: tuple[int | None, str, str, int], conn: Connection) -> None:
    core, op_id, base_url, expected = spec
    pin(core)
    try:
        conn.send(asyncio.run(measure_sync(op_id, base_url, expected)))
    except Exception as exc:  # noqa: BLE001
        conn.send(exc)
    conn.poll(60)


async def measure_sync(op_id: str, base_url: str, expected: int) -> dict[str, Any]:
    async def sink(event: object) -> None:
        return None

    async with aiohttp.ClientSession() as http:
        adapter = registry.factory("tcec")(operator_config(op_id, base_url), http, sink, "http://127.0.0.1:9")
        try:
            catalogue = Catalogue(CatalogueSettings(), Metrics())
            gc.collect()
            before = rss_bytes()
            t0 = time.perf_counter()
            await catalogue.sync(adapter)
            seconds = time.perf_counter() - t0
            gc.collect()
            grown = rss_bytes() - before
        finally:
            await adapter.aclose()
    state = catalogue.sync_state[op_id]
    connectors = sum(len(catalogue.station(op_id, k[1]).connectors) for k in catalogue._stations)  # noqa: SLF001
    return {
        "stations": len(catalogue),
        "expected": expected,
        "ok": len(catalogue) == expected and state.last_error is None,
        "error": state.last_error,
        "seconds": seconds,
        "stations_per_s": len(catalogue) / seconds if seconds else None,
        "connectors": connectors,
        "bytes_per_connector": grown / connectors if connectors else None,
    }
