"""The credit-rail port's contract, run on every rail against its simulator (Alipay, WeChat Pay).

Money is counted in the simulator's own books, not ours. "Restart" means a new rail over a new
client session: the rails hold no state, so whatever survives a kill is on the provider's side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from gateway.rails.alipay import zhima
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.rail import AlipayRail
from gateway.rails.port import (
    CreditRail,
    EventKind,
    OrderState,
    RailBadNotification,
    RailDeclined,
    RailRefused,
    RailUnavailable,
)
from gateway.rails.sim.faults import RailFaults
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.rail import WeChatPayRail
from tests.rails.conftest import MerchantEndpoint

REF = "S0000000000000000000000000000001"


@dataclass
class Env:
    sim: Any
    merchant: MerchantEndpoint
    account: str
    declined_account: str
    make: Callable[[aiohttp.ClientSession], CreditRail]

    def books(self) -> tuple[str, str]:
        books = self.sim.ledger.to_json()
        return books["collected"], books["refunded"]

    def events(self, rail: CreditRail):
        return [rail.notification(r.headers, r.body) for r in self.merchant.received]


@pytest.fixture
async def alipay_agreements(alipay: AlipayClient) -> tuple[str, str]:
    """alice's agreement, and one of a driver Zhima always declines."""
    good = await zhima.sign_agreement(alipay, "AGRalice", "alice@example.com")
    risky = await zhima.sign_agreement(alipay, "AGRrisky", "risky@example.com")
    return good.credit_agreement_id, risky.credit_agreement_id


@pytest.fixture(params=["alipay", "wechatpay"])
def env(request: pytest.FixtureRequest, merchant: MerchantEndpoint) -> Env:
    if request.param == "alipay":
        client: AlipayClient = request.getfixturevalue("alipay")
        good, risky = request.getfixturevalue("alipay_agreements")
        return Env(
            request.getfixturevalue("alipay_sim"),
            merchant,
            good,
            risky,
            lambda http: AlipayRail(AlipayClient(http, client.config)),
        )
    else:
        wechat: WeChatPayClient = request.getfixturevalue("wechat")
        return Env(
            request.getfixturevalue("wechat_sim"),
            merchant,
            "o-bob",
            "o-risky",
            lambda http: WeChatPayRail(WeChatPayClient(http, wechat.config)),
        )


async def test_authorise_complete_collects_once(env: Env, http: aiohttp.ClientSession) -> None:
    rail = env.make(http)
    authorised = await rail.authorise(REF, env.account, Decimal("300.00"), "EV charging")
    assert (authorised.state, authorised.collected) == (OrderState.AUTHORISED, Decimal("0.00"))
    done = await rail.complete(REF, Decimal("42.50"), "EV charging")
    again = await rail.complete(REF, Decimal("42.50"), "EV charging")  # a retry is a repeat
    assert done.state in (OrderState.COLLECTING, OrderState.COLLECTED) and again.state is OrderState.COLLECTED
    assert (await rail.query(REF)).collected == Decimal("42.50")
    await env.merchant.wait_for(1)
    [event] = env.events(rail)
    assert (event.kind, event.reference, event.amount) == (EventKind.COLLECTED, REF, Decimal("42.50"))
    assert env.books() == ("42.50", "0.00")


async def test_kill_and_restart_between_authorise_and_complete(env: Env) -> None:
    async with aiohttp.ClientSession() as first:
        await env.make(first).authorise(REF, env.account, Decimal("300.00"), "EV charging")
    # The process dies; a new one completes, and the answer is lost on the way back (timeout).
    env.sim.faults = RailFaults(timeout_rate=1.0)
    async with aiohttp.ClientSession() as second:
        with pytest.raises(RailUnavailable):
            await env.make(second).complete(REF, Decimal("20.00"), "EV charging")
    env.sim.faults = RailFaults()
    # It dies again; the next one completes the same reference again: nothing is collected twice.
    async with aiohttp.ClientSession() as third:
        rail = env.make(third)
        await rail.complete(REF, Decimal("20.00"), "EV charging")
        assert (await rail.query(REF)).state is OrderState.COLLECTED
    assert env.books() == ("20.00", "0.00")


