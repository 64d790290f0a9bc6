"""Our WeChat Pay client against the WeChat Pay simulator: pay score end to end, refunds, faults, keys."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import aiohttp
import pytest

from gateway.rails.sim.faults import RailFaults
from gateway.rails.wechatpay import payscore
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.errors import (
    WeChatPayBadSignature,
    WeChatPayCreditDeclined,
    WeChatPayRefused,
    WeChatPayUnavailable,
)
from gateway.rails.wechatpay.models import CollectionState, OrderState, RefundStatus
from gateway.rails.wechatpay.notify import verify_notification
from gateway.rails.wechatpay.sim.server import WeChatPaySimulator
from tests.rails.conftest import KeyPair, MerchantEndpoint, wechat_config


def notifications(wechat: WeChatPayClient, merchant: MerchantEndpoint):
    return [verify_notification(wechat, r.headers, r.body) for r in merchant.received]


async def test_authorise_complete_collect_and_refund(
    wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator, merchant: MerchantEndpoint
) -> None:
    order = await payscore.create(wechat, "W1", "o-bob", Decimal("300.00"), "EV charging")
    assert (order.state, order.state_description, order.risk_amount) == (
        OrderState.DOING, "USER_CONFIRM", Decimal("300.00")
    )  # fmt: skip
    completed = await payscore.complete(wechat, "W1", Decimal("42.50"), "energy and service")
    assert completed.total_amount == Decimal("42.50")

    await merchant.wait_for(1)
    [paid] = notifications(wechat, merchant)
    assert paid.event_type == "PAYSCORE.USER_PAID" and paid.order is not None and paid.order.collection
    assert (paid.order.collection.state, paid.order.collection.paid_amount) == (
        CollectionState.USER_PAID, Decimal("42.50")
    )  # fmt: skip
    queried = await payscore.query(wechat, "W1")
    assert queried.state is OrderState.DONE and queried.collection == paid.order.collection

    transaction = queried.collection.transaction_id
    assert transaction
    refund = await payscore.refund(wechat, transaction, "WR1", Decimal("2.50"), Decimal("42.50"), "dispute")
    again = await payscore.refund(wechat, transaction, "WR1", Decimal("2.50"), Decimal("42.50"), "dispute")
    assert refund == again and refund.status is RefundStatus.SUCCESS and refund.refund == Decimal("2.50")
    assert await payscore.query_refund(wechat, "WR1") == refund
    await merchant.wait_for(2)
    assert notifications(wechat, merchant)[1].refund == refund
    with pytest.raises(WeChatPayRefused) as caught:
        await payscore.refund(wechat, transaction, "WR2", Decimal("40.01"), Decimal("42.50"), "too much")
    assert caught.value.code == "NOT_ENOUGH"
    books = wechat_sim.ledger.to_json()
    assert (books["collected"], books["refunded"]) == ("42.50", "2.50")


async def test_completion_above_the_risk_amount_is_refused(wechat: WeChatPayClient) -> None:
    await payscore.create(wechat, "W1", "o-bob", Decimal("10.00"), "EV charging")
    with pytest.raises(WeChatPayRefused):
        await payscore.complete(wechat, "W1", Decimal("10.01"), "energy")


async def test_cancel_and_zero_completion_collect_nothing(
    wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator, merchant: MerchantEndpoint
) -> None:
    await payscore.create(wechat, "W1", "o-bob", Decimal("50.00"), "EV charging")
    assert (await payscore.cancel(wechat, "W1", "no energy delivered")).state is OrderState.REVOKED
    assert (await payscore.cancel(wechat, "W1", "no energy delivered")).state is OrderState.REVOKED
    with pytest.raises(WeChatPayRefused):
        await payscore.complete(wechat, "W1", Decimal("1.00"), "energy")
    await payscore.create(wechat, "W2", "o-bob", Decimal("50.00"), "EV charging")
    assert (await payscore.complete(wechat, "W2", Decimal("0.00"), "energy")).state is OrderState.DONE
    assert wechat_sim.ledger.to_json()["collected"] == "0.00" and merchant.received == []


async def test_declined_credit(wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator) -> None:
    with pytest.raises(WeChatPayCreditDeclined):
        await payscore.create(wechat, "W1", "o-risky", Decimal("50.00"), "EV charging")
    wechat_sim.faults = RailFaults(decline_credit=True)
    with pytest.raises(WeChatPayCreditDeclined):
        await payscore.create(wechat, "W2", "o-bob", Decimal("50.00"), "EV charging")
    assert wechat_sim.ledger.orders == {}


async def test_timeout_after_processing_then_retry_collects_once(
    wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator
) -> None:
    await payscore.create(wechat, "W1", "o-bob", Decimal("50.00"), "EV charging")
    wechat_sim.faults = RailFaults(timeout_rate=1.0)
    with pytest.raises(WeChatPayUnavailable) as caught:
        await payscore.complete(wechat, "W1", Decimal("20.00"), "energy")
    assert caught.value.reason == "timeout"
    wechat_sim.faults = RailFaults()
    await payscore.complete(wechat, "W1", Decimal("20.00"), "energy")  # the retry is a repeat
    assert wechat_sim.ledger.to_json()["collected"] == "20.00"
    with pytest.raises(WeChatPayRefused):
        await payscore.complete(wechat, "W1", Decimal("21.00"), "energy")


async def test_collection_failure_then_collect_again(
    wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator, merchant: MerchantEndpoint
) -> None:
    await payscore.create(wechat, "W1", "o-bob", Decimal("50.00"), "EV charging")
    wechat_sim.faults = RailFaults(collection_failure=True)
    completed = await payscore.complete(wechat, "W1", Decimal("20.00"), "energy")
    assert completed.collection and completed.collection.state is CollectionState.USER_PAYING
    assert (await payscore.collect_again(wechat, "W1")).collection.state is CollectionState.USER_PAYING
    wechat_sim.faults = RailFaults()
    collected = await payscore.collect_again(wechat, "W1")
    assert collected.collection and collected.collection.state is CollectionState.USER_PAID
    await merchant.wait_for(1)
    assert wechat_sim.ledger.to_json()["collected"] == "20.00"


async def test_duplicate_notification_and_notification_before_response(
    wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator, merchant: MerchantEndpoint
) -> None:
    await payscore.create(wechat, "W1", "o-bob", Decimal("50.00"), "EV charging")
    wechat_sim.faults = RailFaults(duplicate_notifications=True, notify_before_response=True)
    await payscore.complete(wechat, "W1", Decimal("20.00"), "energy")
    assert len(merchant.received) == 2
    first, second = notifications(wechat, merchant)
    assert first == second  # the same id and content, signed afresh: a receiver applies it once
    assert merchant.received[0].headers["Wechatpay-Nonce"] != merchant.received[1].headers["Wechatpay-Nonce"]


async def test_unacknowledged_notification_is_redelivered(
    wechat: WeChatPayClient, merchant: MerchantEndpoint
) -> None:
    statuses = iter([500, 204])

    async def flaky(_):
        return aiohttp.web.Response(status=next(statuses))

    merchant.answer = flaky
    await payscore.create(wechat, "W1", "o-bob", Decimal("50.00"), "EV charging")
    await payscore.complete(wechat, "W1", Decimal("20.00"), "energy")
    await merchant.wait_for(2)
    assert notifications(wechat, merchant)[0] == notifications(wechat, merchant)[1]


async def test_simulator_refuses_a_request_signed_with_another_key(
    http: aiohttp.ClientSession,
    wechat_sim: WeChatPaySimulator,
    merchant: MerchantEndpoint,
    stranger_keys: KeyPair,
    provider_keys: KeyPair,
) -> None:
    client = WeChatPayClient(
        http, wechat_config(wechat_sim.base_url, merchant.url, stranger_keys, provider_keys)
    )
    with pytest.raises(WeChatPayRefused) as caught:
        await payscore.create(client, "W1", "o-bob", Decimal("50.00"), "EV charging")
    assert (caught.value.status, caught.value.code) == (401, "SIGN_ERROR")
    assert wechat_sim.ledger.orders == {}


async def test_client_refuses_answers_signed_with_another_key(
    http: aiohttp.ClientSession,
    wechat_sim: WeChatPaySimulator,
    merchant: MerchantEndpoint,
    merchant_keys: KeyPair,
    stranger_keys: KeyPair,
) -> None:
    client = WeChatPayClient(
        http, wechat_config(wechat_sim.base_url, merchant.url, merchant_keys, stranger_keys)
    )
    with pytest.raises(WeChatPayBadSignature):
        await payscore.create(client, "W1", "o-bob", Decimal("50.00"), "EV charging")


async def test_forged_or_undecryptable_notifications_are_refused(
    wechat: WeChatPayClient, merchant: MerchantEndpoint, http: aiohttp.ClientSession
) -> None:
    await payscore.create(wechat, "W1", "o-bob", Decimal("50.00"), "EV charging")
    await payscore.complete(wechat, "W1", Decimal("20.00"), "energy")
    [received] = await merchant.wait_for(1)
    tampered = received.body.replace(b'"PAYSCORE.USER_PAID"', b'"PAYSCORE.USER_PAIX"')
    with pytest.raises(WeChatPayBadSignature):
        verify_notification(wechat, received.headers, tampered)
    other = WeChatPayClient(
        http, dataclasses.replace(wechat.config, apiv3_key="another-apiv3-key-0123456789abcd")
    )
    with pytest.raises(WeChatPayBadSignature, match="decrypt"):
        verify_notification(other, received.headers, received.body)
