"""How long and how often to measure: the full run (``make bench``) and a tiny one (tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchConfig:
    rounds: int = 3  # each scenario alternated with its baseline this many times
    window_s: float = 2.0  # measured seconds per window (after a short warm-up)
    warmup_s: float = 1.0  # untimed load on each search target first (Node's JIT, the gateway's caches)
    latency_window_s: float = 2.0  # windows of the upstream-latency scenarios
    concurrency: tuple[int, ...] = (1, 16)
    # station searches: (stations asked for, radius km) — 20 within 5 km, 50 within 50 km
    searches: tuple[tuple[int, float], ...] = ((20, 5.0), (50, 50.0))
    fan_out: tuple[int, ...] = (1, 2, 4, 8, 16)
    upstream_latency_ms: float = 20.0
    catalogue_sizes: tuple[int, ...] = (10_000, 100_000, 500_000)
    radius_queries: int = 2000
    sync_stations: int = 100_000
    search_stations: int = 300  # per simulator (two: Hangzhou and Shanghai)
    fan_out_stations: int = 6  # per simulator of the fan-out scenario
    profile_s: float = 3.0  # pyinstrument profile of the gateway under load (0: none)
    stacks: bool = True  # the gateway on each server stack installed, side by side


FULL = BenchConfig()
TINY = BenchConfig(
    rounds=1,
    window_s=0.3,
    warmup_s=0.1,
    latency_window_s=0.3,
    concurrency=(1, 4),
    searches=((5, 10.0),),
    fan_out=(1, 2),
    catalogue_sizes=(2_000,),
    radius_queries=50,
    sync_stations=500,
    search_stations=120,
    fan_out_stations=3,
    profile_s=0,
    stacks=False,
)
