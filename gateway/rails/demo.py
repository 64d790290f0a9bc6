"""The rails in demo mode: both simulators embedded, fresh keys, and two demo drivers enrolled.

``alice`` charges on Alipay pay-after-use: her agreement is signed in the simulator at start by her
Alipay user (``alice@example.com``), the same user she signs in as. ``erin`` charges on WeChat Pay
score with the openid she signs in with. ``dave`` (postpay, no rail) pays his bills from the wallet
or the card, bob and carol keep their documented flows. Keys are generated in memory at every
start: nothing secret is written anywhere.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.rails.alipay.sim.config import AlipaySimConfig
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.keys import private_pem, public_pem
from gateway.rails.wechatpay.sim import cli as wechat_defaults
from gateway.rails.wechatpay.sim.config import WeChatPaySimConfig
from gateway.rails.wechatpay.sim.server import DEMO_APP_SECRET, WeChatPaySimulator
from gateway.settings.sections import AlipaySettings, PaymentsSettings, Settings, WeChatPaySettings

ALIPAY_APP_ID = "2021000000000001"
ZM_SERVICE_ID = "2020000000000001"
ALIPAY_DRIVER = ("alice", "alice@example.com")  # driver id, Alipay login (gateway.identity.demo)
WECHAT_DRIVER = ("erin", "o-erin-demo-openid")  # driver id, openid under the demo appid
SCORES = {"dave": 720, "erin": 720}  # the demo bureau's view: postpay, as for alice (cap ¥300)
EXTRA_DRIVERS = ("dave", "erin")  # demo drivers beyond alice, bob and carol


def _pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private_pem(key), public_pem(key.public_key())


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Settings]:
    """Start both simulators; yield ``settings`` pointing the rails at them (unless configured)."""
    if settings.alipay.app_id or settings.wechatpay.mchid:
        yield settings  # a deployment's own rails win
        return
    app_private, app_public = _pair()
    alipay_private, alipay_public = _pair()
    merchant_private, merchant_public = _pair()
    platform_private, platform_public = _pair()
    apiv3_key = secrets.token_hex(16)  # 32 characters
    alipay_sim = AlipaySimulator(AlipaySimConfig({ALIPAY_APP_ID: app_public}, alipay_private))
    wechat_sim = WeChatPaySimulator(
        WeChatPaySimConfig(
            wechat_defaults.DEFAULT_MCHID,
            wechat_defaults.DEFAULT_APPID,
            wechat_defaults.DEFAULT_SERVICE_ID,
            wechat_defaults.DEFAULT_SERIAL,
            merchant_public,
            apiv3_key,
            platform_private,
        )  # fmt: skip
    )
    async with alipay_sim, wechat_sim:
        agreement = alipay_sim.ledger.sign(ALIPAY_APP_ID, f"AGR{ALIPAY_DRIVER[0]}", ALIPAY_DRIVER[1])
        wechat = wechat_sim.config
        yield replace(
            settings,
            alipay=AlipaySettings(
                ALIPAY_APP_ID, app_private, alipay_public, ZM_SERVICE_ID, alipay_sim.gateway_url
            ),
            wechatpay=WeChatPaySettings(
                wechat.mchid,
                wechat.appid,
                wechat.service_id,
                merchant_private,
                wechat.merchant_serial_no,
                platform_public,
                wechat.platform_public_key_id,
                apiv3_key,
                wechat_sim.base_url,
            ),  # fmt: skip
            payments=PaymentsSettings(
                (
                    f"{ALIPAY_DRIVER[0]}=alipay:{agreement.credit_agreement_id}",
                    f"{WECHAT_DRIVER[0]}=wechatpay:{WECHAT_DRIVER[1]}",
                )
            ),
            # Sign-in with WeChat: the simulator also answers api.weixin.qq.com's code2Session.
            auth=replace(settings.auth, wechat_api_url=wechat_sim.base_url, wechat_secret=DEMO_APP_SECRET),
        )
