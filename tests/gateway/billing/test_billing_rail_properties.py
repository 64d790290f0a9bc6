"""Random histories of collections on Alipay pay-after-use against the money rules, on SQLite and
PostgreSQL (hypothesis, derandomized: the same histories every run).

Two replicas share the ledger, each with its own connection pool and client session to the Alipay
simulator (a real HTTP server on loopback). Steps: a session billed and collected at once, the
retry job on one replica or on both at the same moment (meeting at the provider), reconciliation
of pending payments, a notification the provider sent delivered (again, late, to either replica),
each while the provider collects, fails to collect or is down, and while the answers to
collections are lost or not (the provider acts, the caller never hears); and the clock moved on.
After every step both sides' books obey :func:`tests.gateway.billing.rail_books.check` and the
ledger check. At the end the provider answers again, collecting or failing, and time passes until
every retry has run: then nothing is pending, and every bill is PAID or failed all its attempts
and is flagged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from gateway.billing import BillingService, BillStatus, PaymentMethod, PaymentMode, PaymentStatus
from gateway.billing.rails import MAX_ATTEMPTS, Enrolment, RailBilling
from gateway.billing.requests import request_hash
from gateway.rails.alipay.client import AlipayClient, AlipayConfig
from gateway.rails.alipay.rail import AlipayRail
from gateway.rails.alipay.sim.config import AlipaySimConfig
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.bureau.check import CreditCheck
from gateway.rails.bureau.policy import CreditPolicy
from gateway.rails.card import CardBooks, DemoCard
from gateway.rails.port import CreditRail, RailError, RailOrder, RailUnavailable
from gateway.rails.sim.faults import RailFaults
from gateway.settings.load import LedgerSettings
from gateway.store import PaymentOutcome, SessionClose, SessionEndReason, Store, open_store
from tests.gateway.billing.rail_books import ZERO, check, collection
from tests.gateway.billing.rail_doubles import Call, Intercepted, Lockstep
from tests.gateway.billing.test_billing_exposure import order, start
from tests.gateway.billing.test_billing_properties import ScoreTable
from tests.gateway.store.conftest import LEDGER_TABLES
from tests.rails.conftest import ALIPAY_APP_ID, KeyPair, MerchantEndpoint, merchant_endpoint
from tests.servers import postgres_database

PROVIDER = {  # how the provider behaves during a step; every notification is sent before it answers
    "fails": RailFaults(collection_failure=True, notify_before_response=True),
    "collects": RailFaults(notify_before_response=True),
    "down": RailFaults(down=True),
}
# The provider's behaviour during a step, and whether the answers to collections are lost.
BEHAVES = st.tuples(st.sampled_from(list(PROVIDER)), st.booleans())
STEP = st.one_of(
    st.tuples(st.just("charge"), st.sampled_from(["0.01", "12.00", "19.99"]), BEHAVES),
    st.tuples(st.just("retry"), st.sampled_from([1, 2]), BEHAVES),  # on replica A, or on both at once
    st.tuples(st.just("reconcile"), st.integers(0, 1), BEHAVES),  # pending payments, on A or B
    st.tuples(st.just("notify"), st.integers(0, 63), BEHAVES),  # one the provider sent, to A or B
    st.tuples(st.just("pay"), st.integers(0, 63), st.booleans()),  # alice pays by card (and A dies)
    st.tuples(st.just("advance"), st.sampled_from([61, 601, 3601, 86400])),
)


@dataclass
class World:
    sim: AlipaySimulator
    replicas: list[BillingService]  # A and B: each its own ledger connection and client session
    ports: list[CreditRail]  # each replica's own
    enrolments: dict[str, Enrolment]
    notes: MerchantEndpoint  # acknowledges every notification, keeps them all
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    bills: list[str] = field(default_factory=list)
    card: CardBooks = field(default_factory=CardBooks)  # the acquirer's books, every replica's card
    charges: int = 0
    losing: bool = False  # the provider acts on a collection, but its answer never arrives

    @property
    def store(self) -> Store:
        """Replica A's connection to the ledger, which the books are read through."""
        return self.replicas[0].store

    async def step(self, action: tuple[Any, ...]) -> None:
        kind, a = action[0], self.replicas[0]
        if kind == "advance":
            self.now += timedelta(seconds=action[1])
            return
        if kind == "pay":
            await self.pay(*action[1:])
            return
        if kind == "charge":  # opened on a provider that answers, billed on one that behaves so
            self.charges += 1
            opened = await a.open_session("alice", f"k{self.charges}", start("20", PaymentMode.POSTPAID))
            if not isinstance(opened, tuple):  # alice owes her whole postpay limit already
                return
            session, final = opened[0], order(opened[0], action[1])
            ended = final.started_at, final.ended_at, SessionEndReason.DRIVER_STOP
        async with self.provider(*action[2]):
            if kind == "charge":
                booking = await a.settle(session, final, SessionClose(final.energy_kwh, *ended))
                self.bills.append(booking.bill.id)
            elif kind == "retry":
                await self.retry(action[1])
            elif kind == "reconcile":
                await self.replicas[action[1]].reconcile_payments(grace=timedelta(0))
            elif kind == "notify" and self.notes.received:
                await self.deliver(action[1])

    @asynccontextmanager
    async def provider(self, behaviour: str, losing: bool) -> AsyncIterator[None]:
        self.sim.faults, self.losing = PROVIDER[behaviour], losing
        try:
            yield
        finally:
            self.sim.faults, self.losing = PROVIDER["collects"], False

    async def lost_answers(self, call: Call) -> RailOrder:
        """The provider collects (or fails to) as asked, and the caller may never hear of it."""
        order = await call()
        if self.losing:
            raise RailUnavailable("timeout", "the provider's answer was lost")
        return order

    async def retry(self, replicas: int) -> None:
        """The retry job at the world's time on the first ``replicas`` replicas at once, in lockstep."""
        lockstep = Lockstep(replicas)
        jobs = []
        for replica, port in zip(self.replicas[:replicas], self.ports, strict=False):
            rails = RailBilling(replica.store, {"alipay": lockstep.around(port)}, self.enrolments)
            jobs.append(lockstep.running(rails.retry_collections(self.now)))
        await asyncio.gather(*jobs)

    async def deliver(self, n: int) -> None:
        """The ``n``-th notification sent so far (any of them, again), to replica A or B."""
        sent = self.notes.received[n % len(self.notes.received)]
        replica, port = self.replicas[n % 2], self.ports[n % 2]
        assert replica.rails is not None
        # Unanswered, the order's query fails: the endpoint answers 500, the provider delivers again.
        with contextlib.suppress(RailError):
            await replica.rails.apply(port, port.notification(sent.headers, sent.body))

    async def pay(self, n: int, dies: bool) -> None:
        """Alice pays the ``n``-th bill by card herself; when ``dies``, replica A dies after the card
        captured and before the ledger heard (the payment is left pending)."""
        if not self.bills:
            return
        a, bill_id = self.replicas[0], self.bills[n % len(self.bills)]
        key, method = f"pay-{bill_id}", PaymentMethod.PROVIDER
        if not dies:
            await a.pay_bill("alice", bill_id, method, key)
            return
        started = await self.store.begin_bill_payment("alice", bill_id, method, key, paying(bill_id, method))
        if started.outcome is PaymentOutcome.PENDING and started.payment is not None:
            payment, card = started.payment, DemoCard(self.card)
            await card.authorise(payment.id, "alice", payment.amount, "EV charging")
            await card.complete(payment.id, payment.amount, "EV charging")

    async def check(self) -> None:
        for bill_id in self.bills:
            found = await collection(self.store, self.sim, bill_id)
            check(found)
            # What the card took for the bill: with the rail's, at most the bill, and as booked.
            orders = [self.card.orders[p.id] for p in found.others if p.id in self.card.orders]
            taken = sum((order.collected for order in orders), ZERO)
            assert found.collected + taken <= found.bill.total, (found, taken)
            if not any(p.status is PaymentStatus.PENDING for p in found.others):
                booked = [p.amount for p in found.others if p.status is PaymentStatus.SETTLED]
                assert taken == sum(booked, ZERO), (found, taken)
        assert await self.store.check_ledger() == []

    async def drain(self, ending: str) -> None:
        """The provider answers again (collecting or failing as ``ending`` says) and time passes
        until every retry has run; then each bill is PAID, or failed every attempt and is flagged."""
        for _ in range(MAX_ATTEMPTS + 1):
            async with self.provider(ending, False):
                await self.replicas[0].reconcile_payments(grace=timedelta(0))
                self.now += timedelta(days=1)
                await self.retry(2)
            await self.check()
        for bill_id in self.bills:
            done = await collection(self.store, self.sim, bill_id)
            assert not done.pending, done.payments
            assert done.bill.status is BillStatus.PAID or (done.exhausted and done.mismatches == 1), done


