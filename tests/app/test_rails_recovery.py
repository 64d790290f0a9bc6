"""Credit rails across a real kill: the gateway process (SIGKILL) dies after the rail authorised a
session and before it is completed; a restarted process completes and collects it once, and the
rail's notification of the collection, delivered twice, is applied once — on Alipay and on WeChat Pay.

Counted in the simulators' own books (what was really collected) and in the driver's bill.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.identity.store import How, IdentityStore
from gateway.rails.alipay.sim.config import AlipaySimConfig
from gateway.rails.alipay.sim.ledger import alipay_user_id
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.sim.faults import RailFaults
from gateway.rails.wechatpay.sim.config import WeChatPaySimConfig
from gateway.rails.wechatpay.sim.server import WeChatPaySimulator
from gateway.store import open_store
from operators.tcec.sim.server import TcecSimulator
from tests.app.conftest import HZ, poll
from tests.app.test_recovery import ME, START, STOP, gateway_world, gql
from tests.rails import conftest as rails
from tests.servers import GatewayProcess

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
) -> AsyncIterator[tuple[GatewayProcess, TcecSimulator, aiohttp.ClientSession]]:
    async with gateway_world(tmp_path, "Rails recovery test", **rail.env) as world:
        # alice signs in as the provider's user who holds her account
        store = await open_store(world[0].env["TEST_DATABASE_URL"])
        try:
            await store.ensure_driver("alice")
            await IdentityStore(store.database).bind("alice", *rail.identity, How.LINK)
        finally:
            await store.close()
        yield world


async def books(http: aiohttp.ClientSession, rail: Rail, what: str = "ledger") -> Any:
    async with http.get(f"{rail.base}/_sim/{what}") as r:
        return await r.json()


async def test_killed_between_authorise_and_complete_collects_once_and_applies_a_duplicate_once(
    world: tuple[GatewayProcess, TcecSimulator, aiohttp.ClientSession], rail: Rail
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