async def test_duplicate_and_early_notifications_carry_one_event_id(
    env: Env, http: aiohttp.ClientSession
) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("300.00"), "EV charging")
    env.sim.faults = RailFaults(duplicate_notifications=True, notify_before_response=True)
    await rail.complete(REF, Decimal("20.00"), "EV charging")
    first, second = env.events(rail)  # both arrived before complete() answered
    assert first == second
    applied: dict[str, Decimal] = {}
    for event in (first, second):
        applied.setdefault(event.event_id, event.amount or Decimal(0))
    assert sum(applied.values()) == Decimal("20.00")


async def test_declined_credit_authorises_nothing(env: Env, http: aiohttp.ClientSession) -> None:
    with pytest.raises(RailDeclined):
        await env.make(http).authorise(REF, env.declined_account, Decimal("50.00"), "EV charging")


async def test_cancel_collects_nothing(env: Env, http: aiohttp.ClientSession) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("50.00"), "EV charging")
    assert (await rail.cancel(REF, "no energy")).state is OrderState.CANCELLED
    assert (await rail.cancel(REF, "no energy")).state is OrderState.CANCELLED
    with pytest.raises(RailRefused):
        await rail.complete(REF, Decimal("1.00"), "EV charging")
    assert env.books() == ("0.00", "0.00")


async def test_zero_completion_collects_nothing(env: Env, http: aiohttp.ClientSession) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("50.00"), "EV charging")
    assert (await rail.complete(REF, Decimal("0.00"), "EV charging")).state is OrderState.CANCELLED
    assert env.books() == ("0.00", "0.00")


async def test_completion_above_the_risk_amount_is_refused(env: Env, http: aiohttp.ClientSession) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("10.00"), "EV charging")
    with pytest.raises(RailRefused):
        await rail.complete(REF, Decimal("10.01"), "EV charging")
    assert env.books() == ("0.00", "0.00")


async def test_refund_part_then_the_rest_once_each(env: Env, http: aiohttp.ClientSession) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("50.00"), "EV charging")
    await rail.complete(REF, Decimal("30.00"), "EV charging")
    assert await rail.refund(REF, "R1", Decimal("10.00"), "dispute") == Decimal("10.00")
    assert await rail.refund(REF, "R1", Decimal("10.00"), "dispute") == Decimal("10.00")  # a repeat
    with pytest.raises(RailRefused):
        await rail.refund(REF, "R2", Decimal("20.01"), "too much")
    await rail.refund(REF, "R3", Decimal("20.00"), "the rest")
    assert env.books() == ("30.00", "30.00")
    await env.merchant.wait_for(3)  # collected, R1, R3
    refunds = {e.refund_reference for e in env.events(rail) if e.kind is EventKind.REFUNDED}
    assert refunds == {"R1", "R3"}


async def test_refund_before_collection_is_refused(env: Env, http: aiohttp.ClientSession) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("50.00"), "EV charging")
    with pytest.raises(RailRefused):
        await rail.refund(REF, "R1", Decimal("1.00"), "nothing collected")


async def test_failed_collection_is_retried_with_the_next_attempt(
    env: Env, http: aiohttp.ClientSession
) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("50.00"), "EV charging")
    env.sim.faults = RailFaults(collection_failure=True)
    failed = await rail.complete(REF, Decimal("25.00"), "EV charging")
    assert failed.state in (OrderState.FAILED, OrderState.COLLECTING) and failed.collected == 0
    env.sim.faults = RailFaults()
    collected = await rail.complete(REF, Decimal("25.00"), "EV charging", attempt=2)
    assert collected.state is OrderState.COLLECTED
    await rail.complete(REF, Decimal("25.00"), "EV charging", attempt=2)
    assert env.books() == ("25.00", "0.00")


async def test_forged_notification_is_refused(env: Env, http: aiohttp.ClientSession) -> None:
    rail = env.make(http)
    await rail.authorise(REF, env.account, Decimal("50.00"), "EV charging")
    await rail.complete(REF, Decimal("25.00"), "EV charging")
    [received] = await env.merchant.wait_for(1)
    with pytest.raises(RailBadNotification):
        rail.notification(received.headers, received.body.replace(b"25", b"52"))


def test_references_are_what_providers_accept() -> None:
    from gateway.rails.port import check_reference

    for bad in ("", "a-b", "a_b", "x" * 33, "订单"):
        with pytest.raises(ValueError):
            check_reference(bad)
