"""Fault injection in the T/CEC simulator: set at construction, at run time and over HTTP."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from operators.tcec import codec
from operators.tcec.sim.faults import Faults

STATUS = ("query_station_status", {"StationIDs": []})


async def test_error_and_busy_rates(sim_start, sim_client_for):
    sim = await sim_start(faults=Faults(error_rate=1.0))
    client = sim_client_for(sim)
    response = await client.call(
        "query_token", {"OperatorID": "MA1AGGR01", "OperatorSecret": "op-secret-16byte"}
    )
    assert response.ret == 500 and response.msg == "系统错误" and response.data is None
    sim.faults = Faults(busy_rate=1.0)
    assert (await client.call(*STATUS)).ret == -1
    sim.faults = Faults()
    assert (await client.call(*STATUS)).ret == 4002  # back to normal: no token yet


async def test_bad_signature_and_malformed_data(sim_start, sim_client_for, sim_secrets):
    sim = await sim_start()
    client = sim_client_for(sim)
    token = await client.token()
    envelope = codec.build_request("MA1AGGR01", {"StationIDs": []}, sim_secrets)
    sim.faults = Faults(bad_signature_rate=1.0)
    _, body = await client.raw("query_station_status", envelope, token)
    with pytest.raises(codec.SignatureError):
        codec.parse_response(body, sim_secrets)
    sim.faults = Faults(malformed_data_rate=1.0)
    for _ in range(6):  # every variant (not Base64, not whole blocks, not JSON) is correctly signed
        _, body = await client.raw("query_station_status", envelope, token)
        with pytest.raises(codec.CodecError) as caught:
            codec.parse_response(body, sim_secrets)
        assert not isinstance(caught.value, codec.SignatureError)


async def test_latency(sim_start, sim_client_for):
    sim = await sim_start(faults=Faults(latency_ms=150))
    client = sim_client_for(sim)
    started = time.monotonic()
    await client.call(*STATUS)
    assert time.monotonic() - started >= 0.15


async def test_down_gives_http_503(sim_start, sim_client_for):
    sim = await sim_start(faults=Faults(down=True))
    status, _ = await sim_client_for(sim).raw(*STATUS)
    assert status == 503
    assert sim.calls["query_station_status"] == 1


async def test_timeout_hangs_but_does_not_block_stop(sim_start, sim_http):
    sim = await sim_start(faults=Faults(timeout_rate=1.0))
    envelope = codec.build_request(
        "MA1AGGR01", {"StationIDs": []}, codec.Secrets("a" * 16, "b" * 16, "c" * 16)
    )
    with pytest.raises(asyncio.TimeoutError):
        async with sim_http.post(f"{sim.base_url}/query_station_status", json=envelope,
                                 timeout=aiohttp.ClientTimeout(total=0.3)):  # fmt: skip
            pass
    started = time.monotonic()
    await sim.stop()
    assert time.monotonic() - started < 3


async def test_dropped_pushes(sim_start, sim_receiver):
    sim = await sim_start(notify_url=sim_receiver.url, faults=Faults(drop_push_rate=1.0))
    connector = next(iter(sim.network.by_connector))
    assert await sim.set_connector_status(connector, 2) is False
    assert sim_receiver.received["notification_stationStatus"] == [] and sim_receiver.token_requests == 0


async def test_faults_are_deterministic_for_a_seed(sim_start, sim_client_for):
    async def sequence(sim) -> list[int]:
        client = sim_client_for(sim)
        return [(await client.call(*STATUS)).ret for _ in range(12)]

    first = await sequence(await sim_start(faults=Faults(error_rate=0.5)))
    second = await sequence(await sim_start(faults=Faults(error_rate=0.5)))
    assert first == second and set(first) == {500, 4002}


async def test_faults_over_http(sim_start, sim_http, sim_client_for):
    sim = await sim_start()
    root = f"http://127.0.0.1:{sim.port}"
    async with sim_http.get(f"{root}/_sim/faults") as resp:
        assert (await resp.json())["error_rate"] == 0
    async with sim_http.post(f"{root}/_sim/faults", json={"error_rate": 1, "latency_ms": 5}) as resp:
        assert resp.status == 200
        assert (await resp.json()) | {} == Faults(error_rate=1.0, latency_ms=5.0).to_json()
    assert sim.faults == Faults(error_rate=1.0, latency_ms=5.0)
    assert (await sim_client_for(sim).call(*STATUS)).ret == 500
    async with sim_http.post(
        f"{sim.base_url}/_sim/faults", json={"error_rate": 0}
    ) as resp:  # under the prefix too
        assert (await resp.json())["latency_ms"] == 5  # a partial update keeps the other fields
    for bad in ({"error_rate": 2}, {"nonsense": 1}, {"down": "yes"}):
        async with sim_http.post(f"{root}/_sim/faults", json=bad) as resp:
            assert resp.status == 400, bad
    async with sim_http.post(f"{root}/_sim/faults", json={"down": True}) as resp:
        assert resp.status == 200
    async with sim_http.get(f"{root}/_sim/network") as resp:  # admin endpoints ignore faults
        summary = await resp.json()
    assert summary["stations"] == 40 and summary["OperatorID"] == "MA1SIMTC1"
    connector_id = summary["sampleConnectorIDs"][0]
    async with sim_http.post(
        f"{root}/_sim/connector_status", json={"ConnectorID": connector_id, "Status": 4}
    ) as resp:
        assert (await resp.json()) == {"pushed": False}
    assert sim.network.by_connector[connector_id].status == 4
