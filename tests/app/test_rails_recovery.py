"""Credit rails across a real kill: the gateway process (SIGKILL) dies after the rail authorised a
session and before it is completed; a restarted process completes and collects it once, and the
rail's notification of the collection, delivered twice, is applied once — on Alipay and on WeChat Pay.

Counted in the simulators' own books (what was really collected) and in the driver's bill.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.identity.bearer import issue_token
from gateway.identity.store import How, IdentityStore
from gateway.rails.alipay.sim.config import AlipaySimConfig
from gateway.rails.alipay.sim.ledger import alipay_user_id
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.rails.sim.faults import RailFaults
from gateway.rails.wechatpay.sim.config import WeChatPaySimConfig
from gateway.rails.wechatpay.sim.server import WeChatPaySimulator
from gateway.store import open_store
from operators.tcec.sim.server import SimulatorConfig, TcecSimulator
from tests.app.conftest import CENTERS, HZ, US, operator_secret, poll, secrets_for
from tests.app.test_recovery import BUREAU_KEY, JWT_KEY, ME, START, STOP, Gateway, free_port, gql
from tests.rails import conftest as rails

BILL = """query($id: ID!) { node(id: $id) { ... on ChargingSession { status maxCost { amount }
  bill { status total { amount } payments { method status amount { amount } providerReference } } } } }"""


@dataclass
class Rail:
    name: str
    sim: Any
    env: dict[str, str]
    identity: tuple[str, str]  # the sign-in provider and the user who holds alice's account

    @property
    def base(self) -> str:
        return (
            self.sim.gateway_url.removesuffix("/gateway.do") if self.name == "alipay" else self.sim.base_url
        )


@pytest.fixture(params=["alipay", "wechatpay"])
async def rail(request: pytest.FixtureRequest) -> AsyncIterator[Rail]:
    merchant, provider = rails._pair(), rails._pair()
    if request.param == "alipay":
        config = AlipaySimConfig(
            {rails.ALIPAY_APP_ID: merchant.public}, provider.private, retry_delays=(0.2, 0.5)
        )
        async with AlipaySimulator(config) as sim:
            agreement = sim.ledger.sign(rails.ALIPAY_APP_ID, "AGRalice", "alice@example.com")
            yield Rail("alipay", sim, {
                "CHARGEGATE__ALIPAY__APP_ID": rails.ALIPAY_APP_ID,
                "CHARGEGATE__ALIPAY__APP_PRIVATE_KEY": merchant.private,
                "CHARGEGATE__ALIPAY__ALIPAY_PUBLIC_KEY": provider.public,
                "CHARGEGATE__ALIPAY__ZM_SERVICE_ID": "2020000000000001",
                "CHARGEGATE__ALIPAY__GATEWAY_URL": sim.gateway_url,
                "CHARGEGATE__PAYMENTS__ENROLMENTS": f"alice=alipay:{agreement.credit_agreement_id}",
            }, ("alipay", alipay_user_id("alice@example.com")))  # fmt: skip
        return
    config = WeChatPaySimConfig(
        rails.WECHAT_MCHID, rails.WECHAT_APPID, rails.WECHAT_SERVICE_ID, rails.WECHAT_SERIAL, merchant.public,
        rails.WECHAT_APIV3_KEY, provider.private, rails.WECHAT_PLATFORM_KEY_ID, retry_delays=(0.2, 0.5),
    )  # fmt: skip
    async with WeChatPaySimulator(config) as sim:
        yield Rail("wechatpay", sim, {
            "CHARGEGATE__WECHATPAY__MCHID": rails.WECHAT_MCHID,
            "CHARGEGATE__WECHATPAY__APPID": rails.WECHAT_APPID,
            "CHARGEGATE__WECHATPAY__SERVICE_ID": rails.WECHAT_SERVICE_ID,
            "CHARGEGATE__WECHATPAY__MERCHANT_PRIVATE_KEY": merchant.private,
            "CHARGEGATE__WECHATPAY__MERCHANT_SERIAL_NO": rails.WECHAT_SERIAL,
            "CHARGEGATE__WECHATPAY__PLATFORM_PUBLIC_KEY": provider.public,
            "CHARGEGATE__WECHATPAY__PLATFORM_PUBLIC_KEY_ID": rails.WECHAT_PLATFORM_KEY_ID,
            "CHARGEGATE__WECHATPAY__APIV3_KEY": rails.WECHAT_APIV3_KEY,
            "CHARGEGATE__WECHATPAY__BASE_URL": sim.base_url,
            "CHARGEGATE__PAYMENTS__ENROLMENTS": "alice=wechatpay:o-alice",
        }, ("wechat", "o-alice"))  # fmt: skip


@pytest.fixture
async def world(
    tmp_path: Path, rail: Rail
) -> AsyncIterator[tuple[Gateway, TcecSimulator, aiohttp.ClientSession]]:
    port = free_port()
    secrets = secrets_for(HZ)
    sim = TcecSimulator(
        SimulatorConfig(
            operator_id=HZ, operator_secret=operator_secret(HZ), secrets=secrets, stations=20, seed=7,
            center=CENTERS[HZ], notify_url=f"http://127.0.0.1:{port}/push/tcec/{HZ}",
            aggregator_operator_id=US, charge_push_interval_s=0.5, time_acceleration=60.0,
            start_delay_s=0.1, order_retry_s=0.5, order_max_attempts=20,
        )
    )  # fmt: skip
    ledger = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    store = await open_store(ledger)  # alice signs in as the provider's user who holds her account
    try:
        await store.ensure_driver("alice")
        await IdentityStore(store.database).bind("alice", *rail.identity, How.LINK)
    finally:
        await store.close()
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
database_url = "{ledger}"
progress_poll_s = 0.5
[[operators]]
id = "{HZ}"
protocol = "tcec"
name = "Rails recovery test"
base_url = "{sim.base_url}"
our_operator_id = "{US}"
operator_secret = {{ env = "TEST_OP_SECRET" }}
data_secret = {{ env = "TEST_DATA_SECRET" }}
data_iv = {{ env = "TEST_DATA_IV" }}
sig_secret = {{ env = "TEST_SIG_SECRET" }}
""",
            encoding="utf-8",
        )
        env = os.environ | rail.env | {
            "TEST_JWT_KEY": JWT_KEY, "TEST_BUREAU_KEY": BUREAU_KEY, "TEST_OP_SECRET": operator_secret(HZ),
            "TEST_DATA_SECRET": secrets.data_secret, "TEST_DATA_IV": secrets.data_iv,
            "TEST_SIG_SECRET": secrets.sig_secret, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }  # fmt: skip
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


