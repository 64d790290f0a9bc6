"""Nothing lost, nothing twice: kill the gateway process mid-session, restart it, finish the session.

The gateway runs as a real OS process (``python -m gateway.app.cli serve --config …``) with a SQLite
ledger on disk; the T/CEC operator and the credit bureau are simulators in this test's process and
keep running while the gateway is dead.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from gateway.app.server import bind
from gateway.identity.bearer import issue_token
from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from operators.tcec.sim.server import SimulatorConfig, TcecSimulator
from tests.app.conftest import CENTERS, HZ, US, operator_secret, poll, secrets_for

JWT_KEY = "recovery-test-jwt-key-0123456789-abcdefgh"
BUREAU_KEY = "recovery-bureau-key"
START = """mutation($qr: String!) { startCharging(input: {qrCode: $qr, idempotencyKey: "kill-1"}) {
  __typename ... on ChargingSession { id status } ... on Error { message } } }"""
STOP = "mutation($id: ID!) { stopCharging(input: {sessionId: $id}) { __typename } }"
ME = """{ me { sessions { nodes { id status energyKwh } } bills { nodes { id total { amount }
  lines { amount { amount } } } } } }"""


def free_port() -> int:
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    return port


class Gateway:
    """One gateway process; ``start()`` again after ``kill()`` is a restart on the same ledger."""

    def __init__(self, config: Path, port: int, env: dict[str, str]) -> None:
        self.config, self.port, self.env = config, port, env
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, http: aiohttp.ClientSession) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.app.cli",
                "serve",
                "--config",
                str(self.config),
                "--log-level",
                "warning",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        async def ready() -> bool:
            assert self.process is not None and self.process.poll() is None, "gateway exited"
            try:
                async with http.get(f"{self.url}/readyz") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await poll(ready, timeout_s=30, interval_s=0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Gateway, TcecSimulator, aiohttp.ClientSession]]:
    port = free_port()
    secrets = secrets_for(HZ)
    sim = TcecSimulator(
        SimulatorConfig(
            operator_id=HZ,
            operator_secret=operator_secret(HZ),
            secrets=secrets,
            stations=20,
            seed=7,
            center=CENTERS[HZ],
            notify_url=f"http://127.0.0.1:{port}/push/tcec/{HZ}",
            aggregator_operator_id=US,
            charge_push_interval_s=0.5,
            time_acceleration=60.0,
            start_delay_s=0.1,
            order_retry_s=0.5,
            order_max_attempts=20,
        )
    )
    config = tmp_path / "gateway.toml"
    async with sim, CreditBureauSimulator(BureauConfig(api_key=BUREAU_KEY)) as bureau:
        config.write_text(
            f"""
[gateway]
port = {port}
mode = "dev"
[auth]
jwt_key = {{ env = "TEST_JWT_KEY" }}
[credit]
bureau_url = "{bureau.base_url}"
bureau_api_key = {{ env = "TEST_BUREAU_KEY" }}
[ledger]
database_url = "sqlite+aiosqlite:///{tmp_path / "ledger.sqlite3"}"
progress_poll_s = 0.5
[[operators]]
id = "{HZ}"
protocol = "tcec"
name = "Recovery test"
base_url = "{sim.base_url}"
our_operator_id = "{US}"
operator_secret = {{ env = "TEST_OP_SECRET" }}
data_secret = {{ env = "TEST_DATA_SECRET" }}
data_iv = {{ env = "TEST_DATA_IV" }}
sig_secret = {{ env = "TEST_SIG_SECRET" }}
""",
            encoding="utf-8",
        )
        env = os.environ | {
            "TEST_JWT_KEY": JWT_KEY,
            "TEST_BUREAU_KEY": BUREAU_KEY,
            "TEST_OP_SECRET": operator_secret(HZ),
            "TEST_DATA_SECRET": secrets.data_secret,
            "TEST_DATA_IV": secrets.data_iv,
            "TEST_SIG_SECRET": secrets.sig_secret,
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        gateway = Gateway(config, port, env)
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {issue_token('alice', JWT_KEY)}"}
        ) as http:
            try:
                yield gateway, sim, http
            finally:
                if gateway.process is not None and gateway.process.poll() is None:
                    gateway.process.terminate()
                    gateway.process.wait(timeout=10)


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
