"""Nothing lost, nothing twice: kill the gateway process mid-session, restart it, finish the session.

The gateway runs as a real OS process (``python -m gateway.app.cli serve --config …``) with a SQLite
ledger on disk; the T/CEC operator and the credit bureau are simulators in this test's process and
keep running while the gateway is dead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.identity.bearer import issue_token
from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from operators.tcec.sim.server import SimulatorConfig, TcecSimulator
from tests.app.conftest import CENTERS, HZ, US, operator_secret, poll, secrets_for
from tests.servers import GatewayProcess, free_port, gateway_config, gateway_env

JWT_KEY = "recovery-test-jwt-key-0123456789-abcdefgh"
BUREAU_KEY = "recovery-bureau-key"
START = """mutation($qr: String!) { startCharging(input: {qrCode: $qr, idempotencyKey: "kill-1"}) {
  __typename ... on ChargingSession { id status } ... on Error { message } } }"""
STOP = "mutation($id: ID!) { stopCharging(input: {sessionId: $id}) { __typename } }"
ME = """{ me { sessions { nodes { id status energyKwh } } bills { nodes { id total { amount }
  lines { amount { amount } } } } } }"""


def operator(port: int, **overrides: Any) -> TcecSimulator:
    """The Hangzhou operator (20 stations, time sped up), pushing to a gateway on ``port``."""
    fields: dict[str, Any] = dict(
        operator_id=HZ, operator_secret=operator_secret(HZ), secrets=secrets_for(HZ), stations=20, seed=7,
        center=CENTERS[HZ], notify_url=f"http://127.0.0.1:{port}/push/tcec/{HZ}", aggregator_operator_id=US,
        charge_push_interval_s=0.5, time_acceleration=60.0, start_delay_s=0.1, order_retry_s=0.5,
        order_max_attempts=20,
    )  # fmt: skip
    return TcecSimulator(SimulatorConfig(**fields | overrides))


@asynccontextmanager
async def gateway_world(
    tmp_path: Path, name: str, **env: str
) -> AsyncIterator[tuple[GatewayProcess, TcecSimulator, aiohttp.ClientSession]]:
    """A gateway process (not started yet) on a SQLite ledger in ``tmp_path``, over the Hangzhou
    operator and the credit bureau (simulators in this process, running while the gateway is dead),
    with ``env`` added to its environment; and a client session signed in as alice."""
    port = free_port()
    sim = operator(port)
    config = tmp_path / "gateway.toml"
    async with sim, CreditBureauSimulator(BureauConfig(api_key=BUREAU_KEY)) as bureau:
        config.write_text(gateway_config(port, sim, bureau.base_url, name), encoding="utf-8")
        ledger = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
        environment = gateway_env(sim, database_url=ledger, jwt_key=JWT_KEY, bureau_key=BUREAU_KEY, **env)
        gateway = GatewayProcess("gateway", config, port, environment, tmp_path / "gateway.log", "warning")
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {issue_token('alice', JWT_KEY)}"}
        ) as http:
            try:
                yield gateway, sim, http
            finally:
                gateway.stop()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[GatewayProcess, TcecSimulator, aiohttp.ClientSession]]:
    async with gateway_world(tmp_path, "Recovery test") as world:
        yield world


async def gql(http: aiohttp.ClientSession, url: str, query: str, variables: dict | None = None) -> dict:
    async with http.post(f"{url}/graphql", json={"query": query, "variables": variables}) as r:
        body = await r.json()
    assert not body.get("errors"), body
    return body["data"]


async def test_killed_mid_session_then_restarted_finds_one_session_and_one_bill(world):
    gateway, sim, http = world
    await gateway.start(http)
    connector = next(c for c in sim.network.by_connector.values() if c.status == 1 and c.is_dc)
    qr = f"hlht://{connector.id}.{HZ}/"
    started = (await gql(http, gateway.url, START, {"qr": qr}))["startCharging"]
    assert started["__typename"] == "ChargingSession", started

    async def charging():
        nodes = (await gql(http, gateway.url, ME))["me"]["sessions"]["nodes"]
        return (
            nodes
            if nodes and nodes[0]["status"] == "CHARGING" and Decimal(nodes[0]["energyKwh"]) > 0
            else None
        )

    before = (await poll(charging, timeout_s=15))[0]
    gateway.kill()  # SIGKILL: no shutdown hook runs
    await asyncio.sleep(0)
    energy_at_kill = Decimal(before["energyKwh"])

    await gateway.start(http)
    again = (await gql(http, gateway.url, START, {"qr": qr}))["startCharging"]
    assert again["id"] == started["id"]  # the idempotency key survived the restart
    assert sim.calls["query_start_charge"] == 1

    async def caught_up():  # reconciliation asks the operator about the session left mid-way
        nodes = await charging()
        return nodes if nodes and Decimal(nodes[0]["energyKwh"]) > energy_at_kill else None

    nodes = await poll(caught_up, timeout_s=15)
    assert [n["id"] for n in nodes] == [started["id"]]

    assert (await gql(http, gateway.url, STOP, {"id": started["id"]}))["stopCharging"]["__typename"] == (
        "ChargingSession"
    )

    async def billed():
        me = (await gql(http, gateway.url, ME))["me"]
        return me if me["bills"]["nodes"] and me["sessions"]["nodes"][0]["status"] == "COMPLETED" else None

    me = await poll(billed, timeout_s=20)
    assert len(me["sessions"]["nodes"]) == 1
    assert len(me["bills"]["nodes"]) == 1
    bill = me["bills"]["nodes"][0]
    assert sum(Decimal(line["amount"]["amount"]) for line in bill["lines"]) == Decimal(
        bill["total"]["amount"]
    )


async def test_killed_while_the_final_order_is_on_its_way_bills_once(world):
    gateway, sim, http = world
    await gateway.start(http)
    connector = next(c for c in sim.network.by_connector.values() if c.status == 1 and c.is_dc)
    started = (await gql(http, gateway.url, START, {"qr": f"hlht://{connector.id}.{HZ}/"}))["startCharging"]

    async def charging():
        nodes = (await gql(http, gateway.url, ME))["me"]["sessions"]["nodes"]
        return nodes and nodes[0]["status"] == "CHARGING"

    await poll(charging, timeout_s=15)
    await gql(http, gateway.url, STOP, {"id": started["id"]})
    gateway.kill()  # the operator's order push now fails and is re-sent with back-off
    await gateway.start(http)

    async def billed():
        me = (await gql(http, gateway.url, ME))["me"]
        return me if me["bills"]["nodes"] else None

    me = await poll(billed, timeout_s=30)
    assert len(me["bills"]["nodes"]) == 1 and len(me["sessions"]["nodes"]) == 1

    async def acknowledged():  # the order reached us as a push, answered after it was billed
        return sim.pushes["notification_charge_order_info"] >= 1

    await poll(acknowledged, timeout_s=10)
