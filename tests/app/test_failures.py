"""Partial failure, the circuit breaker, and bad input: never a 500, always within the deadline."""

from __future__ import annotations

import asyncio

import pytest

from operators.tcec.sim.faults import Faults
from tests.app.conftest import CENTERS, DEADLINE_S, HZ, SH, Stack

BOTH = """{ stations(near: {lat: 30.75, lon: 120.8}, radiusKm: 150, first: 100) {
  totalCount edges { node { operator { name }
    connectors { status currentPrice { totalPerKwh { amount } } } } } } }"""


def operator_errors(body):
    return [e for e in body.get("errors") or [] if e["extensions"]["code"] == "OPERATOR_UNAVAILABLE"]


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        (Faults(down=True), "OPERATOR_UNAVAILABLE"),
        (Faults(timeout_rate=1.0), "OPERATOR_TIMEOUT"),
        (Faults(error_rate=1.0), "OPERATOR_UNAVAILABLE"),
        (Faults(bad_signature_rate=1.0), "OPERATOR_PROTOCOL"),
        (Faults(malformed_data_rate=1.0), "OPERATOR_PROTOCOL"),
    ],
)
async def test_one_failing_operator_gives_partial_data_and_one_error(stack: Stack, faults, reason):
    stack.sims[SH].faults = faults
    loop = asyncio.get_running_loop()
    start = loop.time()
    body = await stack.graphql(BOTH)
    elapsed = loop.time() - start
    assert elapsed < DEADLINE_S + 0.5
    errors = operator_errors(body)
    assert len(errors) == 1
    assert errors[0]["extensions"]["operator"] == SH
    assert errors[0]["extensions"]["reason"] == reason
    assert "secret" not in str(body).lower()
    by_op: dict[str, list] = {}
    for e in body["data"]["stations"]["edges"]:
        by_op.setdefault(e["node"]["operator"]["name"], []).extend(e["node"]["connectors"])
    assert all(c["status"] != "UNKNOWN" and c["currentPrice"] for c in by_op[f"Test {HZ}"])
    assert all(c["status"] == "UNKNOWN" and c["currentPrice"] is None for c in by_op[f"Test {SH}"])


async def test_the_breaker_opens_and_stops_calling_a_failing_operator(stack: Stack):
    stack.sims[SH].faults = Faults(error_rate=1.0)
    lat, lon = CENTERS[SH]
    query = f"""query($first: Int!) {{ stations(near: {{lat: {lat}, lon: {lon}}}, first: $first) {{
        edges {{ node {{ connectors {{ status }} }} }} }} }}"""
    for first in range(1, 10):  # different pages so the per-request caches do not interfere
        body = await stack.graphql(query, {"first": first})
        assert operator_errors(body)
        if stack.runtime.records[SH].breaker.state == "open":
            break
    assert stack.runtime.records[SH].breaker.state == "open"
    calls = sum(stack.sims[SH].calls.values())
    body = await stack.graphql(query, {"first": 20})
    assert "circuit open" in operator_errors(body)[0]["message"]
    assert sum(stack.sims[SH].calls.values()) == calls  # failed fast, nothing sent


async def test_get_queries_work(stack: Stack):
    params = {"query": "{ operators { protocol } }"}
    # CSRF prevention: a GET runs only with a header a browser cannot send cross-site unpreflighted.
    headers = {"apollo-require-preflight": "true"}
    async with stack.http.get(f"{stack.url}/graphql", params=params, headers=headers) as r:
        assert r.status == 200
        assert (await r.json())["data"]["operators"] == [{"protocol": "tcec"}] * 2


async def test_health_readiness_and_metrics(stack: Stack):
    async with stack.http.get(f"{stack.url}/healthz") as r:
        assert r.status == 200
    async with stack.http.get(f"{stack.url}/readyz") as r:
        assert (await r.json()) == {"status": "ready", "stations": 160}
    await stack.data("query Nearby " + BOTH)
    async with stack.http.get(f"{stack.url}/metrics") as r:
        text = await r.text()
    assert f'chargegate_upstream_seconds_count{{method="connector_statuses",operator="{HZ}"}}' in text
    assert 'chargegate_cache_misses_total{kind="status"}' in text
    assert f'chargegate_catalogue_stations{{operator="{SH}"}} 80.0' in text
    assert 'chargegate_graphql_request_seconds_count{operation="Nearby"} 1.0' in text
