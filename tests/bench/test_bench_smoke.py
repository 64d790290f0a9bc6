"""The benchmark harness's pieces in a tiny configuration: they run, and bad answers are caught.

Nothing here times anything; the figures only have to exist.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator
from types import SimpleNamespace

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import checks, floors, load, report
from bench.config import TINY
from bench.procs import cpu_seconds
from bench.scenarios import catalogue, ordering, search
from bench.stack import HANGZHOU, GatewaySpec, SimSpec, gateway_settings, sim_config
from gateway.app import create_app
from gateway.server import bind, serving
from operators.tcec.simulator import TcecSimulator

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
    """The search scenario's servers, in this process: one simulator, gateway and both floors."""
    sim = TcecSimulator(sim_config(SimSpec("MA1BNCHZ1", 60, 1, HANGZHOU)))
    await sim.start()
    try:
        sock = bind()
        spec = GatewaySpec(((sim.config.operator_id, sim.base_url),), None, floors=True)
        app = create_app(gateway_settings(spec, f"http://127.0.0.1:{sock.getsockname()[1]}"))
        async with serving(app, sock) as url:
            runtime = app.state.runtime
            await runtime.catalogue.first_sync_done.wait()
            async with (
                serving(floors.web_app(runtime), bind()) as web,
                serving(floors.graphql_app(runtime), bind()) as gql,
            ):
                yield SimpleNamespace(
                    hello={"gateway": url, "web": web, "graphql": gql}, cpu=lambda: cpu_seconds(os.getpid())
                )
    finally:
        await sim.stop()


async def test_search_scenario_against_both_floors(bench_stack: SimpleNamespace) -> None:
    cfg = dataclasses.replace(TINY, window_s=0.1, concurrency=(2,))
    rows = await search.station_search(bench_stack, cfg)  # type: ignore[arg-type]
    (row,) = rows
    assert row["same_answer"] == {"web": True, "graphql": True, "gateway": True}
    for summary in row["targets"].values():
        assert summary["requests"] > 0 and summary["failures"] == 0
    assert row["cpu_vs_web"] and row["cpu_vs_graphql"]


async def test_field_cost_scenario(bench_stack: SimpleNamespace) -> None:
    cfg = dataclasses.replace(TINY, window_s=0.1)
    result = await search.field_cost(bench_stack, cfg, stations=20)  # type: ignore[arg-type]
    assert result["fields"]["full"] > result["fields"]["bare"] > 0
    assert result["full"]["failures"] == 0 and result["bare"]["failures"] == 0


def test_catalogue_radius_measurement() -> None:
    result = catalogue.measure_radius(300, 20, seed=1)
    assert result["stations"] == 300 and result["connectors"] >= 300
    assert result["p99_ms"] is not None and result["mean_hits"] >= 0


async def test_ordered_search_measurement() -> None:
    result = await ordering.measure_ordered(300, 20, seed=1)
    assert result["stations"] == 300
    for order in ("PRICE", "ESTIMATED_COST"):
        assert result[order]["p99_ms"] is not None and result[order]["mean_hits"] >= 0
        assert result[order]["cpu_ms"] > 0


def test_report_renders_targets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    summary = {"rounds": 1, "requests": 10, "failures": 1, "reasons": {}, "throughput": 5.0,
               "p50_ms": 1.0, "p99_ms": 2.0, "cpu_us": 100.0}  # fmt: skip
    results = {
        "started": "now",
        "machine": {"cpu": "test", "cores": 2, "server_core": 0, "client_core": 1, "python": "3"},
        "rounds": 1, "window_s": 0.1, "checked": 10, "failed": 1, "elapsed_s": 1.0,
        "catalogue": {"ordered": [{"stations": 100_000,
                                   "PRICE": {"mean_hits": 160, "p50_ms": 0.9, "p99_ms": 1.5},
                                   "ESTIMATED_COST": {"mean_hits": 160, "p50_ms": 1.0, "p99_ms": 2.5}}]},
        "search": [{"stations": 20, "concurrency": 1,
                    "same_answer": {"web": True, "graphql": True, "gateway": True},
                    "targets": {"web": summary, "graphql": summary, "gateway": summary},
                    "cpu_vs_web": [1.2], "cpu_vs_graphql": [0.3], "graphql_vs_web": [4.0]}],
    }  # fmt: skip
    text = report.markdown(results)
    assert "| Station search CPU/request vs web floor | ≤ 1.5× | 1.20× (worst of 1) | yes |" in text
    assert "**1 failed**" in text
    ordered = (
        "| Search ordered by price / estimated cost, p99 at 100k stations | ≤ 2 ms | 2.500 ms (worst of 2)"
    )
    assert f"{ordered} | **no** |" in text
    assert "| 100,000 | 160 | 0.900 | 1.500 | – | 1.000 | 2.500 | – |" in text
    report.chart(results, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 0
