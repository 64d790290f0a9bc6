"""Scenarios 1 and 5: station search cost against the web and GraphQL floors, and field cost.

Statuses and tariffs are cached (warmed before measuring), so this is the gateway's own CPU.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from bench import checks, load, queries
from bench.config import BenchConfig
from bench.procs import Child
from bench.stats import median, ratios, summary

TARGETS = ("web", "graphql", "gateway")


async def same_answers(gw: Child, body: dict[str, Any]) -> dict[str, bool]:
    """Does each floor answer exactly what the gateway answers? (Also warms every cache.)"""
    out = {}
    async with aiohttp.ClientSession() as http:
        answers = {}
        for target in TARGETS:
            async with http.post(f"{gw.hello[target]}/graphql", json=body) as r:
                answers[target] = await r.json()
        for target in TARGETS:
            out[target] = answers[target] == answers["gateway"] and not answers[target].get("errors")
    return out


async def station_search(gw: Child, cfg: BenchConfig) -> list[dict[str, Any]]:
    rows = []
    for first in cfg.pages:
        body = queries.body(queries.SEARCH, queries.search_vars(first))
        same = await same_answers(gw, body)
        check = checks.search(first)
        for concurrency in cfg.concurrency:
            windows: dict[str, list[load.Window]] = {t: [] for t in TARGETS}
            for r in range(cfg.rounds):
                order = TARGETS if r % 2 == 0 else TARGETS[::-1]
                for target in order:
                    windows[target].append(
                        await load.run_window(
                            f"{gw.hello[target]}/graphql",
                            body,
                            check,
                            concurrency=concurrency,
                            seconds=cfg.window_s,
                            cpu=gw.cpu,
                        )
                    )
            cpu = {t: [w.cpu_us_per_request for w in windows[t]] for t in TARGETS}
            rows.append(
                {
                    "stations": first,
                    "concurrency": concurrency,
                    "same_answer": same,
                    "targets": {t: summary(windows[t]) for t in TARGETS},
                    "cpu_vs_web": ratios(cpu["gateway"], cpu["web"]),
                    "cpu_vs_graphql": ratios(cpu["gateway"], cpu["graphql"]),
                    "graphql_vs_web": ratios(cpu["graphql"], cpu["web"]),
                }
            )
    return rows


async def field_cost(gw: Child, cfg: BenchConfig, stations: int = 100) -> dict[str, Any]:
    """CPU of the every-field 100-station query minus the count-only one, per resolved field."""
    variables = queries.search_vars(stations)
    full = queries.body(queries.EVERY_FIELD, variables)
    bare = queries.body(queries.COUNT_ONLY, variables)
    async with aiohttp.ClientSession() as http:
        fields = {}
        for name, body in (("full", full), ("bare", bare)):
            async with http.post(f"{gw.hello['gateway']}/graphql", json=body) as r:
                doc = await r.json()
            fields[name] = checks.count_fields(doc.get("data"))
    url = f"{gw.hello['gateway']}/graphql"
    windows: dict[str, list[load.Window]] = {"full": [], "bare": []}
    for r in range(cfg.rounds):
        for name in ("full", "bare") if r % 2 == 0 else ("bare", "full"):
            check = checks.search(stations, price=False) if name == "full" else checks.count(stations)
            body = full if name == "full" else bare
            windows[name].append(
                await load.run_window(url, body, check, concurrency=1, seconds=cfg.window_s, cpu=gw.cpu)
            )
    extra = fields["full"] - fields["bare"]
    per_round = [
        (f.cpu_us_per_request - b.cpu_us_per_request) / extra
        for f, b in zip(windows["full"], windows["bare"], strict=True)
        if f.cpu_us_per_request is not None and b.cpu_us_per_request is not None and extra
    ]
    return {
        "stations": stations,
        "fields": fields,
        "full": summary(windows["full"]),
        "bare": summary(windows["bare"]),
        "us_per_field_rounds": per_round,
        "us_per_field": median(per_round),
    }
