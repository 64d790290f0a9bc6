"""Live status: batched per operator, cached for seconds, overridden by pushes."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from gateway.settings.load import CacheSettings, Settings
from resolvers import ids
from tests.app.conftest import CENTERS, HZ, SH, Stack, poll

STATUSES = """query($lat: Float!, $lon: Float!, $r: Float!, $first: Int!) {
  stations(near: {lat: $lat, lon: $lon}, radiusKm: $r, first: $first) {
    edges { node { operator { name } connectors { id status statusUpdatedAt } } } } }"""


async def test_one_status_call_per_50_stations_per_operator(stack: Stack):
    before = {op: sim.calls["query_station_status"] for op, sim in stack.sims.items()}
    data = await stack.data(STATUSES, {"lat": 30.75, "lon": 120.8, "r": 150, "first": 100})
    edges = data["stations"]["edges"]
    per_op = {op: sum(1 for e in edges if e["node"]["operator"]["name"] == f"Test {op}") for op in stack.sims}
    assert sum(per_op.values()) == 100
    for op, sim in stack.sims.items():
        assert sim.calls["query_station_status"] - before[op] == math.ceil(per_op[op] / 50)
    assert all(c["status"] != "UNKNOWN" for e in edges for c in e["node"]["connectors"])


async def test_statuses_are_cached_between_requests(stack: Stack):
    lat, lon = CENTERS[HZ]
    first = await stack.data(STATUSES, {"lat": lat, "lon": lon, "r": 5, "first": 20})
    calls = stack.sims[HZ].calls["query_station_status"]
    second = await stack.data(STATUSES, {"lat": lat, "lon": lon, "r": 5, "first": 20})
    assert stack.sims[HZ].calls["query_station_status"] == calls
    assert second == first


class TestShortTtl:
    @pytest.fixture
    def stack_settings(self, stack_settings: Settings) -> Settings:
        return replace(stack_settings, cache=CacheSettings(status_ttl_s=0.3))

    async def test_statuses_are_fetched_again_after_the_ttl(self, stack: Stack):
        lat, lon = CENTERS[SH]
        await stack.data(STATUSES, {"lat": lat, "lon": lon, "r": 5, "first": 5})
        calls = stack.sims[SH].calls["query_station_status"]

        async def refetched() -> bool:
            await stack.data(STATUSES, {"lat": lat, "lon": lon, "r": 5, "first": 5})
            return stack.sims[SH].calls["query_station_status"] > calls

        await poll(refetched, timeout_s=5, interval_s=0.1)


async def test_a_push_changes_what_the_next_query_returns(stack: Stack):
    station = stack.sims[HZ].network.stations[0]
    connector = station.equipments[0].connectors[0]
    query = "query($id: ID!) { node(id: $id) { ... on Connector { status statusUpdatedAt } } }"
    gid = ids.connector_id(HZ, connector.id)
    before = (await stack.data(query, {"id": gid}))["node"]
    new_status, expected = (255, "FAULTED") if before["status"] != "FAULTED" else (1, "AVAILABLE")
    assert await stack.sims[HZ].set_connector_status(connector.id, new_status)  # acknowledged by us

    async def pushed():
        node = (await stack.data(query, {"id": gid}))["node"]
        return node if node["status"] == expected else None

    node = await poll(pushed, timeout_s=2)
    assert node["statusUpdatedAt"] is not None
