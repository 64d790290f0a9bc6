"""Scenarios 1 and 5: station search cost against the floors and the Yoga peer, and field cost.

Statuses and tariffs are cached (warmed before measuring), so this is the gateway's own CPU. The
web, GraphQL and proxy floors run in the gateway's process on its server stack; the peer is a Node
process on the same core; each target's CPU is read from its own process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench import checks, load, queries
from bench.config import BenchConfig
from bench.procs import Child
from bench.stats import median, summary, versus

TARGETS = ("web", "graphql", "proxy", "peer", "gateway")
BASELINES = ("web", "graphql", "proxy", "peer")  # what the gateway's figures are divided by


@dataclass(frozen=True)
class Target:
    url: str  # base URL; the query goes to {url}/graphql
    cpu: Callable[[], float]  # CPU seconds so far of the process serving it


async def same_answers(targets: Mapping[str, Target], body: dict[str, Any]) -> dict[str, str | None]:
    """Does each target answer what the gateway answers? None when it does, else where it differs.
    (Also warms every cache.)"""
    answers = {}
    async with aiohttp.ClientSession() as http:
        for name, target in targets.items():
            async with http.post(f"{target.url}/graphql", json=body) as r:
                answers[name] = await r.json(content_type=None)
    out = {}
    for name, answer in answers.items():
        errors = answer.get("errors") if isinstance(answer, dict) else None
        out[name] = f"errors: {errors}" if errors else checks.same_answer(answer, answers["gateway"])
    return out


def compare(windows: Mapping[str, list[load.Window]]) -> dict[str, dict[str, list[float]]]:
    """Per-round ratios of the gateway's CPU per request and p50 latency to each baseline's
    (rounds alternate, so round i of the gateway is set against round i of each baseline)."""
    return {base: versus(windows["gateway"], windows[base]) for base in BASELINES if base in windows}


async def station_search(targets: Mapping[str, Target], cfg: BenchConfig) -> list[dict[str, Any]]:
    """Each target alternately, for each search (stations, radius) and concurrency."""
    names = [t for t in TARGETS if t in targets]
    rows = []
    for first, radius_km in cfg.searches:
        body = queries.body(queries.SEARCH, queries.search_vars(first, radius_km))
        same = await same_answers(targets, body)
        check = checks.search(first)
        busiest = max(cfg.concurrency)
        for name in names:
            url = f"{targets[name].url}/graphql"
            await load.run_window(url, body, check, concurrency=busiest, seconds=cfg.warmup_s)
        for concurrency in cfg.concurrency:
            windows: dict[str, list[load.Window]] = {t: [] for t in names}
            for r in range(cfg.rounds):
                for name in names if r % 2 == 0 else names[::-1]:
                    windows[name].append(
                        await load.run_window(
                            f"{targets[name].url}/graphql",
                            body,
                            check,
                            concurrency=concurrency,
                            seconds=cfg.window_s,
                            cpu=targets[name].cpu,
                        )
                    )
            rows.append(
                {
                    "stations": first,
                    "radius_km": radius_km,
                    "concurrency": concurrency,
                    "same_answer": {t: same[t] is None for t in names},
                    "differences": {t: same[t] for t in names if same[t] is not None},
                    "targets": {t: summary(windows[t]) for t in names},
                    "vs": compare(windows),
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
