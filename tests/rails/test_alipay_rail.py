"""Our Alipay client against the Alipay simulator: pay-after-use end to end, refunds, top-ups, faults."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

import aiohttp
import pytest

from gateway.rails.alipay import trade, zhima
from gateway.rails.alipay.client import AlipayClient, AlipayConfig
from gateway.rails.alipay.errors import (
    AlipayBadSignature,
    AlipayCreditDeclined,
    AlipayRefused,
    AlipayUnavailable,
)
from gateway.rails.alipay.models import AgreementStatus, CreditOrderStatus, TradeStatus
from gateway.rails.alipay.notify import verify_notification
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.keys import load_public_key
from gateway.rails.sim.faults import RailFaults
from tests.rails.conftest import ALIPAY_APP_ID, KeyPair, MerchantEndpoint


def notifications(merchant: MerchantEndpoint, provider_keys: KeyPair):
    key = load_public_key(provider_keys.public)
    return [
        verify_notification(dict(parse_qsl(r.body.decode())), key, ALIPAY_APP_ID) for r in merchant.received
    ]


async def open_order(
    alipay: AlipayClient, out_order_no: str = "S1", risk: str = "300.00", user: str = "alice"
):
    agreement = await zhima.sign_agreement(alipay, f"AGR-{user}", f"{user}@example.com")
    assert agreement.status is AgreementStatus.VALID
    return await zhima.open_order(
        alipay, agreement.credit_agreement_id, out_order_no, Decimal(risk), "charging"
    )


async def test_authorise_complete_collect_and_refund(
    alipay: AlipayClient, alipay_sim: AlipaySimulator, merchant: MerchantEndpoint, provider_keys: KeyPair
) -> None:
    order = await open_order(alipay)
    assert order.status is CreditOrderStatus.INIT
    accepted = await trade.pay_credit_order(
        alipay, order.credit_biz_order_id, "S1-1", Decimal("42.50"), "charging"
    )
    assert accepted.total_amount == Decimal("42.50")

    await merchant.wait_for(1)
    [paid] = notifications(merchant, provider_keys)
    assert (paid.out_trade_no, paid.trade_status, paid.total_amount) == (
        "S1-1",
        TradeStatus.TRADE_SUCCESS,
        Decimal("42.50"),
    )
    finished = await zhima.query_order(alipay, out_order_no="S1")
    assert (finished.status, finished.total_amount, finished.trade_no) == (
        CreditOrderStatus.TRADE_FINISHED, Decimal("42.50"), accepted.trade_no
    )  # fmt: skip

    refund = await trade.refund(alipay, accepted.trade_no, Decimal("2.50"), "R1", "dispute")
    again = await trade.refund(alipay, accepted.trade_no, Decimal("2.50"), "R1", "dispute")
    assert (refund.refund_fee, refund.fund_change, again.refund_fee, again.fund_change) == (
        Decimal("2.50"), True, Decimal("2.50"), False
    )  # fmt: skip
    await merchant.wait_for(2)
    assert notifications(merchant, provider_keys)[1].refund_fee == Decimal("2.50")
    books = alipay_sim.ledger.to_json()
    assert (books["collected"], books["refunded"]) == ("42.50", "2.50")


async def test_collection_above_the_risk_amount_is_refused(alipay: AlipayClient) -> None:
    order = await open_order(alipay, risk="10.00")
    with pytest.raises(AlipayRefused) as caught:
        await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("10.01"), "charging")
    assert caught.value.sub_code == "ACQ.TOTAL_FEE_EXCEED"


async def test_cancel_collects_nothing(alipay: AlipayClient, alipay_sim: AlipaySimulator) -> None:
    order = await open_order(alipay)
    status = await zhima.finish_order(
        alipay, order.credit_biz_order_id, "F1", fulfilled=False, remark="no energy"
    )
    assert status is CreditOrderStatus.TRADE_CLOSED
    with pytest.raises(AlipayRefused):
        await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("1.00"), "charging")
    assert alipay_sim.ledger.to_json()["collected"] == "0.00"


async def test_declined_credit(alipay: AlipayClient, alipay_sim: AlipaySimulator) -> None:
    with pytest.raises(AlipayCreditDeclined):
        await open_order(alipay, user="risky")
    alipay_sim.faults = RailFaults(decline_credit=True)
    with pytest.raises(AlipayCreditDeclined):
        await open_order(alipay, out_order_no="S2")
    assert alipay_sim.ledger.orders == {}


async def test_order_is_idempotent_per_out_order_no(
    alipay: AlipayClient, alipay_sim: AlipaySimulator
) -> None:
    first, second = await open_order(alipay), await open_order(alipay)
    assert first == second and len(alipay_sim.ledger.orders) == 1


async def test_timeout_after_processing_then_query_tells_the_truth(
    alipay: AlipayClient, alipay_sim: AlipaySimulator, merchant: MerchantEndpoint
) -> None:
    order = await open_order(alipay)
    alipay_sim.faults = RailFaults(timeout_rate=1.0)
    with pytest.raises(AlipayUnavailable) as caught:
        await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("5.00"), "charging")
    assert caught.value.reason == "timeout"
    alipay_sim.faults = RailFaults()
    # The caller cannot know whether money moved: a retry of the same trade is refused, the query answers.
    with pytest.raises(AlipayRefused) as retried:
        await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("5.00"), "charging")
    assert retried.value.sub_code == "ACQ.TRADE_HAS_SUCCESS"
    assert (await trade.query(alipay, out_trade_no="S1-1")).status is TradeStatus.TRADE_SUCCESS
    assert alipay_sim.ledger.to_json()["collected"] == "5.00"


async def test_collection_failure_is_notified_and_nothing_is_taken(
    alipay: AlipayClient, alipay_sim: AlipaySimulator, merchant: MerchantEndpoint, provider_keys: KeyPair
) -> None:
    order = await open_order(alipay)
    alipay_sim.faults = RailFaults(collection_failure=True)
    await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("5.00"), "charging")
    await merchant.wait_for(1)
    assert notifications(merchant, provider_keys)[0].trade_status is TradeStatus.TRADE_CLOSED
    assert (await zhima.query_order(alipay, out_order_no="S1")).status is CreditOrderStatus.INIT
    alipay_sim.faults = RailFaults()
    await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-2", Decimal("5.00"), "charging")
    assert alipay_sim.ledger.to_json()["collected"] == "5.00"


async def test_duplicate_notification_and_notification_before_response(
    alipay: AlipayClient, alipay_sim: AlipaySimulator, merchant: MerchantEndpoint, provider_keys: KeyPair
) -> None:
    order = await open_order(alipay)
    alipay_sim.faults = RailFaults(duplicate_notifications=True, notify_before_response=True)
    await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("5.00"), "charging")
    assert len(merchant.received) == 2  # both delivered before the answer arrived
    first, second = notifications(merchant, provider_keys)
    assert first == second  # the same notify_id: a receiver applies it once


async def test_unacknowledged_notification_is_redelivered(
    alipay: AlipayClient, alipay_sim: AlipaySimulator, merchant: MerchantEndpoint
) -> None:
    answers = iter(["fail", "success"])

    async def flaky(_):
        return aiohttp.web.Response(text=next(answers))

    merchant.answer = flaky
    order = await open_order(alipay)
    await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("5.00"), "charging")
    await merchant.wait_for(2)
    assert merchant.received[0].body == merchant.received[1].body


async def test_top_up_by_qr_code(
    alipay: AlipayClient, alipay_sim: AlipaySimulator, merchant: MerchantEndpoint, http: aiohttp.ClientSession
) -> None:
    created = await trade.precreate(alipay, "T1", Decimal("100.00"), "wallet top-up")
    assert (await trade.query(alipay, out_trade_no="T1")).status is TradeStatus.WAIT_BUYER_PAY
    async with http.post(f"{alipay_sim.base_url}/_sim/trades/T1/pay") as resp:
        assert resp.status == 200
    assert created.qr_code and len(merchant.received) == 1
    assert (await trade.query(alipay, out_trade_no="T1")).status is TradeStatus.TRADE_SUCCESS


async def test_simulator_refuses_a_request_signed_with_another_key(
    http: aiohttp.ClientSession, alipay_sim: AlipaySimulator, stranger_keys: KeyPair, provider_keys: KeyPair
) -> None:
    config = AlipayConfig(ALIPAY_APP_ID, stranger_keys.private, provider_keys.public, alipay_sim.gateway_url)
    with pytest.raises(AlipayRefused) as caught:
        await zhima.query_agreement(AlipayClient(http, config), out_agreement_no="AGR-alice")
    assert caught.value.sub_code == "isv.invalid-signature"


async def test_client_refuses_an_answer_signed_with_another_key(
    http: aiohttp.ClientSession, alipay_sim: AlipaySimulator, merchant_keys: KeyPair, stranger_keys: KeyPair
) -> None:
    config = AlipayConfig(ALIPAY_APP_ID, merchant_keys.private, stranger_keys.public, alipay_sim.gateway_url)
    with pytest.raises(AlipayBadSignature):
        await zhima.sign_agreement(AlipayClient(http, config), "AGR-alice", "alice@example.com")


async def test_notification_signed_with_another_key_is_refused(
    alipay: AlipayClient, merchant: MerchantEndpoint, stranger_keys: KeyPair
) -> None:
    order = await open_order(alipay)
    await trade.pay_credit_order(alipay, order.credit_biz_order_id, "S1-1", Decimal("5.00"), "charging")
    await merchant.wait_for(1)
    form = dict(parse_qsl(merchant.received[0].body.decode()))
    with pytest.raises(AlipayBadSignature):
        verify_notification(form, load_public_key(stranger_keys.public), ALIPAY_APP_ID)
    form["total_amount"] = "500.00"  # tampered
    with pytest.raises(AlipayBadSignature):
        verify_notification(form, alipay.alipay_public_key, ALIPAY_APP_ID)


async def test_down_is_unavailable(alipay: AlipayClient, alipay_sim: AlipaySimulator) -> None:
    alipay_sim.faults = RailFaults(down=True)
    with pytest.raises(AlipayUnavailable) as caught:
        await zhima.query_agreement(alipay, out_agreement_no="x")
    assert caught.value.reason == "down" and alipay_sim.ledger.agreements == {}


async def test_the_agreement_is_held_by_the_user_who_signs_in(
    alipay: AlipayClient, alipay_sim: AlipaySimulator
) -> None:
    """Sign-in and pay-after-use name one Alipay user: the agreement alice signs with her login is
    held by the user id her sign-in code answers, and the rail says so."""
    from gateway.rails.alipay import oauth
    from gateway.rails.alipay.rail import AlipayRail
    from gateway.rails.sim.authcodes import mint

    agreement = await zhima.sign_agreement(alipay, "AGRalice", "alice@example.com")
    signed_in = await oauth.user_of_code(alipay, mint(ALIPAY_APP_ID, "alice@example.com"))
    assert agreement.alipay_user_id == signed_in
    assert await AlipayRail(alipay).holder(agreement.credit_agreement_id) == signed_in
    other = await zhima.sign_agreement(alipay, "AGRbob", "bob@example.com")
    assert other.alipay_user_id != signed_in
