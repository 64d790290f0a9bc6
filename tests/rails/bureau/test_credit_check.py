"""The credit check end to end: bureau simulator → HTTP provider → cache → policy."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gateway.rails.bureau.cached import CachedCreditProvider
from gateway.rails.bureau.check import Bureau, CreditCheck, Standing
from gateway.rails.bureau.decision import DenialReason, Denied, PaymentMode, Postpaid, Prepaid
from gateway.rails.bureau.demo import DEMO_DRIVERS, demo_wallets
from gateway.rails.bureau.http import HttpCreditProvider
from gateway.rails.bureau.policy import CreditPolicy
from gateway.rails.bureau.provider import NoCreditProvider
from gateway.rails.bureau.sim.server import BureauFaults


@pytest.fixture
def check(provider, cache) -> CreditCheck:
    return CreditCheck(CachedCreditProvider(provider, cache), CreditPolicy())


async def test_the_demo_drivers(check):
    wallets = demo_wallets()
    decisions = {
        d.driver_id: await check.evaluate(d.driver_id, Standing(wallets[d.driver_id])) for d in DEMO_DRIVERS
    }
    assert decisions["alice"] == Postpaid(D("300"))
    assert isinstance(decisions["bob"], Denied) and decisions["bob"].reason_code is DenialReason.SCORE_TOO_LOW
    assert decisions["bob"].score == 480
    assert decisions["carol"] == Prepaid(D("200.00"))


async def test_bureau_down_means_no_postpay_but_prepaid_works(check, bureau):
    bureau.faults = BureauFaults(down=True)
    denied = await check.evaluate("alice", Standing(D(0)))
    assert isinstance(denied, Denied) and denied.reason_code is DenialReason.BUREAU_UNAVAILABLE
    assert denied.score is None
    assert await check.evaluate("alice", Standing(D("50"))) == Prepaid(D("50"))


async def test_bureau_timeout_is_bureau_down(http, bureau, cache):
    bureau.faults = BureauFaults(timeout_rate=1.0)
    check = CreditCheck(
        HttpCreditProvider(http, bureau.base_url, bureau.config.api_key, timeout_s=0.1), CreditPolicy()
    )
    denied = await check.evaluate("alice", Standing(D(0)))
    assert isinstance(denied, Denied) and denied.reason_code is DenialReason.BUREAU_UNAVAILABLE


async def test_explicit_prepaid_does_not_ask_the_bureau(check, bureau):
    assert await check.evaluate("alice", Standing(D("30")), PaymentMode.PREPAID) == Prepaid(D("30"))
    assert bureau.calls["alice"] == 0


async def test_ledger_standing_is_applied(check):
    overdue = await check.evaluate("alice", Standing(D(0), outstanding=D("10"), has_overdue=True))
    assert isinstance(overdue, Denied) and overdue.reason_code is DenialReason.OVERDUE_BILL
    assert await check.evaluate("alice", Standing(D(0), outstanding=D("420"))) == Postpaid(D("80"))


async def test_bureau_and_limit(check, bureau):
    alice = await check.bureau("alice")
    assert alice == Bureau(720, True) and check.limit(alice) == D(500)
    assert check.limit(await check.bureau("carol")) == 0  # below every band: no postpay limit
    assert await check.bureau("carol", PaymentMode.PREPAID) == Bureau(None, True)  # prepaid: not asked
    bureau.faults = BureauFaults(down=True)
    down = await check.bureau("bob")  # not cached yet
    assert down == Bureau(None, False) and check.limit(down) == 0


async def test_live_sessions_in_the_standing_count(check):
    live = Standing(D(100), outstanding=D("100"), reserved=D("300"), held=D("70"))
    assert await check.evaluate("alice", live) == Postpaid(D("100"))
    assert await check.evaluate("alice", live, PaymentMode.PREPAID) == Prepaid(D("30"))


async def test_no_bureau_configured():
    check = CreditCheck(NoCreditProvider(), CreditPolicy())
    denied = await check.evaluate("alice", Standing(D(0)))
    assert isinstance(denied, Denied) and denied.reason_code is DenialReason.BUREAU_UNAVAILABLE
    assert await check.evaluate("alice", Standing(D(20))) == Prepaid(D(20))
