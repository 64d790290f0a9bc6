"""Run every scenario, print the table and write ``bench/results/latest.{md,json,png}``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import load, peer, procs, queries, report, upstream_service
from bench.config import BenchConfig
from bench.scenarios import catalogue, ordering, search, stacks, upstream
from bench.stack import HANGZHOU, SHANGHAI, GatewaySpec, SimSpec, run_gateway, run_sims
from gateway.app.server import default_stack

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("search", "upstream", "catalogue")
ORDERED_MAX_STATIONS = 100_000  # the target's size; larger catalogues only lengthen the run


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def _profile(gw: procs.Child, seconds: float, first: int, radius_km: float) -> dict[str, Any]:
    """A pyinstrument profile of the gateway process under the larger station search at concurrency 16."""
    body = queries.body(queries.SEARCH, queries.search_vars(first, radius_km))
    from bench import checks

    url = f"{gw.hello['gateway']}/graphql"
    load_task = asyncio.create_task(
        load.run_window(url, body, checks.search(first), concurrency=16, seconds=seconds + 0.5)
    )
    await asyncio.sleep(0.3)
    found = await asyncio.to_thread(gw.ask, ("profile", seconds))
    await load_task
    return dict(found)


async def search_section(
    cfg: BenchConfig, results: dict[str, Any], server: int | None, client: int | None
) -> None:
    sims = procs.spawn(
        run_sims,
        (
            client,
            (
                SimSpec("MA1BNCHZ1", cfg.search_stations, 1, HANGZHOU),
                SimSpec("MA1BNCSH1", cfg.search_stations, 2, SHANGHAI),
            ),
        ),
    )
    try:
        gw = procs.spawn(run_gateway, GatewaySpec(tuple(sims.hello.items()), server, floors=True))
        try:
            async with baselines(gw, server, client) as (targets, about):
                results["baselines"] = about
                _say("station search vs floors and the Yoga peer")
                results["search"] = await search.station_search(targets, cfg)
            _say("field cost")
            results["fields"] = await search.field_cost(gw, cfg)
            if cfg.profile_s:
                _say("profiling the gateway")
                first, radius_km = cfg.searches[-1]
                profiled = await _profile(gw, cfg.profile_s, first, radius_km)
                results["profile"], results["profile_top"] = profiled["text"], profiled["top"]
                results["profile_query"] = {"stations": first, "radius_km": radius_km, "concurrency": 16}
        finally:
            gw.stop()
        if cfg.stacks:
            _say("server stacks")
            results["stacks"] = await stacks.compare(sims, server, cfg)
    finally:
        sims.stop()


@contextlib.asynccontextmanager
async def baselines(
    gw: procs.Child, server: int | None, client: int | None
) -> AsyncIterator[tuple[dict[str, search.Target], dict[str, Any]]]:
    """The search's targets: the gateway and its floors, the proxy floor over an upstream service
    (on the client's core) and the Yoga peer (on the server's core), both over a snapshot of the
    gateway's data. Without Node the peer is left out and ``about["peer_missing"]`` says why."""
    snap = gw.ask(("snapshot", [HANGZHOU, SHANGHAI]))
    about: dict[str, Any] = {"snapshot_stations": len(snap["stations"]), "server_stack": default_stack().name}
    targets = {name: search.Target(gw.hello[name], gw.cpu) for name in ("web", "graphql", "gateway")}
    service = procs.spawn(upstream_service.run_upstream, (client, snap))
    try:
        targets["proxy"] = search.Target(gw.ask(("proxy", service.hello)), gw.cpu)
        with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
            path = Path(tmp) / "snapshot.json"
            path.write_bytes(orjson.dumps(snap))
            try:
                node = peer.start(path, server)
            except peer.PeerUnavailable as exc:
                about["peer_missing"] = str(exc)
                _say(f"no Yoga peer: {exc}")
                node = None
            try:
                if node is not None:
                    targets["peer"] = search.Target(node.base_url, node.cpu)
                    about["node"] = peer.version()
                yield targets, about
            finally:
                if node is not None:
                    node.stop()
    finally:
        service.stop()


