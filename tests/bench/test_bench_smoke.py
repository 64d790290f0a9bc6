"""The benchmark harness's pieces in a tiny configuration: they run, and bad answers are caught.

Nothing here times anything; the figures only have to exist.
"""
# ruff: noqa: E501  (expected markdown rows read better on one line each)

from __future__ import annotations

import base64
import dataclasses
import os
import subprocess
from collections.abc import AsyncIterator
from types import SimpleNamespace

import orjson
import pytest
from aiohttp import web
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import checks, floors, load, peer, profiling, queries, report, snapshot, stats, upstream_service
from bench.config import TINY
from bench.procs import cpu_seconds
from bench.scenarios import catalogue, ordering, search, stacks
from bench.stack import HANGZHOU, GatewaySpec, SimSpec, gateway_settings, sim_config
from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from operators.tcec.sim.server import TcecSimulator

GOOD = {"data": {"stations": {"totalCount": 1, "edges": [{"node": {"id": "x", "connectors": [
    {"status": "AVAILABLE", "currentPrice": {"totalPerKwh": {"amount": "1.2"}}}]}}]}}}  # fmt: skip


def test_checks_catch_bad_answers() -> None:
    check = checks.search(1)
    assert check(200, orjson.dumps(GOOD)) is None
    assert check(500, orjson.dumps(GOOD)) == "HTTP 500"
    assert check(200, b"<html>") == "not JSON"
    errors = {**GOOD, "errors": [{"message": "x", "extensions": {"code": "OPERATOR_UNAVAILABLE"}}]}
    assert check(200, orjson.dumps(errors)) == "errors: OPERATOR_UNAVAILABLE"
    assert checks.search(2)(200, orjson.dumps(GOOD)) == "1 edges, expected 2"
    unknown = orjson.loads(orjson.dumps(GOOD))
    unknown["data"]["stations"]["edges"][0]["node"]["connectors"][0]["status"] = "UNKNOWN"
    assert check(200, orjson.dumps(unknown)) == "connector status UNKNOWN"
    assert check(200, b'{"data": {"stations": null}}').startswith("shape:")
    assert checks.count_fields({"a": {"b": 1, "c": [{"d": 1}, {"d": 2}]}}) == 5


async def test_load_generator_counts_every_failure() -> None:
    served = {"n": 0}

    async def flaky(request: Request) -> Response:
        await request.body()
        served["n"] += 1
        if served["n"] % 2:
            return Response(orjson.dumps(GOOD), media_type="application/json")
        return Response(b'{"errors": [{"message": "boom"}]}', media_type="application/json")

    app = Starlette(routes=[Route("/graphql", flaky, methods=["POST"])])
    async with serving(app, bind()) as url:
        window = await load.run_window(
            f"{url}/graphql", {"query": "{}"}, checks.search(1), concurrency=2, seconds=0.2, warmup_s=0.05,
            cpu=lambda: cpu_seconds(os.getpid()),
        )  # fmt: skip
    assert window.requests > 0
    assert window.failures > 0 and window.reasons.get("errors: ?") == window.failures
    assert len(window.latencies) == window.requests - window.failures
    assert window.cpu_s is not None


