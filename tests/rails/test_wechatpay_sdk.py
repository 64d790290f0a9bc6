"""Independent checks with ``wechatpayv3`` (the field's SDK, in public-key mode): its signed requests
are accepted by our simulator and its own code verifies the simulator's answers; notifications
verify and decrypt with its ``callback``; a wrong key is refused on both sides.

The SDK's blocking client runs in a thread while the simulator serves on the test's event loop; its
API host is pointed at the simulator through ``_core._gate_way`` (the SDK has no public setting).
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from wechatpayv3 import WeChatPay, WeChatPayType

from gateway.rails.wechatpay import payscore
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.sim.server import WeChatPaySimulator
from tests.rails.conftest import (
    WECHAT_APIV3_KEY,
    WECHAT_APPID,
    WECHAT_MCHID,
    WECHAT_PLATFORM_KEY_ID,
    WECHAT_SERIAL,
    WECHAT_SERVICE_ID,
    KeyPair,
    MerchantEndpoint,
)


def sdk(sim: WeChatPaySimulator, merchant: KeyPair, platform: KeyPair, notify_url: str = "") -> WeChatPay:
    client = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=WECHAT_MCHID,
        private_key=merchant.private,
        cert_serial_no=WECHAT_SERIAL,
        appid=WECHAT_APPID,
        apiv3_key=WECHAT_APIV3_KEY,
        notify_url=notify_url or "https://merchant.example/notify",
        public_key=platform.public,
        public_key_id=WECHAT_PLATFORM_KEY_ID,
        timeout=(2, 5),
    )
    client._core._gate_way = sim.base_url
    return client


def create(client: WeChatPay, out_order_no: str) -> tuple[int, str]:
    return client.payscore_create(
        out_order_no=out_order_no,
        service_id=WECHAT_SERVICE_ID,
        service_introduction="EV charging",
        time_range={"start_time": "OnAccept"},
        risk_fund={"name": "ESTIMATE_ORDER_COST", "amount": 30000},
        openid="o-sdk",
        need_user_confirm=False,
    )


async def test_sdk_requests_are_accepted_and_answers_verify_with_the_sdk(
    wechat_sim: WeChatPaySimulator, merchant_keys: KeyPair, provider_keys: KeyPair, merchant: MerchantEndpoint
) -> None:
    client = sdk(wechat_sim, merchant_keys, provider_keys, merchant.url)
    code, text = await asyncio.to_thread(create, client, "SDK1")
    assert code == 200 and json.loads(text)["state"] == "DOING"
    code, text = await asyncio.to_thread(
        client.payscore_complete,
        out_order_no="SDK1",
        service_id=WECHAT_SERVICE_ID,
        post_payments=[{"name": "energy", "amount": 1234, "count": 1}],
        total_amount=1234,
    )
    assert code == 200
    code, text = await asyncio.to_thread(
        client.payscore_query, service_id=WECHAT_SERVICE_ID, out_order_no="SDK1"
    )
    order = json.loads(text)
    assert code == 200 and order["collection"]["state"] == "USER_PAID"
    code, text = await asyncio.to_thread(
        client.payscore_refund,
        transaction_id=order["collection"]["details"][0]["transaction_id"],
        out_refund_no="SDKR1",
        amount={"refund": 234, "total": 1234, "currency": "CNY"},
    )
    assert code == 200 and json.loads(text)["status"] == "SUCCESS"
    assert wechat_sim.ledger.to_json() | {"orders": None, "refunds": None} == {
        "orders": None, "refunds": None, "collected": "12.34", "refunded": "2.34"
    }  # fmt: skip


async def test_sdk_request_with_a_wrong_key_is_refused(
    wechat_sim: WeChatPaySimulator, stranger_keys: KeyPair, provider_keys: KeyPair
) -> None:
    code, text = await asyncio.to_thread(create, sdk(wechat_sim, stranger_keys, provider_keys), "SDK1")
    assert code == 401 and json.loads(text)["code"] == "SIGN_ERROR"
    assert wechat_sim.ledger.orders == {}


async def test_sdk_refuses_answers_signed_with_a_wrong_key(
    wechat_sim: WeChatPaySimulator, merchant_keys: KeyPair, stranger_keys: KeyPair
) -> None:
    with pytest.raises(Exception, match="failed to verify the signature"):
        await asyncio.to_thread(create, sdk(wechat_sim, merchant_keys, stranger_keys), "SDK1")


async def test_notifications_verify_and_decrypt_with_the_sdk(
    wechat: WeChatPayClient,
    wechat_sim: WeChatPaySimulator,
    merchant: MerchantEndpoint,
    merchant_keys: KeyPair,
    provider_keys: KeyPair,
    stranger_keys: KeyPair,
) -> None:
    await payscore.create(wechat, "W1", "o-bob", Decimal("50.00"), "EV charging")
    await payscore.complete(wechat, "W1", Decimal("20.00"), "energy")
    [received] = await merchant.wait_for(1)
    verified = sdk(wechat_sim, merchant_keys, provider_keys).callback(received.headers, received.body)
    assert verified["event_type"] == "PAYSCORE.USER_PAID"
    assert verified["resource"]["collection"]["paid_amount"] == 2000
    assert sdk(wechat_sim, merchant_keys, stranger_keys).callback(received.headers, received.body) is None
