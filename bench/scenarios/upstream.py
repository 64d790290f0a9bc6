"""Scenarios 2 and 3: overhead over one upstream call, and fan-out to 1…16 operators.

Every simulator answers after a fixed artificial latency and the gateway caches statuses for a
millisecond only, so every request makes its upstream calls. The direct calls also give the CPU
one T/CEC call costs its caller (AES, HMAC, JSON, aiohttp): this process's own CPU time over the
direct window, per call (the simulator's side of the call is its own process's).

The simulators all run in one process on the load generator's core, so the answers of a fan-out
are produced one after another: each window also records the simulators' CPU per request
(``sims_cpu_us``), the part of the fan-out's latency that is theirs and not the gateway's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bench import checks, load, queries
from bench.config import BenchConfig
from bench.procs import Child
from bench.stack import HANGZHOU, operator_config
from bench.stats import median, ratios, summary
from operators import registry
from resolvers import ids


async def _first_station(url: str, op_id: str) -> str:
    body = queries.body(queries.LIVE, {**queries.search_vars(1), "ops": [op_id]})
    async with aiohttp.ClientSession() as http, http.post(f"{url}/graphql", json=body) as r:
        doc = await r.json()
    decoded = ids.decode(doc["data"]["stations"]["edges"][0]["node"]["id"])
    assert decoded is not None
    return decoded[1][1]


def own_cpu() -> float:
    # time.process_time, not /proc's clock ticks: a 2 s window of 20 ms calls costs some 50 ms of
    # CPU, and a tick (10 ms) either way would move the figure per call by a fifth.
    return time.process_time()


async def overhead(gw: Child, sims: Child, cfg: BenchConfig) -> dict[str, Any]:
    """Gateway p50 for a one-station live search minus the p50 of the same upstream call made directly."""
    op_id, base_url = next(iter(sims.hello.items()))
    station = await _first_station(gw.hello["gateway"], op_id)
    body = queries.body(queries.LIVE, {**queries.search_vars(1, center=HANGZHOU), "ops": [op_id]})
    check = checks.operators(1, 1)

    async def sink(event: object) -> None:
        return None

    async with aiohttp.ClientSession() as http:
        adapter = registry.factory("tcec")(operator_config(op_id, base_url), http, sink, "http://127.0.0.1:9")
        try:

            async def direct() -> None:
                states = await adapter.connector_statuses([station])
                if not states:
                    raise ValueError("no status")

            windows: dict[str, list[load.Window]] = {"direct": [], "gateway": []}
            for r in range(cfg.rounds):
                for name in ("direct", "gateway") if r % 2 == 0 else ("gateway", "direct"):
                    if name == "direct":
                        w = await load.run_calls(direct, seconds=cfg.latency_window_s, cpu=own_cpu)
                    else:
                        w = await load.run_window(
                            f"{gw.hello['gateway']}/graphql",
                            body,
                            check,
                            concurrency=1,
                            seconds=cfg.latency_window_s,
                            cpu=gw.cpu,
                        )
                    windows[name].append(w)
        finally:
            await adapter.aclose()
    d = summary(windows["direct"])
    g = summary(windows["gateway"])
    per_round = [
        gs - ds
        for gs, ds in zip(
            [summary([w])["p50_ms"] for w in windows["gateway"]],
            [summary([w])["p50_ms"] for w in windows["direct"]],
            strict=True,
        )
        if gs is not None and ds is not None
    ]
    return {
        "latency_ms": cfg.upstream_latency_ms,
        "direct": d,
        "gateway": g,
        "overhead_ms_rounds": per_round,
        "overhead_ms": median(per_round),
    }


def _with_sims(gw: Child, sims: Child, reads: list[float]) -> Callable[[], float]:
    """The gateway's CPU (what the window records), reading the simulators' CPU at the same moments."""

    def cpu() -> float:
        reads.append(sims.cpu())
        return gw.cpu()

    return cpu


async def fan_out(gw: Child, sims: Child, cfg: BenchConfig) -> dict[str, Any]:
    op_ids = list(sims.hello)
    per_op = cfg.fan_out_stations
    windows: dict[int, list[load.Window]] = {n: [] for n in cfg.fan_out}
    sims_us: dict[int, list[float | None]] = {n: [] for n in cfg.fan_out}
    for r in range(cfg.rounds):
        for n in cfg.fan_out if r % 2 == 0 else cfg.fan_out[::-1]:
            body = queries.body(queries.LIVE, {**queries.search_vars(100), "ops": op_ids[:n]})
            reads: list[float] = []
            window = await load.run_window(
                f"{gw.hello['gateway']}/graphql",
                body,
                checks.operators(per_op * n, n),
                concurrency=1,
                seconds=cfg.latency_window_s,
                cpu=_with_sims(gw, sims, reads),
            )
            windows[n].append(window)
            counted = len(reads) == 2 and window.requests
            sims_us[n].append((reads[1] - reads[0]) / window.requests * 1e6 if counted else None)
    base = [summary([w])["p50_ms"] for w in windows[cfg.fan_out[0]]]
    rows = []
    for n in cfg.fan_out:
        p50s = [summary([w])["p50_ms"] for w in windows[n]]
        vs_one = ratios(p50s, base)
        rows.append(
            {
                "operators": n,
                **summary(windows[n]),
                "sims_cpu_us": median(sims_us[n]),
                "vs_one_rounds": vs_one,
                "vs_one": median(vs_one),
            }
        )
    return {"latency_ms": cfg.upstream_latency_ms, "stations_per_operator": per_op, "rows": rows}
