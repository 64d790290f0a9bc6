"""Operator health for internal tooling, over real HTTP: admin keys see it, everyone else gets null
and FORBIDDEN on that field only; a stopped operator shows DOWN with its circuit open."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.catalogue.stations import SyncState
from gateway.security.apikeys import NewKey, create_key
from gateway.settings.load import SecuritySettings, Settings
from gateway.upstream.health import FAILURE_WINDOW, HealthStatus, RecentCalls, assess
from operators.base import OperatorUnavailable
from tests.app.conftest import CENTERS, HZ, SH, Stack, poll

PEPPER = "test-pepper-health-0123456789abcd"
ADMIN = create_key(["admin"], PEPPER, key_id="ops")
READER = create_key(["stations:read"], PEPPER, key_id="reader")
OPERATORS = """{ operators { id name stationCount
    health { status circuitOpen latencyP50Ms lastSyncAt lastError } } }"""


def table(new: NewKey) -> dict[str, object]:
    r = new.record
    return {"id": r.id, "name": r.name, "scopes": [s.value for s in r.scopes], "hash": r.digest}


@pytest.fixture
def stack_settings(stack_settings: Settings) -> Settings:
    keys = (table(ADMIN), table(READER))
    return replace(stack_settings, security=SecuritySettings(key_hash_secret=PEPPER, api_keys=keys))


async def operators(stack: Stack, key: NewKey | None) -> dict[str, Any]:
    headers = {"x-api-key": key.key} if key else {}
    async with stack.http.post(f"{stack.url}/graphql", json={"query": OPERATORS}, headers=headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["name"].removeprefix("Test "): op for op in body["data"]["operators"]}


async def test_an_admin_key_sees_every_operators_health(stack: Stack):
    body = await operators(stack, ADMIN)
    assert not body.get("errors"), body["errors"]
    ops = by_name(body)
    assert set(ops) == {HZ, SH}
    for op in ops.values():
        assert op["stationCount"] == 80
        health = op["health"]
        assert health["status"] == "UP" and health["circuitOpen"] is False
        assert health["latencyP50Ms"] > 0  # the catalogue sync's calls
        assert health["lastSyncAt"] and health["lastError"] is None


@pytest.mark.parametrize("key", [READER, None], ids=["read-only key", "anonymous"])
async def test_other_callers_get_the_station_count_but_not_the_health(stack: Stack, key):
    body = await operators(stack, key)
    ops = body["data"]["operators"]
    assert [op["stationCount"] for op in ops] == [80, 80]
    assert all(op["health"] is None for op in ops)
    errors = body["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN", "FORBIDDEN"]
    assert sorted(e["path"] for e in errors) == [["operators", 0, "health"], ["operators", 1, "health"]]


async def test_station_search_through_the_operator_field_is_unchanged(stack: Stack):
    lat, lon = CENTERS[HZ]
    query = f"""{{ stations(near: {{lat: {lat}, lon: {lon}}}, first: 2) {{
        edges {{ node {{ operator {{ id name stationCount }} }} }} }} }}"""
    data = await stack.data(query)
    assert [e["node"]["operator"]["stationCount"] for e in data["stations"]["edges"]] == [80, 80]


async def test_a_stopped_operator_shows_down_with_its_circuit_open(stack: Stack):
    await stack.sims[SH].stop()
    lat, lon = CENTERS[SH]
    query = """query($first: Int!, $lat: Float!, $lon: Float!) {
        stations(near: {lat: $lat, lon: $lon}, first: $first) {
            edges { node { connectors { status } } } } }"""

    async def circuit_open() -> bool:
        # Different page sizes, so no per-request cache hides the operator's failure.
        for first in range(1, 10):
            await stack.graphql(query, {"first": first, "lat": lat, "lon": lon})
            if stack.runtime.records[SH].breaker.state == "open":
                return True
        return False

    await poll(circuit_open, timeout_s=10)
    ops = by_name(await operators(stack, ADMIN))
    down = ops[SH]["health"]
    assert down["status"] == "DOWN" and down["circuitOpen"] is True
    assert "OPERATOR_UNAVAILABLE" in down["lastError"]
    assert ops[SH]["stationCount"] == 80  # the catalogue still serves what it had
    assert ops[HZ]["health"]["status"] == "UP"


def test_health_rules():
    synced = sync_state(synced=True)
    calls = RecentCalls()
    assert assess("closed", None, None).status == HealthStatus.SYNCING
    assert assess("closed", sync_state(error="refused"), None).status == HealthStatus.DOWN
    assert assess("open", synced, calls).status == HealthStatus.DOWN
    assert assess("half-open", synced, calls).status == HealthStatus.DEGRADED
    assert assess("closed", sync_state(synced=True, error="refused"), calls).status == HealthStatus.DEGRADED
    for ms in (30, 10, 20):
        calls.record(ms / 1000)
    assert assess("closed", synced, calls).status == HealthStatus.UP
    assert calls.p50_ms() == 20.0
    calls.record(0.5, OperatorUnavailable(SH, "HTTP 503"))
    degraded = assess("closed", synced, calls)
    assert degraded.status == HealthStatus.DEGRADED
    assert degraded.last_error == "OPERATOR_UNAVAILABLE: HTTP 503"
    assert calls.p50_ms() == 25.0
    for _ in range(FAILURE_WINDOW):
        calls.record(0.01)
    assert assess("closed", synced, calls).status == HealthStatus.UP  # the failure has aged out


def sync_state(*, synced: bool = False, error: str | None = None) -> SyncState:
    return SyncState(synced_at=datetime.now(UTC) if synced else None, last_error=error, stations=80)
