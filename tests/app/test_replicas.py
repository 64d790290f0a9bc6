"""Two gateway replicas behind one Redis and one PostgreSQL (docs/deployment.md), as real OS processes.

Replica A and replica B run ``python -m gateway.app.cli serve --config FILE``, each on its own port, with
the same settings: ``cache.backend = "redis"`` on the suite's redis-server and a ledger database of
their own on the suite's PostgreSQL server (both started by ``tests/servers.py``). The T/CEC operator
and the credit bureau are simulators in this process; the operator pushes to replica A only. What
A learns from a push must show through B: a connector's status (shared cache), a session and its
live progress (shared ledger, session updates fanned in over Redis pub/sub). One replica at a time
holds the reconciliation lease, and the other takes it over when the holder is killed. Rate limits
are one budget across both.

Two in-process tests check station pushes (OCPI location PUT) reaching the other replica's
catalogue, and OCPI on several replicas: one credentials handshake, and a receiver store in Redis,
so a PATCH may reach the replica that never saw the PUT.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from gateway.identity.bearer import issue_token
from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.security.apikeys import create_key
from gateway.settings.load import CacheSettings, Settings
from operators.ocpi import auth as ocpi_auth
from operators.ocpi import codec as ocpi_codec
from operators.ocpi.sim.server import OcpiSimulator
from operators.tcec.sim.server import TcecSimulator
from resolvers import ids
from tests.app.conftest import CENTERS, HZ, OCPI, poll, running_stack
from tests.app.test_recovery import operator
from tests.servers import GatewayProcess, free_port, gateway_config, gateway_env, postgres_database

JWT_KEY = "replicas-test-jwt-key-0123456789-abcdefgh"
BUREAU_KEY = "replicas-bureau-key"
PEPPER = "replicas-test-key-pepper-0123456789"
LEASE_TTL_S = 1.0
LIMITED_BURST = 4
LEASE_METRIC = re.compile(r'^chargegate_lease_held\{lease="sessions"\} (\S+)$', re.M)

STATUS = "query($id: ID!) { node(id: $id) { ... on Connector { status statusUpdatedAt } } }"
START = """mutation($qr: String!) { startCharging(input: {qrCode: $qr, idempotencyKey: "replicas-1"}) {
  __typename ... on ChargingSession { id status } ... on Error { message } } }"""
STOP = "mutation($id: ID!) { stopCharging(input: {sessionId: $id}) { __typename } }"
SESSION = """query($id: ID!) { node(id: $id) { ... on ChargingSession { id status energyKwh
  bill { total { amount } } } } }"""
MY_SESSIONS = "{ me { sessions { nodes { id status } } } }"
SUBSCRIBE = """subscription($id: ID!) { chargingSession(id: $id) { status energyKwh } }"""


class Replica(GatewayProcess):
    """One gateway process of the pair, with what the tests ask of a replica."""

    async def holds_lease(self, http: aiohttp.ClientSession) -> bool:
        async with http.get(f"{self.url}/metrics") as r:
            found = LEASE_METRIC.search(await r.text())
        return bool(found and float(found.group(1)) == 1.0)

    async def post(self, http: aiohttp.ClientSession, query: str, variables: dict | None = None, **kw):
        async with http.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, **kw) as r:
            return r.status, await r.json()

    async def data(self, http: aiohttp.ClientSession, query: str, variables: dict | None = None, **kw):
        status, body = await self.post(http, query, variables, **kw)
        assert status == 200 and not body.get("errors"), (status, body)
        return body["data"]


@dataclass
class World:
    a: Replica
    b: Replica
    sim: TcecSimulator
    http: aiohttp.ClientSession
    redis: aioredis.Redis
    lease_key: str
    limited_key: str


@pytest.fixture
async def ledger_url(postgres_server_url: str) -> AsyncIterator[str]:
    async with postgres_database(postgres_server_url, "replicas") as url:
        yield url


@pytest.fixture
async def world(tmp_path: Path, redis_server_url: str, ledger_url: str) -> AsyncIterator[World]:
    ports = {"a": free_port(), "b": free_port()}
    prefix = f"replicas-{uuid.uuid4().hex[:10]}"
    limited = create_key(["stations:read"], PEPPER, name="Limited", key_id="limited")
    sim = operator(ports["a"], time_acceleration=120.0, order_max_attempts=5)  # pushes reach replica A only
    env = gateway_env(
        sim, database_url=ledger_url, jwt_key=JWT_KEY, bureau_key=BUREAU_KEY,
        TEST_REDIS_URL=redis_server_url, TEST_KEY_PEPPER=PEPPER,
    )  # fmt: skip
    sections = f"""[cache]
