"""Independent checks with Alipay's official SDK (alipay-sdk-python): its signed requests are accepted
by our simulator, our simulator's answers and notifications verify with its code, our RSA2 signatures
equal its own, and a wrong key is refused on both sides.

The SDK's ``DefaultAlipayClient.execute`` cannot reach a loopback port (its ``http.client``
connection always uses port 80), so the SDK builds and signs each request (``sdk_execute``), the
test posts it, and the SDK's own response parser verifies the answer.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

import aiohttp
import pytest
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayTradePayModel import AlipayTradePayModel
from alipay.aop.api.domain.ExtendParams import ExtendParams
from alipay.aop.api.domain.ZhimaCreditPayafteruseCreditagreementSignModel import (
    ZhimaCreditPayafteruseCreditagreementSignModel,
)
from alipay.aop.api.domain.ZhimaCreditPayafteruseCreditbizorderOrderModel import (
    ZhimaCreditPayafteruseCreditbizorderOrderModel,
)
from alipay.aop.api.exception.Exception import ResponseException
from alipay.aop.api.request.AlipayTradePayRequest import AlipayTradePayRequest
from alipay.aop.api.request.ZhimaCreditPayafteruseCreditagreementSignRequest import (
    ZhimaCreditPayafteruseCreditagreementSignRequest,
)
from alipay.aop.api.request.ZhimaCreditPayafteruseCreditbizorderOrderRequest import (
    ZhimaCreditPayafteruseCreditbizorderOrderRequest,
)
from alipay.aop.api.response.AlipayTradePayResponse import AlipayTradePayResponse
from alipay.aop.api.response.ZhimaCreditPayafteruseCreditagreementSignResponse import (
    ZhimaCreditPayafteruseCreditagreementSignResponse,
)
from alipay.aop.api.response.ZhimaCreditPayafteruseCreditbizorderOrderResponse import (
    ZhimaCreditPayafteruseCreditbizorderOrderResponse,
)
from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2, verify_with_rsa
from cryptography.hazmat.primitives import serialization

from gateway.rails.alipay import signing, trade, zhima
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.keys import pem_body
from tests.rails.conftest import ALIPAY_APP_ID, KeyPair, MerchantEndpoint


def pkcs1_body(pair: KeyPair) -> str:
    """The SDK wants the app key as a PKCS#1 body (it adds the ``RSA PRIVATE KEY`` armour itself)."""
    return pem_body(
        pair.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
    )


def sdk_client(app_key: KeyPair, alipay_key: KeyPair, sim: AlipaySimulator) -> DefaultAlipayClient:
    config = AlipayClientConfig()
    config.server_url = sim.gateway_url
    config.app_id = ALIPAY_APP_ID
    config.app_private_key = pkcs1_body(app_key)
    config.alipay_public_key = pem_body(alipay_key.public)
    config.sign_type = "RSA2"
    return DefaultAlipayClient(alipay_client_config=config)


async def sdk_call(client: DefaultAlipayClient, request, response, http: aiohttp.ClientSession):
    """Sign with the SDK, post, and let the SDK verify and parse the answer."""
    form = client.sdk_execute(request)
    headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
    async with http.post(client._DefaultAlipayClient__config.server_url, data=form, headers=headers) as resp:
        body = await resp.read()
    response.parse_response_content(client._DefaultAlipayClient__parse_response(body))
    return response


