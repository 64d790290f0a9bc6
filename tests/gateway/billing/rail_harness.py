"""The credit rails under the billing service, for the billing tests: each rail's simulator (a real
HTTP server on loopback) and how a fresh process builds its port, a billing service as a fresh
process builds it, and the steps the tests repeat (a postpaid session of alice's authorised on the
rail, a bill whose collection failed). The fixtures are registered in this folder's conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.billing import BillingService, BillRecord, PaymentMode, SessionRecord
from gateway.billing.rails import Enrolment, RailBilling
from gateway.rails.alipay import zhima
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.rail import AlipayRail
from gateway.rails.bureau.check import CreditCheck
from gateway.rails.card import DemoCard
from gateway.rails.port import CreditRail
from gateway.rails.sim.faults import RailFaults
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.rail import WeChatPayRail
from gateway.settings.load import LedgerSettings
from gateway.store import Store, open_store
from tests.gateway.billing.test_billing_exposure import order, start
from tests.rails.conftest import Received

NewBilling = Callable[..., BillingService]
REPLICAS = 2  # gateway processes sharing one ledger


@dataclass
class Rail:
    sim: Any
    name: str
    good: str  # alice's account
    declined: str
    make: Callable[[aiohttp.ClientSession], CreditRail]

    def collected(self) -> str:
        """What the provider really took, by its own books."""
        return self.sim.ledger.to_json()["collected"]


@pytest.fixture
async def alice_agreements(alipay: AlipayClient) -> tuple[str, str]:
    good = await zhima.sign_agreement(alipay, "AGRalice", "alice@example.com")
    risky = await zhima.sign_agreement(alipay, "AGRrisky", "risky@example.com")
    return good.credit_agreement_id, risky.credit_agreement_id


@pytest.fixture(params=["alipay", "wechatpay"])
def rail(request: pytest.FixtureRequest) -> Rail:
    if request.param == "alipay":
        client: AlipayClient = request.getfixturevalue("alipay")
        good, risky = request.getfixturevalue("alice_agreements")
        sim = request.getfixturevalue("alipay_sim")
        return Rail(sim, "alipay", good, risky, lambda http: AlipayRail(AlipayClient(http, client.config)))
    wechat_client: WeChatPayClient = request.getfixturevalue("wechat")
    sim = request.getfixturevalue("wechat_sim")
    return Rail(
        sim,
        "wechatpay",
        "o-alice",
        "o-risky",
        lambda h: WeChatPayRail(WeChatPayClient(h, wechat_client.config)),
    )


@pytest.fixture
async def ledgers(store: Store) -> AsyncIterator[list[Store]]:
    """The ledger as each of :data:`REPLICAS` processes opens it: the test's store, and more on the
    same database, each with its own connection pool."""
    url = store.database.engine.url.render_as_string(hide_password=False)
    more = [await open_store(url) for _ in range(REPLICAS - 1)]
    try:
        yield [store, *more]
    finally:
        for ledger in more:
            await ledger.close()


@pytest.fixture
async def new_billing(store: Store, credit: CreditCheck, rail: Rail) -> AsyncIterator[NewBilling]:
    """A billing service as a fresh process builds it: its own client session, nothing shared."""
    sessions: list[aiohttp.ClientSession] = []

    def build(
        account: str = "",
        ledger: Store | None = None,
        wrap: Callable[[CreditRail], CreditRail] | None = None,
        card: DemoCard | None = None,
    ) -> BillingService:
        """``ledger``: the process's own connection to the ledger; ``wrap``: what it puts around its
        port to the rail; ``card``: its card (a demo card with books of its own by default)."""
        sessions.append(aiohttp.ClientSession())
        port = rail.make(sessions[-1])
        books = ledger or store
        enrolled = {"alice": Enrolment(rail.name, account or rail.good)}
        rails = RailBilling(books, {rail.name: wrap(port) if wrap else port}, enrolled)
        return BillingService(books, credit, card or DemoCard(), LedgerSettings(), "CNY", rails)

    try:
        yield build
    finally:
        for session in sessions:
            await session.close()


def rails_of(billing: BillingService) -> RailBilling:
    assert billing.rails is not None
    return billing.rails


def port_of(billing: BillingService, rail: Rail) -> CreditRail:
    """The billing service's own port to ``rail``."""
    found = rails_of(billing).rail(rail.name)
    assert found is not None
    return found


async def open_postpaid(billing: BillingService, key: str = "k1", cap: str = "300") -> SessionRecord:
    """A postpaid session of alice's, authorised on her rail for ``cap``."""
    opened = await billing.open_session("alice", key, start(cap, PaymentMode.POSTPAID))
    assert isinstance(opened, tuple), opened
    return opened[0]


async def failed_collection(
    billing: BillingService,
    rail: Rail,
    total: str = "12.00",
    key: str = "k1",
    cap: str = "300",
    **faults: bool,
) -> tuple[SessionRecord, BillRecord]:
    """A session billed ``total`` whose collection the provider could not make (the simulator's
    ``collection_failure`` fault, left on, with ``faults``); the bill as booked."""
    session = await open_postpaid(billing, key, cap)
    rail.sim.faults = RailFaults(collection_failure=True, **faults)
    booking = await billing.settle(session, order(session, total))
    return session, booking.bill


def acknowledging(
    billing: BillingService, rail: Rail, applied: list[str]
) -> Callable[[Received], Awaitable[web.Response]]:
    """A merchant endpoint's answer: verify and apply the notification through ``billing``, then
    acknowledge it; each applied notification's id in ``applied``."""
    port = port_of(billing, rail)

    async def answer(received: Received) -> web.Response:
        event = port.notification(received.headers, received.body)
        await rails_of(billing).apply(port, event)
        applied.append(event.event_id)
        ack = port.acknowledgement
        return web.Response(status=ack.status, text=ack.body or None)

    return answer