async def upstream_section(
    cfg: BenchConfig, results: dict[str, Any], server: int | None, client: int | None
) -> None:
    n = max(cfg.fan_out)
    specs = tuple(SimSpec(f"MA1FAN{i:03d}", cfg.fan_out_stations, 100 + i, HANGZHOU) for i in range(n))
    sims = procs.spawn(run_sims, (client, specs))
    try:
        gw = procs.spawn(run_gateway, GatewaySpec(tuple(sims.hello.items()), server, status_ttl_s=0.001))
        try:
            sims.ask(("latency_ms", cfg.upstream_latency_ms))
            _say(f"overhead over a {cfg.upstream_latency_ms:g} ms upstream")
            results["overhead"] = await upstream.overhead(gw, sims, cfg)
            _say("fan-out")
            results["fan_out"] = await upstream.fan_out(gw, sims, cfg)
        finally:
            gw.stop()
    finally:
        sims.stop()


async def catalogue_section(
    cfg: BenchConfig, results: dict[str, Any], server: int | None, client: int | None
) -> None:
    out: dict[str, Any] = {"radius": []}
    for n in cfg.catalogue_sizes:
        _say(f"radius search over {n:,} stations")
        child = procs.spawn(catalogue.radius_worker, (server, n, cfg.radius_queries, 1))
        out["radius"].append(child.hello)
        child.stop()
    out["ordered"] = []
    for n in (n for n in cfg.catalogue_sizes if n <= ORDERED_MAX_STATIONS):
        _say(f"search ordered by price and estimated cost over {n:,} stations")
        child = procs.spawn(ordering.ordered_worker, (server, n, cfg.radius_queries, 1), timeout_s=600)
        out["ordered"].append(child.hello)
        child.stop()
    _say(f"syncing {cfg.sync_stations:,} stations from a T/CEC simulator")
    sims = procs.spawn(run_sims, (client, (SimSpec("MA1SYNC00", cfg.sync_stations, 1, HANGZHOU),)))
    try:
        op_id, url = next(iter(sims.hello.items()))
        child = procs.spawn(catalogue.sync_worker, (server, op_id, url, cfg.sync_stations), timeout_s=600)
        out["sync"] = child.hello
        child.stop()
    finally:
        sims.stop()
    results["catalogue"] = out


def _count(results: dict[str, Any]) -> tuple[int, int]:
    """Responses checked and failed, over every scenario."""
    checked = failed = 0

    def add(summary: dict[str, Any]) -> None:
        nonlocal checked, failed
        checked += summary["requests"]
        failed += summary["failures"]

    for row in results.get("search", []):
        for s in row["targets"].values():
            add(s)
    if results.get("fields"):
        add(results["fields"]["full"])
        add(results["fields"]["bare"])
    if results.get("overhead"):
        add(results["overhead"]["gateway"])
        add(results["overhead"]["direct"])
    for row in (results.get("fan_out") or {}).get("rows", []):
        add(row)
    for row in (results.get("stacks") or {}).get("rows", []):
        for s in row["stacks"].values():
            add(s)
    sync = (results.get("catalogue") or {}).get("sync")
    if sync:
        checked += 1
        failed += 0 if sync["ok"] else 1
    return checked, failed


async def run(
    cfg: BenchConfig, out_dir: Path | None = RESULTS, sections: tuple[str, ...] = SECTIONS
) -> dict[str, Any]:
    server, client = procs.layout()
    cores = len(procs.cores())
    procs.pin(client)  # the load generator shares its core with the simulators, never the server's
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpu": _cpu_model(),
            "cores": cores,
            "server_core": server,
            "client_core": client,
            "python": platform.python_version(),
            "stack": default_stack().name,
            "load_start": os.getloadavg()[0],
        },
        "rounds": cfg.rounds,
        "window_s": cfg.window_s,
    }
    if "search" in sections:
        await search_section(cfg, results, server, client)
    if "upstream" in sections:
        await upstream_section(cfg, results, server, client)
    if "catalogue" in sections:
        await catalogue_section(cfg, results, server, client)
    results["elapsed_s"] = time.perf_counter() - started
    results["machine"]["load_end"] = os.getloadavg()[0]
    results["checked"], results["failed"] = _count(results)
    results["markdown"] = report.markdown(results)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "latest.md").write_text(results["markdown"], encoding="utf-8")
        report.chart(results, out_dir / "latest.png")
        if results.get("profile"):
            (out_dir / "profile.txt").write_text(results["profile"], encoding="utf-8")
        (out_dir / "latest.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return results
