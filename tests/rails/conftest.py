"""Fixtures for the rails: keys generated at test time, a client session, and a merchant endpoint
on loopback that receives the simulators' notifications."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.rails.alipay.client import AlipayClient, AlipayConfig
from gateway.rails.alipay.sim.config import AlipaySimConfig
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.keys import private_pem, public_pem
from gateway.rails.wechatpay.client import WeChatPayClient, WeChatPayConfig
from gateway.rails.wechatpay.sim.config import WeChatPaySimConfig
from gateway.rails.wechatpay.sim.server import WeChatPaySimulator


@dataclass(frozen=True)
class KeyPair:
    private: str  # PKCS#8 PEM
    public: str  # SubjectPublicKeyInfo PEM
    key: rsa.RSAPrivateKey


def _pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(private_pem(key), public_pem(key.public_key()), key)


@pytest.fixture(scope="session")
def merchant_keys() -> KeyPair:
    """The merchant's (our) key pair."""
    return _pair()


@pytest.fixture(scope="session")
def provider_keys() -> KeyPair:
    """The provider's (Alipay's or WeChat Pay's) key pair."""
    return _pair()


@pytest.fixture(scope="session")
def stranger_keys() -> KeyPair:
    """Somebody else's key pair: everything signed with it must be refused."""
    return _pair()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class Received:
    """One notification as the merchant endpoint received it."""

    headers: dict[str, str]
    body: bytes


@dataclass
class MerchantEndpoint:
    """Receives notifications on loopback; ``answer`` decides each reply (default: acknowledge)."""

    url: str
    received: list[Received] = field(default_factory=list)
    answer: Callable[[Received], Awaitable[web.Response]] | None = None

    async def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Poll until ``count`` notifications have arrived (deadline ``timeout_s``)."""
        async with asyncio.timeout(timeout_s):
            while len(self.received) < count:
                await asyncio.sleep(0.01)
        return self.received


@asynccontextmanager
async def merchant_endpoint() -> AsyncIterator[MerchantEndpoint]:
    """A merchant endpoint serving on loopback until the block ends."""
    endpoint = MerchantEndpoint(url="")

    async def receive(request: web.Request) -> web.Response:
        got = Received(dict(request.headers), await request.read())
        endpoint.received.append(got)
        if endpoint.answer is not None:
            return await endpoint.answer(got)
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/notify", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    endpoint.url = f"http://127.0.0.1:{runner.addresses[0][1]}/notify"
    try:
        yield endpoint
    finally:
        await runner.cleanup()


@pytest.fixture
async def merchant() -> AsyncIterator[MerchantEndpoint]:
    async with merchant_endpoint() as endpoint:
        yield endpoint


# ---- Alipay ----------------------------------------------------------------------------------------

ALIPAY_APP_ID = "2021000000000001"


@pytest.fixture
async def alipay_sim(merchant_keys: KeyPair, provider_keys: KeyPair) -> AsyncIterator[AlipaySimulator]:
    config = AlipaySimConfig(
        apps={ALIPAY_APP_ID: merchant_keys.public},
        alipay_private_key=provider_keys.private,
        declined_users=frozenset({"risky@example.com"}),
        retry_delays=(0.02, 0.05, 0.1),
    )
    async with AlipaySimulator(config) as sim:
        yield sim


@pytest.fixture
def alipay(
    http: aiohttp.ClientSession,
    alipay_sim: AlipaySimulator,
    merchant: MerchantEndpoint,
    merchant_keys: KeyPair,
    provider_keys: KeyPair,
) -> AlipayClient:
    config = AlipayConfig(
        app_id=ALIPAY_APP_ID,
        app_private_key=merchant_keys.private,
        alipay_public_key=provider_keys.public,
        gateway_url=alipay_sim.gateway_url,
        notify_url=merchant.url,
        zm_service_id="2020000000000001",
        timeout_s=2.0,
    )
    return AlipayClient(http, config)


# ---- WeChat Pay ------------------------------------------------------------------------------------

WECHAT_MCHID = "1900000109"
WECHAT_APPID = "wxd678efh567hg6787"
WECHAT_SERVICE_ID = "2002000000000558128851361561536"
WECHAT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
WECHAT_APIV3_KEY = "test-apiv3-key-0123456789abcdefg"  # 32 bytes, made up for the tests
WECHAT_PLATFORM_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"


@pytest.fixture
async def wechat_sim(merchant_keys: KeyPair, provider_keys: KeyPair) -> AsyncIterator[WeChatPaySimulator]:
    config = WeChatPaySimConfig(
        mchid=WECHAT_MCHID,
        appid=WECHAT_APPID,
        service_id=WECHAT_SERVICE_ID,
        merchant_serial_no=WECHAT_SERIAL,
        merchant_public_key=merchant_keys.public,
        apiv3_key=WECHAT_APIV3_KEY,
        platform_private_key=provider_keys.private,
        platform_public_key_id=WECHAT_PLATFORM_KEY_ID,
        declined_openids=frozenset({"o-risky"}),
        retry_delays=(0.02, 0.05, 0.1),
    )
    async with WeChatPaySimulator(config) as sim:
        yield sim


def wechat_config(base_url: str, notify_url: str, merchant: KeyPair, platform: KeyPair) -> WeChatPayConfig:
    return WeChatPayConfig(
        mchid=WECHAT_MCHID,
        appid=WECHAT_APPID,
        service_id=WECHAT_SERVICE_ID,
        merchant_private_key=merchant.private,
        merchant_serial_no=WECHAT_SERIAL,
        platform_public_key=platform.public,
        platform_public_key_id=WECHAT_PLATFORM_KEY_ID,
        apiv3_key=WECHAT_APIV3_KEY,
        base_url=base_url,
        notify_url=notify_url,
        timeout_s=2.0,
    )


@pytest.fixture
def wechat(
    http: aiohttp.ClientSession,
    wechat_sim: WeChatPaySimulator,
    merchant: MerchantEndpoint,
    merchant_keys: KeyPair,
    provider_keys: KeyPair,
) -> WeChatPayClient:
    return WeChatPayClient(
        http, wechat_config(wechat_sim.base_url, merchant.url, merchant_keys, provider_keys)
    )