backend = "redis"
redis_url = {{ env = "TEST_REDIS_URL" }}
redis_prefix = "{prefix}"
redis_lease_ttl_s = {LEASE_TTL_S}
status_ttl_s = 300
[security]
key_hash_secret = {{ env = "TEST_KEY_PEPPER" }}
anonymous_rate_per_s = 0
{limited.toml()}rate_per_s = 0.001
burst = {LIMITED_BURST}
"""
    async with sim, CreditBureauSimulator(BureauConfig(api_key=BUREAU_KEY)) as bureau:
        replicas = {}
        for name, port in ports.items():
            config = tmp_path / f"replica-{name}.toml"
            toml = gateway_config(
                port,
                sim,
                bureau.base_url,
                "Replicas test",
                gateway="request_deadline_s = 3.0\n",
                sections=sections,
            )
            config.write_text(toml, encoding="utf-8")
            replicas[name] = Replica(name, config, port, env, tmp_path / f"replica-{name}.log")
        redis = aioredis.Redis.from_url(redis_server_url)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            try:
                yield World(
                    replicas["a"],
                    replicas["b"],
                    sim,
                    http,
                    redis,
                    f"{prefix}:lease:sessions",
                    limited.key,
                )
            finally:
                for replica in replicas.values():
                    replica.stop()
                keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
                if keys:
                    await redis.delete(*keys)
                await redis.aclose()


async def test_two_replicas_share_pushes_sessions_limits_and_one_lease(world: World):
    a, b, http = world.a, world.b, world.http
    # A starts first and takes the reconciliation lease; B, started next, must leave it to A. So
    # every session update B's subscriber sees below came from A through the fan-in.
    await a.start(http)
    await poll(lambda: a.holds_lease(http), timeout_s=10, interval_s=0.1)
    await b.start(http)
    await asyncio.sleep(3 * LEASE_TTL_S)  # B has had several chances to take the lease
    assert await a.holds_lease(http) and not await b.holds_lease(http)
    holder = (await world.redis.get(world.lease_key)).decode()
    assert holder.startswith(f"{socket.gethostname()}:{a.process.pid}:"), holder

    # -- a status pushed to A is what B answers, from the shared cache --------------------------
    station = world.sim.network.stations[0]
    connector = station.equipments[0].connectors[0]
    gid = ids.connector_id(HZ, connector.id)
    before = (await b.data(http, STATUS, {"id": gid}))["node"]  # B polls once; cached for 300 s
    polls = world.sim.calls["query_station_status"]
    new_status, expected = (255, "FAULTED") if before["status"] != "FAULTED" else (1, "AVAILABLE")
    assert await world.sim.set_connector_status(connector.id, new_status)  # acknowledged by A

    async def b_sees_the_push():
        node = (await b.data(http, STATUS, {"id": gid}))["node"]
        return node if node["status"] == expected else None

    await poll(b_sees_the_push, timeout_s=5, interval_s=0.1)
    assert world.sim.calls["query_station_status"] == polls  # B did not ask the operator again

    # -- one rate-limit budget across both replicas --------------------------------------------
    limited = {"X-Api-Key": world.limited_key}
    codes = [(await r.post(http, "{ operators { id } }", headers=limited))[0] for r in (a, b, a, b, b, a)]
    assert codes == [200] * LIMITED_BURST + [429, 429]

    # -- a session started on A is B's too, and B's subscriber follows A's pushes --------------
    alice = {"Authorization": f"Bearer {issue_token('alice', JWT_KEY)}"}
    idle = next(c for c in world.sim.network.by_connector.values() if c.status == 1 and c.is_dc)
    started = (await a.data(http, START, {"qr": f"hlht://{idle.id}.{HZ}/"}, headers=alice))["startCharging"]
    assert started["__typename"] == "ChargingSession", started
    mine = (await b.data(http, MY_SESSIONS, headers=alice))["me"]["sessions"]["nodes"]
    assert [s["id"] for s in mine] == [started["id"]]
    bob = {"Authorization": f"Bearer {issue_token('bob', JWT_KEY)}"}
    assert (await b.data(http, SESSION, {"id": started["id"]}, headers=bob))["node"] is None  # alice's only

    updates = await follow_on(b, http, alice, started["id"], stop_via=b)
    assert updates[-1]["status"] == "COMPLETED"
    energies = [Decimal(u["energyKwh"]) for u in updates]
    assert len(updates) >= 3 and energies == sorted(energies) and energies[-1] > 0

    async def billed():
        node = (await b.data(http, SESSION, {"id": started["id"]}, headers=alice))["node"]
        return node if node["bill"] else None

    node = await poll(billed, timeout_s=10, interval_s=0.1)
    assert Decimal(node["bill"]["total"]["amount"]) > 0
    assert world.sim.calls["query_start_charge"] == 1

    # -- the holder dies without a word; the other replica takes the lease over ----------------
    a.kill()
    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    await poll(lambda: b.holds_lease(http), timeout_s=10 * LEASE_TTL_S, interval_s=0.1)
    assert loop.time() - killed_at >= LEASE_TTL_S * 0.5  # not before A's key could expire
    holder = (await world.redis.get(world.lease_key)).decode()
    assert holder.startswith(f"{socket.gethostname()}:{b.process.pid}:"), holder


async def follow_on(replica: Replica, http, headers, session_id: str, *, stop_via: Replica) -> list[dict]:
    """Subscribe on ``replica`` until the session ends, stopping it once it is charging."""
    updates: list[dict] = []
    async with http.ws_connect(f"{replica.url}/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": headers})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"id": session_id}}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        stopped = False
        while True:
            message = await ws.receive_json(timeout=20)
            if message["type"] == "complete":
                return updates
            assert message["type"] == "next" and "errors" not in message["payload"], message
            update = message["payload"]["data"]["chargingSession"]
            updates.append(update)
            if update["status"] == "CHARGING" and Decimal(update["energyKwh"]) > 0 and not stopped:
                status, body = await stop_via.post(http, STOP, {"id": session_id}, headers=headers)
                assert status == 200 and body["data"]["stopCharging"]["__typename"] == "ChargingSession"
                stopped = True


async def test_a_station_pushed_to_one_replica_reaches_the_others_catalogue(
    stack_settings: Settings, redis_server_url: str
):
    """Two in-process replicas (each with its own copy of the same simulated operators) on one
    Redis: an OCPI location PUT received by A renames the station in B's catalogue too."""
    cache = CacheSettings(
        backend="redis", redis_url=redis_server_url, redis_prefix=f"st-{uuid.uuid4().hex[:8]}"
    )
    settings = replace(stack_settings, cache=cache)
    async with (
        running_stack(settings, ocpi_stations=3) as one,
        running_stack(settings, ocpi_stations=3) as two,
    ):
        assert one.ocpi is not None and two.ocpi is not None
        location_id = sorted(one.ocpi.locations)[0]
        gid = ids.station_id(OCPI, location_id)
        query = "query($id: ID!) { node(id: $id) { ... on Station { name } } }"
        assert (await two.data(query, {"id": gid}))["node"]["name"] != "Renamed by a push"

        location = dict(one.ocpi.locations[location_id], name="Renamed by a push")
        cc, party = one.ocpi.config.country_code, one.ocpi.config.party_id
        assert await one.ocpi.push("PUT", "locations", f"/{cc}/{party}/{location_id}", location) == 200
        assert (await one.data(query, {"id": gid}))["node"]["name"] == "Renamed by a push"

        async def renamed_on_two():
            return (await two.data(query, {"id": gid}))["node"]["name"] == "Renamed by a push"

        await poll(renamed_on_two, timeout_s=5, interval_s=0.05)