async def books(http: aiohttp.ClientSession, rail: Rail, what: str = "ledger") -> Any:
    async with http.get(f"{rail.base}/_sim/{what}") as r:
        return await r.json()


async def test_killed_between_authorise_and_complete_collects_once_and_applies_a_duplicate_once(
    world: tuple[Gateway, TcecSimulator, aiohttp.ClientSession], rail: Rail
) -> None:
    gateway, sim, http = world
    await gateway.start(http)
    connector = next(c for c in sim.network.by_connector.values() if c.status == 1 and c.is_dc)
    started = (await gql(http, gateway.url, START, {"qr": f"hlht://{connector.id}.{HZ}/"}))["startCharging"]
    assert started["__typename"] == "ChargingSession", started
    assert len((await books(http, rail))["orders"]) == 1  # authorised on the rail

    async def charging() -> bool:
        nodes = (await gql(http, gateway.url, ME))["me"]["sessions"]["nodes"]
        return bool(nodes) and nodes[0]["status"] == "CHARGING" and Decimal(nodes[0]["energyKwh"]) > 0

    await poll(charging, timeout_s=15)
    gateway.kill()  # SIGKILL between the authorisation and the completion
    rail.sim.faults = RailFaults(duplicate_notifications=True)  # the collection is notified twice
    await gateway.start(http)
    assert (await gql(http, gateway.url, STOP, {"id": started["id"]}))["stopCharging"]["__typename"] == (
        "ChargingSession"
    )

    async def paid() -> Any:
        node = (await gql(http, gateway.url, BILL, {"id": started["id"]}))["node"]
        return node if node["bill"] and node["bill"]["status"] == "PAID" else None

    bill = (await poll(paid, timeout_s=40, interval_s=0.2))["bill"]
    [payment] = bill["payments"]  # one payment, settled once, whatever was delivered
    assert (payment["method"], payment["status"]) == ("PROVIDER", "SETTLED")

    async def both_acknowledged() -> Any:
        deliveries = [d for d in await books(http, rail, "notifications") if d["acknowledged"]]
        return deliveries if len(deliveries) >= 2 else None

    deliveries = await poll(both_acknowledged, timeout_s=15)
    assert len({d["notification_id"] for d in deliveries}) < len(deliveries)  # the same one, twice
    after = (await gql(http, gateway.url, BILL, {"id": started["id"]}))["node"]["bill"]
    assert after["payments"] == bill["payments"]  # the duplicate changed nothing
    assert Decimal((await books(http, rail))["collected"]) == Decimal(bill["total"]["amount"]) > 0
