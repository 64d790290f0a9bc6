"""Scenario 6: the gateway on each server stack (event loop + HTTP parser), side by side.

One gateway process per stack installed (uvicorn on asyncio + h11, on uvloop + httptools, and
Granian when installed), all on the server's core over the same simulators, the larger station
search alternated between them. What ``chargegate serve`` runs on
(``gateway.app.server.default_stack``) should be the cheapest here; the report says whether it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from bench import checks, load, procs, queries
from bench.config import BenchConfig
from bench.stack import GatewaySpec, run_gateway
from bench.stats import median, summary, versus
from gateway.app.server import FAST, PLAIN, Stack, default_stack

GRANIAN = Stack("uvloop", "granian")  # Granian's own HTTP server (Rust), the app on uvloop


def candidates() -> list[Stack]:
    return [s for s in (PLAIN, FAST, GRANIAN) if s.available()]


def cheapest(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str | None:
    """The stack with the lowest CPU per request relative to the first one, over every row."""
    score: dict[str, float] = {}
    for name in names:
        ratios_ = [median(r["vs_first"][name]["cpu"]) for r in rows]
        present = [v for v in ratios_ if v is not None]
        if present:
            score[name] = sum(present) / len(present)
    return min(score, key=score.__getitem__) if score else None


async def compare(sims: procs.Child, core: int | None, cfg: BenchConfig) -> dict[str, Any]:
    stacks = candidates()
    gateways: dict[str, procs.Child] = {}
    try:
        for stack in stacks:
            spec = GatewaySpec(tuple(sims.hello.items()), core, stack=stack)
            gateways[stack.name] = procs.spawn(run_gateway, spec)
        names = list(gateways)
        first, radius_km = cfg.searches[-1]
        body = queries.body(queries.SEARCH, queries.search_vars(first, radius_km))
        check = checks.search(first)
        async with aiohttp.ClientSession() as http:
            for gw in gateways.values():  # warm the caches
                async with http.post(f"{gw.hello['gateway']}/graphql", json=body) as r:
                    await r.read()
        rows = []
        for concurrency in cfg.concurrency:
            windows: dict[str, list[load.Window]] = {n: [] for n in names}
            for r in range(cfg.rounds):
                for name in names if r % 2 == 0 else names[::-1]:
                    gw = gateways[name]
                    windows[name].append(
                        await load.run_window(
                            f"{gw.hello['gateway']}/graphql",
                            body,
                            check,
                            concurrency=concurrency,
                            seconds=cfg.window_s,
                            cpu=gw.cpu,
                        )
                    )
            base = windows[names[0]]
            rows.append(
                {
                    "stations": first,
                    "radius_km": radius_km,
                    "concurrency": concurrency,
                    "stacks": {n: summary(windows[n]) for n in names},
                    "vs_first": {n: versus(windows[n], base) for n in names},
                }
            )
    finally:
        for gw in gateways.values():
            gw.stop()
    return {"stacks": names, "default": default_stack().name, "cheapest": cheapest(rows, names), "rows": rows}
