"""The generic credit bureau behind the credit-rail port, against the bureau simulator on loopback:
the bureau decides at authorisation, the card collects; the port's contract holds on it too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from gateway.rails.bureau.check import CreditCheck
from gateway.rails.bureau.http import HttpCreditProvider
from gateway.rails.bureau.policy import CreditPolicy
from gateway.rails.bureau.rail import BureauRail
from gateway.rails.bureau.sim.server import BureauConfig, BureauFaults, CreditBureauSimulator
from gateway.rails.card import CardBooks, DemoCard
from gateway.rails.port import EventKind, OrderState, RailDeclined, RailRefused, RailUnavailable

KEY = "test-bureau-key-0123456789"
REF = "S0000000000000000000000000000001"


@pytest.fixture
async def bureau() -> AsyncIterator[CreditBureauSimulator]:
    async with CreditBureauSimulator(BureauConfig(api_key=KEY, derive_unknown=False)) as sim:
        yield sim


@pytest.fixture
async def check(bureau: CreditBureauSimulator) -> AsyncIterator[CreditCheck]:
    async with aiohttp.ClientSession() as http:
        yield CreditCheck(HttpCreditProvider(http, bureau.base_url, KEY, timeout_s=2.0), CreditPolicy())


async def test_the_bureau_authorises_and_the_card_collects_once_across_a_restart(check: CreditCheck) -> None:
    books = CardBooks()
    held = await BureauRail(check, DemoCard(books)).authorise(REF, "alice", Decimal("300.00"), "EV charging")
    assert held.state is OrderState.AUTHORISED and books.orders[REF].risk_amount == Decimal("300.00")
    rail = BureauRail(check, DemoCard(books))  # a new process: the card's books survived
    collected = await rail.complete(REF, Decimal("42.50"), "EV charging")
    assert collected == await rail.complete(REF, Decimal("42.50"), "EV charging")
    assert (await rail.query(REF)).collected == Decimal("42.50") == books.collected()
    assert await rail.refund(REF, "R1", Decimal("2.50"), "dispute") == Decimal("2.50")
    assert await rail.refund(REF, "R1", Decimal("2.50"), "dispute") == Decimal("2.50")
    assert books.refunded() == Decimal("2.50")
    events = {rail.notification(h, b) for h, b in books.notifications}  # verified, one per event id
    assert sorted(e.kind.value for e in events) == [EventKind.COLLECTED.value, EventKind.REFUNDED.value]


async def test_the_bureau_declines_what_the_score_does_not_cover(check: CreditCheck) -> None:
    rail = BureauRail(check, DemoCard())
    with pytest.raises(RailDeclined):
        await rail.authorise(REF, "bob", Decimal("10.00"), "EV charging")  # 480: below every band
    with pytest.raises(RailDeclined):
        await rail.authorise(REF, "alice", Decimal("500.01"), "EV charging")  # 720: ¥500 at most
    with pytest.raises(RailDeclined):
        await rail.authorise(REF, "nobody", Decimal("10.00"), "EV charging")  # unknown to the bureau
    with pytest.raises(RailRefused):
        await rail.complete(REF, Decimal("1.00"), "EV charging")  # nothing was held
    assert (await rail.query(REF)).state is OrderState.UNKNOWN


async def test_a_bureau_that_does_not_answer_authorises_nothing(
    check: CreditCheck, bureau: CreditBureauSimulator
) -> None:
    bureau.faults = BureauFaults(down=True)
    books = CardBooks()
    with pytest.raises(RailUnavailable):
        await BureauRail(check, DemoCard(books)).authorise(REF, "alice", Decimal("10.00"), "EV charging")
    assert books.orders == {}