@pytest.fixture
async def bench_stack() -> AsyncIterator[SimpleNamespace]:
    """The search scenario's servers, in this process: one simulator, the gateway, the web and
    GraphQL floors, and the proxy floor over an upstream service holding the gateway's snapshot."""
    sim = TcecSimulator(sim_config(SimSpec("MA1BNCHZ1", 60, 1, HANGZHOU)))
    await sim.start()
    try:
        sock = bind()
        spec = GatewaySpec(((sim.config.operator_id, sim.base_url),), None, floors=True)
        app = create_app(gateway_settings(spec, f"http://127.0.0.1:{sock.getsockname()[1]}"))
        async with serving(app, sock) as url:
            runtime = app.state.runtime
            await runtime.catalogue.first_sync_done.wait()
            snap = await snapshot.export(runtime, [HANGZHOU])
            runner = web.AppRunner(upstream_service.app(snap), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            upstream = f"http://127.0.0.1:{runner.addresses[0][1]}"
            try:
                async with (
                    serving(floors.web_app(runtime), bind()) as web_url,
                    serving(floors.graphql_app(runtime), bind()) as gql,
                    serving(floors.proxy_app(upstream), bind()) as proxy,
                ):
                    urls = {"gateway": url, "web": web_url, "graphql": gql, "proxy": proxy}
                    yield SimpleNamespace(
                        hello=urls,
                        snapshot=snap,
                        cpu=lambda: cpu_seconds(os.getpid()),
                        targets={
                            k: search.Target(v, lambda: cpu_seconds(os.getpid())) for k, v in urls.items()
                        },
                    )
            finally:
                await runner.cleanup()
    finally:
        await sim.stop()


async def test_search_scenario_against_every_baseline(bench_stack: SimpleNamespace) -> None:
    cfg = dataclasses.replace(TINY, window_s=0.1, warmup_s=0.05, concurrency=(2,))
    rows = await search.station_search(bench_stack.targets, cfg)
    (row,) = rows
    assert row["same_answer"] == {"web": True, "graphql": True, "proxy": True, "gateway": True}
    assert row["differences"] == {}
    for summary in row["targets"].values():
        assert summary["requests"] > 0 and summary["failures"] == 0
    assert set(row["vs"]) == {"web", "graphql", "proxy"}
    assert all(row["vs"][b]["cpu"] and row["vs"][b]["p50"] for b in row["vs"])


async def test_the_upstream_service_answers_from_the_snapshot(bench_stack: SimpleNamespace) -> None:
    snap = bench_stack.snapshot
    assert snap["stations"] and snap["tariffs"]
    found = upstream_service.StationService(snap).search(*HANGZHOU, 10.0, 5)
    distances = [s["distance_km"] for s in found["stations"]]
    assert len(distances) == 5 and distances == sorted(distances) and found["total"] >= 5
    assert all(c["price"]["amount"] for s in found["stations"] for c in s["connectors"])


async def test_the_peer_answers_what_the_gateway_answers(bench_stack: SimpleNamespace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The Yoga peer (Node, installed from its lockfile) over the gateway's snapshot: same answer."""
    if peer.missing():  # Node from Debian when missing, the peer's packages from its lockfile
        subprocess.run([str(peer.HERE / "install.sh")], check=True, timeout=600)
    path = tmp_path / "snapshot.json"
    path.write_bytes(orjson.dumps(bench_stack.snapshot))
    node = peer.start(path, None)
    try:
        targets = {
            "gateway": bench_stack.targets["gateway"],
            "peer": search.Target(node.base_url, node.cpu),
        }
        body = queries.body(queries.SEARCH, queries.search_vars(5, 10.0))
        assert await search.same_answers(targets, body) == {"gateway": None, "peer": None}
    finally:
        node.stop()


async def test_field_cost_scenario(bench_stack: SimpleNamespace) -> None:
    cfg = dataclasses.replace(TINY, window_s=0.1)
    result = await search.field_cost(bench_stack, cfg, stations=20)  # type: ignore[arg-type]
    assert result["fields"]["full"] > result["fields"]["bare"] > 0
    assert result["full"]["failures"] == 0 and result["bare"]["failures"] == 0


def test_catalogue_radius_measurement() -> None:
    result = catalogue.measure_radius(300, 20, seed=1)
    assert result["stations"] == 300 and result["connectors"] >= 300
    assert result["p99_ms"] is not None and result["mean_hits"] >= 0
    assert result["r50"]["p99_ms"] is not None and result["r50"]["mean_hits"] >= result["mean_hits"]


def test_report_shows_radius_targets_at_5_and_50_km_and_500k() -> None:
    def row(n: int, p99_5: float, p99_50: float) -> dict:
        return {"stations": n, "connectors": 3 * n, "build_s": 1.0, "queries": 10, "bytes_per_connector": 600,
                "radius_km": 5.0, "mean_hits": 160, "p50_ms": p99_5 / 2, "p99_ms": p99_5,
                "r50": {"mean_hits": 16000, "p50_ms": p99_50 / 2, "p99_ms": p99_50}}  # fmt: skip

    text = report.markdown(_results(catalogue={"radius": [row(100_000, 0.2, 2.5), row(500_000, 0.5, 4.0)]}))
    assert "| Radius search p99 at 100k stations | ≤ 2 ms | 0.200 ms | yes |" in text
    assert "| Radius search p99 at 100k stations, 50 km | ≤ 2 ms | 2.500 ms | **no** |" in text
    assert "| Radius search p99 at 500k stations | ≤ 5 ms | 4.000 ms (worst of 5 and 50 km) | yes |" in text
    assert "| 100,000 | 300,000 | 160 | 0.100 | 0.200 | 16,000 | 1.250 | 2.500 | 600 | 1.0 |" in text


async def test_ordered_search_measurement() -> None:
    result = await ordering.measure_ordered(300, 20, seed=1)
    assert result["stations"] == 300
    for order in ("PRICE", "ESTIMATED_COST"):
        assert result[order]["p99_ms"] is not None and result[order]["mean_hits"] >= 0
        assert result[order]["cpu_ms"] > 0


SUMMARY = {"rounds": 1, "requests": 10, "failures": 1, "reasons": {}, "throughput": 5.0,
           "p50_ms": 1.0, "p99_ms": 2.0, "cpu_us": 100.0}  # fmt: skip


def _row(stations: int, radius_km: float, concurrency: int, vs: dict) -> dict:
    names = ("web", "graphql", "proxy", "peer", "gateway")
    return {"stations": stations, "radius_km": radius_km, "concurrency": concurrency,
            "same_answer": {n: True for n in names}, "differences": {},
            "targets": {n: SUMMARY for n in names}, "vs": vs}  # fmt: skip


def _results(**extra: object) -> dict:
    return {
        "started": "now",
        "machine": {"cpu": "test", "cores": 2, "server_core": 0, "client_core": 1, "python": "3",
                    "stack": "uvloop+httptools", "load_start": 2.5, "load_end": 1.0},
        "rounds": 1, "window_s": 0.1, "checked": 10, "failed": 1, "elapsed_s": 1.0, **extra,
    }  # fmt: skip


def test_report_renders_targets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    vs = {"web": {"cpu": [1.2], "p50": [1.1]}, "graphql": {"cpu": [0.3], "p50": [0.4]},
          "proxy": {"cpu": [1.4, 1.6, 1.5], "p50": [2.0]}, "peer": {"cpu": [0.9], "p50": [1.5]}}  # fmt: skip
    worse = {**vs, "proxy": {"cpu": [2.5], "p50": [3.0]}, "peer": {"cpu": [1.0], "p50": [1.0]}}
    results = _results(
        catalogue={"ordered": [{"stations": 100_000,
                                "PRICE": {"mean_hits": 160, "p50_ms": 0.9, "p99_ms": 1.5},
                                "ESTIMATED_COST": {"mean_hits": 160, "p50_ms": 1.0, "p99_ms": 2.5}}]},
        search=[_row(20, 5.0, 1, vs), _row(50, 50.0, 16, worse)],
        overhead={"latency_ms": 20, "direct": {**SUMMARY, "cpu_us": 250.0}, "gateway": SUMMARY,
                  "overhead_ms_rounds": [1.0], "overhead_ms": 1.0},
    )  # fmt: skip
    text = report.markdown(results)
    assert (
        "| Station search CPU/request vs web floor | ≤ 1.5× | 1.20× (worst of 2: 20 within 5 km, c=1) | yes |"
        in text
    )
    # the worst row decides: 2.5× the proxy floor at 50 stations, and exactly the peer's CPU is not below it
    assert (
        "vs proxy floor (Starlette over an upstream JSON service) | ≤ 1.5× | 2.50× (worst of 2: 50 within 50 km, c=16) | **no** |"
        in text
    )
    assert "vs GraphQL Yoga peer (Node) | < 1× | 1.00× (worst of 2: 50 within 50 km, c=16) | **no** |" in text
    assert "| CPU per T/CEC upstream call (AES + HMAC + JSON + aiohttp) | ≤ 0.3 ms | 0.250 ms | yes |" in text
    assert "| 20 | 5 | 1 | 1.50 (1.40–1.60) | 2.00 (2.00–2.00) | 0.90 (0.90–0.90) |" in text
    assert "**1 failed**" in text and "figures taken under load" in text
    ordered = (
        "| Search ordered by price / estimated cost, p99 at 100k stations | ≤ 2 ms | 2.500 ms (worst of 2)"
    )
    assert f"{ordered} | **no** |" in text
    assert "| 100,000 | 160 | 0.900 | 1.500 | – | 1.000 | 2.500 | – |" in text
    verdicts = report.verdicts(results)
    assert (
        "PASS  CPU per T/CEC upstream call (AES + HMAC + JSON + aiohttp): 0.250 ms (goal ≤ 0.3 ms)"
        in verdicts
    )
    assert sum(v.startswith("MISS") for v in verdicts) == 3  # proxy, peer, ordered
    report.chart(results, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 0


def test_report_shows_the_simulators_cpu_next_to_the_fan_out() -> None:
    def row(n: int, sims_us: float) -> dict:
        return {**SUMMARY, "operators": n, "cpu_us": 2000.0 * n, "sims_cpu_us": sims_us,
                "vs_one_rounds": [1.0 + n / 100], "vs_one": 1.0 + n / 100}  # fmt: skip

    text = report.markdown(
        _results(
            fan_out={"latency_ms": 20, "stations_per_operator": 6, "rows": [row(1, 600.0), row(16, 9600.0)]}
        )
    )
    assert (
        "| Operators | p50 ms | p99 ms | CPU µs/req | Simulators' CPU µs/req | p50 × 1 operator | Failed |"
        in text
    )
    assert "| 16 | 1.00 | 2.00 | 32,000 | 9,600 | 1.16 (1.16–1.16) | 1/10 |" in text
    assert "at 16 operators they spend 9.60 ms of CPU per request (9.00 ms more than for one)" in text


def test_report_names_a_differing_answer_once_per_query() -> None:
    rows = [_row(20, 5.0, c, {"proxy": {"cpu": [1.2], "p50": [1.0]}}) for c in (1, 16)]
    for row in rows:
        row["same_answer"]["proxy"] = False
        row["differences"] = {"proxy": ".data.stations.totalCount: 3 != 4"}
    text = report.markdown(_results(search=rows))
    assert (
        text.count("proxy floor answered differently (20 stations): .data.stations.totalCount: 3 != 4") == 1
    )
    assert "| 20 | 5 | 16 | proxy floor | 5 | 1.00 | 2.00 | 100 | **no** | 1/10 |" in text


def test_report_without_the_peer_says_why() -> None:
    vs = {"proxy": {"cpu": [1.2], "p50": [1.0]}}
    results = _results(
        search=[_row(20, 5.0, 1, vs)],
        baselines={"snapshot_stations": 600, "server_stack": "asyncio+h11", "peer_missing": "node is not installed"},
    )  # fmt: skip
    text = report.markdown(results)
    assert "Yoga peer (left out: node is not installed)" in text
    assert "Yoga peer (Node) |" not in text  # no target line without a measurement


def test_report_shows_the_server_stacks() -> None:
    rows = [{"stations": 50, "radius_km": 50.0, "concurrency": c,
             "stacks": {"asyncio+h11": SUMMARY, "uvloop+httptools": SUMMARY},
             "vs_first": {"asyncio+h11": {"cpu": [1.0], "p50": [1.0]},
                          "uvloop+httptools": {"cpu": [0.7 if c == 1 else 0.8], "p50": [0.9]}}}
            for c in (1, 16)]  # fmt: skip
    names = ["asyncio+h11", "uvloop+httptools"]
    assert stacks.cheapest(rows, names) == "uvloop+httptools"
    st = {"stacks": names, "default": "uvloop+httptools", "cheapest": "uvloop+httptools", "rows": rows}
    text = report.markdown(_results(stacks=st))
    assert "cheapest **uvloop+httptools**; `chargegate serve` runs on **uvloop+httptools**" in text
    assert (
        "| uvloop+httptools | 16 | 5 | 1.00 | 2.00 | 100 | 0.80 (0.80–0.80) | 0.90 (0.90–0.90) | 1/10 |"
        in text
    )


def test_ratios_pair_rounds_and_skip_missing_ones() -> None:
    def window(cpu_s: float | None, latencies: list[float], requests: int = 10) -> load.Window:
        return load.Window(requests=requests, seconds=1.0, latencies=latencies, cpu_s=cpu_s)

    gateway = [window(0.02, [0.002, 0.004, 0.003]), window(0.03, [0.005]), window(None, [0.001])]
    proxy = [window(0.01, [0.001, 0.002, 0.003]), window(0.01, [0.001]), window(0.01, [0.001])]
    peer = [window(0.04, [0.006]), window(0.04, []), window(0.04, [0.002])]
    out = search.compare({"gateway": gateway, "proxy": proxy, "peer": peer})
    assert set(out) == {"proxy", "peer"}  # the baselines measured, nothing else
    assert out["proxy"]["cpu"] == pytest.approx([2.0, 3.0])  # the third round has no CPU reading
    assert out["proxy"]["p50"] == pytest.approx([1.5, 5.0, 1.0])
    assert out["peer"]["cpu"] == pytest.approx([0.5, 0.75])
    assert out["peer"]["p50"] == pytest.approx([0.5, 0.5])  # the peer's empty round is skipped
    assert stats.versus(gateway, proxy) == out["proxy"]


def test_same_answer_tolerates_last_bits_of_distances_only() -> None:
    def cursor(distance: str) -> str:
        raw = "\x1f".join(("DISTANCE", "0", "0", distance, "OP", "S1")).encode()
        return base64.urlsafe_b64encode(raw).decode()

    want = {"data": {"stations": {"edges": [{"cursor": cursor("1.2345678901234567"), "distanceKm": 1.235,
                                             "node": {"maxPowerKw": 60.0, "status": "AVAILABLE"}}]}}}  # fmt: skip
    got = orjson.loads(orjson.dumps(want))
    assert checks.same_answer(got, want) is None
    got["data"]["stations"]["edges"][0]["cursor"] = cursor("1.2345678901234565")  # another sine's last bit
    assert checks.same_answer(got, want) is None
    got["data"]["stations"]["edges"][0]["cursor"] = cursor(
        "1.2345678901220000"
    )  # the gateway's chord formula
    got["data"]["stations"]["edges"][0]["node"]["maxPowerKw"] = 60  # JavaScript's JSON for 60.0
    assert checks.same_answer(got, want) is None
    got["data"]["stations"]["edges"][0]["cursor"] = cursor("1.3")
    assert (
        checks.same_answer(got, want)
        == f".data.stations.edges[0].cursor: {cursor('1.3')!r} != {cursor('1.2345678901234567')!r}"
    )
    got = orjson.loads(orjson.dumps(want))
    got["data"]["stations"]["edges"][0]["node"]["status"] = "OCCUPIED"
    assert checks.same_answer(got, want) == ".data.stations.edges[0].node.status: 'OCCUPIED' != 'AVAILABLE'"
    got["data"]["stations"]["edges"] = []
    assert checks.same_answer(got, want) == ".data.stations.edges: 0 items, expected 1"


def test_price_in_force_wraps_past_midnight() -> None:
    tariff = {"currency": "CNY", "starts": [8 * 3600, 22 * 3600], "totals": ["1.20", "0.60"]}
    assert snapshot.total_at(tariff, 3600) == "0.60"  # before the first start: the last period's
    assert snapshot.total_at(tariff, 8 * 3600) == "1.20"
    assert snapshot.total_at(tariff, 22 * 3600 - 0.5) == "1.20"
    assert snapshot.total_at(tariff, 23 * 3600) == "0.60"


async def test_granian_serves_an_app_embedded() -> None:
    pytest.importorskip("granian")  # the bench's extra, not the gateway's
    from bench import granian_serving

    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/json")

    app = Starlette(routes=[Route("/graphql", echo, methods=["POST"])])
    async with granian_serving.serving(app, granian_serving.free_port()) as url:
        window = await load.run_window(
            f"{url}/graphql", GOOD, checks.search(1), concurrency=2, seconds=0.2, warmup_s=0.05
        )
    assert window.requests > 0 and window.failures == 0


def test_profile_top_entries_sum_self_time_by_function_and_file() -> None:
    def frame(
        function: str, file: str, time: float, own: float, *children: SimpleNamespace, synthetic: bool = False
    ) -> SimpleNamespace:
        return SimpleNamespace(function=function, file_path_short=file, time=time, total_self_time=own,
                               is_synthetic=synthetic, children=list(children))  # fmt: skip

    own = lambda t: frame("[self]", "", t, t, synthetic=True)  # noqa: E731
    root = frame("run", "asyncio/runners.py", 1.0, 0.0,
                 frame("search", "resolvers/stations/search.py", 0.6, 0.1, own(0.1),
                       frame("near", "gateway/catalogue/geoindex.py", 0.5, 0.5, own(0.5))),
                 frame("search", "resolvers/stations/search.py", 0.2, 0.2, own(0.2)),
                 frame("hydrate", "resolvers/stations/search.py", 0.25, 0.25, own(0.25)))  # fmt: skip
    top = profiling.top_entries(root, n=2)
    assert top["functions"] == [
        {"where": "near (gateway/catalogue/geoindex.py)", "self_s": 0.5, "share": 0.5},
        {
            "where": "search (resolvers/stations/search.py)",
            "self_s": pytest.approx(0.3),
            "share": pytest.approx(0.3),
        },
    ]
    assert top["files"][0] == {
        "where": "resolvers/stations/search.py",
        "self_s": pytest.approx(0.55),
        "share": pytest.approx(0.55),
    }
    text = report.markdown(
        _results(profile_top=top, profile_query={"stations": 50, "radius_km": 50.0, "concurrency": 16})
    )
    assert (
        "| `near (gateway/catalogue/geoindex.py)` | 50.0% | `resolvers/stations/search.py` | 55.0% |" in text
    )