async def test_sdk_signed_requests_are_accepted_and_answers_verify_with_the_sdk(
    alipay_sim: AlipaySimulator, merchant_keys: KeyPair, provider_keys: KeyPair, http: aiohttp.ClientSession
) -> None:
    client = sdk_client(merchant_keys, provider_keys, alipay_sim)
    sign = ZhimaCreditPayafteruseCreditagreementSignModel()
    sign.out_agreement_no = "AGR-sdk"
    sign.zm_service_id = "2020000000000001"
    sign.external_logon_id = "sdk@example.com"
    signed = await sdk_call(
        client,
        ZhimaCreditPayafteruseCreditagreementSignRequest(biz_model=sign),
        ZhimaCreditPayafteruseCreditagreementSignResponse(),
        http,
    )
    assert signed.is_success() and signed.credit_agreement_id

    order = ZhimaCreditPayafteruseCreditbizorderOrderModel()
    order.credit_agreement_id = signed.credit_agreement_id
    order.out_order_no = "SDK-1"
    order.order_amount = "50.00"
    order.subject = "charging"
    ordered = await sdk_call(
        client,
        ZhimaCreditPayafteruseCreditbizorderOrderRequest(biz_model=order),
        ZhimaCreditPayafteruseCreditbizorderOrderResponse(),
        http,
    )
    assert ordered.is_success() and ordered.credit_biz_order_id

    pay = AlipayTradePayModel()
    pay.out_trade_no = "SDK-1-1"
    pay.auth_code = ordered.credit_biz_order_id
    pay.total_amount = "12.34"
    pay.subject = "charging"
    pay.scene = "ZHIMA_CREDIT_CODE"
    pay.product_code = "GENERAL_WITHHOLDING"
    extend = ExtendParams()
    extend.credit_trade_scene = "CREDIT_PAY_UNCERTAIN_FEE"
    pay.extend_params = extend
    paid = await sdk_call(client, AlipayTradePayRequest(biz_model=pay), AlipayTradePayResponse(), http)
    assert paid.is_success() and paid.total_amount == "12.34"
    assert alipay_sim.ledger.to_json()["collected"] == "12.34"


async def test_sdk_request_with_a_wrong_key_is_refused(
    alipay_sim: AlipaySimulator, stranger_keys: KeyPair, provider_keys: KeyPair, http: aiohttp.ClientSession
) -> None:
    client = sdk_client(stranger_keys, provider_keys, alipay_sim)
    sign = ZhimaCreditPayafteruseCreditagreementSignModel()
    sign.out_agreement_no = "AGR-sdk"
    sign.external_logon_id = "sdk@example.com"
    refused = await sdk_call(
        client,
        ZhimaCreditPayafteruseCreditagreementSignRequest(biz_model=sign),
        ZhimaCreditPayafteruseCreditagreementSignResponse(),
        http,
    )
    assert refused.sub_code == "isv.invalid-signature"
    assert alipay_sim.ledger.agreements == {}


async def test_sdk_refuses_answers_signed_with_a_wrong_key(
    alipay_sim: AlipaySimulator, merchant_keys: KeyPair, stranger_keys: KeyPair, http: aiohttp.ClientSession
) -> None:
    client = sdk_client(merchant_keys, stranger_keys, alipay_sim)
    sign = ZhimaCreditPayafteruseCreditagreementSignModel()
    sign.out_agreement_no = "AGR-sdk"
    sign.external_logon_id = "sdk@example.com"
    with pytest.raises(ResponseException, match="sign verify failed"):
        await sdk_call(
            client,
            ZhimaCreditPayafteruseCreditagreementSignRequest(biz_model=sign),
            ZhimaCreditPayafteruseCreditagreementSignResponse(),
            http,
        )


async def test_notifications_verify_with_the_sdk(
    alipay: AlipayClient,
    merchant: MerchantEndpoint,
    provider_keys: KeyPair,
    stranger_keys: KeyPair,
) -> None:
    agreement = await zhima.sign_agreement(alipay, "AGR-alice", "alice@example.com")
    order = await zhima.open_order(alipay, agreement.credit_agreement_id, "S1", Decimal("30.00"), "charging")
    await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("30.00"), "charging")
    [received] = await merchant.wait_for(1)
    form = dict(parse_qsl(received.body.decode()))
    sign = form.pop("sign")
    form.pop("sign_type")  # the SDK's documented recipe: verify over the rest, sorted
    content = get_sign_content(form).encode()
    assert verify_with_rsa(pem_body(provider_keys.public), content, sign)
    with pytest.raises(Exception, match="Verification failed"):
        verify_with_rsa(pem_body(stranger_keys.public), content, sign)


def test_our_rsa2_signature_is_the_sdks() -> None:
    """SHA256withRSA (PKCS#1 v1.5) is deterministic: same key and content → the same signature."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from gateway.rails.keys import private_pem

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pair = KeyPair(private_pem(key), "", key)
    params = {
        "app_id": ALIPAY_APP_ID,
        "method": "alipay.trade.query",
        "biz_content": '{"out_trade_no":"甲1"}',
    }
    content = signing.sign_content(params)
    assert content == get_sign_content(params)
    assert signing.sign(key, content) == sign_with_rsa2(pkcs1_body(pair), content, "utf-8")