def paying(bill_id: str, method: PaymentMethod) -> str:
    """What payBill binds its key to (so a key the driver reuses answers the same)."""
    return request_hash("pay", bill_id, method.value)


async def emptied(url: str) -> None:
    """The ledger at ``url`` as new: a SQLite file removed, every table of a PostgreSQL one emptied."""
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite+aiosqlite:///") + suffix).unlink(missing_ok=True)
        return
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
            await conn.execute(f"TRUNCATE {', '.join(LEDGER_TABLES)} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


async def run(url: str, keys: tuple[KeyPair, KeyPair], actions: list[tuple[Any, ...]], ending: str) -> None:
    """One history, from an empty ledger and a new simulator, then its ending."""
    merchant, provider = keys
    await emptied(url)
    async with AsyncExitStack() as stack:
        notes = await stack.enter_async_context(merchant_endpoint())
        sim_config = AlipaySimConfig({ALIPAY_APP_ID: merchant.public}, provider.private, retry_delays=(0.05,))
        sim = await stack.enter_async_context(AlipaySimulator(sim_config))
        sim.faults = PROVIDER["collects"]
        config = AlipayConfig(
            ALIPAY_APP_ID, merchant.private, provider.public, sim.gateway_url, notes.url, "2020000000000001"
        )
        agreement = sim.ledger.sign(ALIPAY_APP_ID, "AGRalice", "alice@example.com").credit_agreement_id
        enrolments = {"alice": Enrolment("alipay", agreement)}
        credit = CreditCheck(ScoreTable(), CreditPolicy())
        world = World(sim, [], [], enrolments, notes)
        for _ in range(2):  # two processes: each its own ledger connection and client session
            ledger = await open_store(url)
            stack.push_async_callback(ledger.close)
            http = await stack.enter_async_context(aiohttp.ClientSession())
            port = Intercepted(AlipayRail(AlipayClient(http, config)), world.lost_answers)
            rails = RailBilling(ledger, {"alipay": port}, enrolments)
            card = DemoCard(world.card)
            world.replicas.append(BillingService(ledger, credit, card, LedgerSettings(), "CNY", rails))
            world.ports.append(port)
        for action in actions:
            await world.step(action)
            await world.check()
        await world.drain(ending)


@pytest.fixture(params=["sqlite", "postgres"])
async def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database for the whole run of examples (each example starts from an empty ledger)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    async with postgres_database(request.getfixturevalue("postgres_server_url"), "railprops") as url:
        yield url


@settings(
    max_examples=20, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(actions=st.lists(STEP, min_size=8, max_size=30), ending=st.sampled_from(["collects", "fails"]))
def test_collections_keep_the_money_rules_whatever_happens(
    ledger_url: str,
    merchant_keys: KeyPair,
    provider_keys: KeyPair,
    actions: list[tuple[Any, ...]],
    ending: str,
) -> None:
    asyncio.run(run(ledger_url, (merchant_keys, provider_keys), actions, ending))