async def test_ocpi_registers_once_and_a_patch_may_reach_the_replica_that_missed_the_put(
    stack_settings: Settings, redis_server_url: str
):
    """Two in-process replicas on one Redis, both connected to one OCPI CPO: the credentials
    handshake runs once (the second replica uses the registration the first left in Redis; token A
    is spent), and objects the CPO PUTs on one replica can be PATCHed and read on the other."""
    cache = CacheSettings(
        backend="redis", redis_url=redis_server_url, redis_prefix=f"oc-{uuid.uuid4().hex[:8]}"
    )
    settings = replace(stack_settings, cache=cache)
    cpo = OcpiSimulator(stations=3, seed=9, center=CENTERS["MA1SHTEST"], push=False)
    async with (
        cpo,
        running_stack(settings, ocpi_sim=cpo) as one,
        running_stack(settings, ocpi_sim=cpo) as two,
    ):
        assert cpo.calls["credentials"] == 1 and cpo.token_b is not None  # one POST, on one replica
        b = {"Authorization": ocpi_auth.header(cpo.token_b), "Content-Type": "application/json"}

        async def send(stack, method: str, path: str, body=None) -> tuple[int, dict]:
            url = f"{stack.url}/ocpi/{OCPI}/2.2.1{path}"
            data = None if body is None else ocpi_codec.dumps(body)
            async with stack.http.request(method, url, headers=b, data=data) as r:
                return r.status, await r.json()

        # A location no pull has seen: PUT on one replica, PATCHed on the other.
        location = dict(next(iter(cpo.locations.values())), id="PUSHED1", name="Pushed location")
        evse = location["evses"][0]
        assert (await send(one, "PUT", "/locations/CN/SHA/PUSHED1", location))[0] == 201
        patch = {"status": "CHARGING", "last_updated": "2026-12-02T12:00:00Z"}
        status, body = await send(two, "PATCH", f"/locations/CN/SHA/PUSHED1/{evse['uid']}", patch)
        assert (status, body["status_code"]) == (200, 1000)
        status, body = await send(one, "GET", f"/locations/CN/SHA/PUSHED1/{evse['uid']}")
        assert body["data"]["status"] == "CHARGING"

        # A session PUT on one and PATCHed on the other.
        token = {
            "country_code": "CN",
            "party_id": "CGW",
            "uid": "u1",
            "type": "AD_HOC_USER",
            "contract_id": "u1",
        }
        session = {"country_code": "CN", "party_id": "SHA", "id": "S-REPL-1", "kwh": 0, "cdr_token": token}
        session |= {"start_date_time": "2026-12-02T11:00:00Z", "last_updated": "2026-12-02T11:00:00Z"}
        session |= {"auth_method": "COMMAND", "location_id": "PUSHED1", "evse_uid": evse["uid"]}
        session |= {"connector_id": evse["connectors"][0]["id"], "currency": "CNY", "status": "ACTIVE"}
        assert (await send(one, "PUT", "/sessions/CN/SHA/S-REPL-1", session))[0] == 201
        assert (
            await send(
                two,
                "PATCH",
                "/sessions/CN/SHA/S-REPL-1",
                {"kwh": 4.5, "last_updated": "2026-12-02T11:30:00Z"},
            )
        )[0] == 200
        status, body = await send(one, "GET", "/sessions/CN/SHA/S-REPL-1")
        assert body["data"]["kwh"] == 4.5 and body["data"]["status"] == "ACTIVE"
