"""Twenty identical concurrent status requests cost the operator one call (single-flight)."""

from __future__ import annotations

import asyncio

from operators.tcec.sim.faults import Faults
from tests.app.conftest import CENTERS, HZ, Stack

STATUSES = """query($lat: Float!, $lon: Float!) {
  stations(near: {lat: $lat, lon: $lon}, radiusKm: 5, first: 3) {
    edges { node { id connectors { id status currentPrice { totalPerKwh { amount } } } } } } }"""


async def test_twenty_identical_requests_make_one_upstream_call(stack: Stack):
    lat, lon = CENTERS[HZ]
    sim = stack.sims[HZ]
    sim.faults = Faults(latency_ms=200)  # every request arrives while the first call is in flight
    before = {name: sim.calls[name] for name in ("query_station_status", "query_equip_business_policy")}
    answers = await asyncio.gather(*(stack.data(STATUSES, {"lat": lat, "lon": lon}) for _ in range(20)))
    assert all(answer == answers[0] for answer in answers)
    edges = answers[0]["stations"]["edges"]
    assert edges and all(c["status"] != "UNKNOWN" for e in edges for c in e["node"]["connectors"])
    assert sim.calls["query_station_status"] - before["query_station_status"] == 1
    connectors = sum(len(e["node"]["connectors"]) for e in edges)  # T/CEC asks tariffs per connector
    assert sim.calls["query_equip_business_policy"] - before["query_equip_business_policy"] == connectors
