"""Random money histories against the ledger check: whatever drivers, operators, admins and crashes
do, in any order, the ledger's invariants hold after every step (hypothesis, seeded).

Steps: start (credit check and reservation), progress, stop, fail, final order (settlement, past
the cap too), top-up (with reused keys), pay (wallet or card, reused keys), refund, a card payment
cut short by a crash before or after the provider charged, and kill-and-restart (reopen the ledger,
reconcile pending payments). After each: ``check_ledger()`` is empty and no driver has been promised
more than their limit or wallet.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.billing import BillingService, PaymentMethod, SessionStart
from gateway.rails.bureau.check import CreditCheck
from gateway.rails.bureau.policy import CreditPolicy
from gateway.rails.bureau.provider import CreditScore
from gateway.rails.card import DemoCard
from gateway.settings.load import LedgerSettings
from gateway.store import (
    PaymentStatus,
    SessionClose,
    SessionEndReason,
    SessionRecord,
    Store,
    WalletEntryKind,
    open_store,
)
from operators.domain import FinalOrder, OrderLine, SessionPhase

DRIVERS = ("alice", "carol")
SCORES = {"alice": 720, "carol": 520}  # postpaid (limit 500, cap 300) and prepaid


class ScoreTable:
    """The credit port, in memory: the demo drivers' scores (the bureau simulator is tested apart)."""

    async def score(self, driver_id: str) -> CreditScore:
        return CreditScore(driver_id, SCORES.get(driver_id), datetime.now(UTC))


pick = st.integers(min_value=0, max_value=40)
STEP = st.one_of(
    st.tuples(st.just("start"), st.sampled_from(DRIVERS), st.sampled_from([None, "5", "50", "250"])),
    st.tuples(st.just("progress"), pick, st.sampled_from(["0.50", "3", "40"])),
    st.tuples(st.just("stop"), pick),
    st.tuples(st.just("fail"), pick),
    st.tuples(st.just("order"), pick, st.sampled_from(["0", "4.00", "12.34", "7.0051", "60", "400"])),
    st.tuples(
        st.just("top_up"), st.sampled_from(DRIVERS), st.sampled_from(["1", "20", "150"]), st.integers(0, 3)
    ),
    st.tuples(st.just("pay"), pick, st.sampled_from(list(PaymentMethod)), st.integers(0, 3)),
    st.tuples(st.just("refund"), pick, st.sampled_from([None, "1", "5"]), st.integers(0, 3)),
    st.tuples(st.just("crash_pay"), pick, st.booleans()),
    st.tuples(st.just("restart")),
)


@dataclass
class World:
    path: Path
    provider: DemoCard = field(default_factory=DemoCard)
    store: Store | None = None
    billing: BillingService | None = None
    sessions: list[str] = field(default_factory=list)
    bills: list[str] = field(default_factory=list)
    starts: int = 0

    async def open(self) -> None:
        self.store = await open_store(f"sqlite+aiosqlite:///{self.path}")
        credit = CreditCheck(ScoreTable(), CreditPolicy())
        self.billing = BillingService(self.store, credit, self.provider, LedgerSettings(), "CNY")

    async def session(self, n: int) -> SessionRecord | None:
        if not self.sessions:
            return None
        assert self.store is not None
        return await self.store.get_session(self.sessions[n % len(self.sessions)])


async def step(world: World, action: tuple[Any, ...]) -> None:
    store, billing = world.store, world.billing
    assert store is not None and billing is not None
    kind = action[0]
    if kind == "start":
        world.starts += 1
        n = world.starts
        request = SessionStart(
            "OP", f"C{n}", "S", "CNY", None, f"s{n}", None, Decimal(action[2]) if action[2] else None
        )
        opened = await billing.open_session(action[1], f"k{n}", request)
        if isinstance(opened, tuple):
            world.sessions.append(opened[0].id)
    elif kind in ("progress", "stop", "fail"):
        session = await world.session(action[1])
        if session is None:
            return
        if kind == "progress":
            await store.apply_progress(
                session.id, status=SessionPhase.CHARGING, cost=session.cost + Decimal(action[2])
            )
        elif kind == "stop":
            await store.apply_progress(session.id, status=SessionPhase.STOPPING)
        elif session.status is not SessionPhase.COMPLETED:
            await store.apply_progress(session.id, status=SessionPhase.FAILED, failure="fault")
            await billing.release(session.id)
    elif kind == "order":
        session = await world.session(action[1])
        if session is None or (await store.bills_for_sessions([session.id])):
            return
        now, total = datetime.now(UTC), Decimal(action[2])
        order = FinalOrder(
            session.id,
            session.connector_id,
            "CNY",
            now,
            now,
            Decimal(1),
            total,
            (OrderLine("ENERGY", total),),
        )
        close = SessionClose(order.energy_kwh, now, now, SessionEndReason.DRIVER_STOP)
        booking = await billing.settle(session, order, close)  # as the session service settles
        world.bills.append(booking.bill.id)
    elif kind == "top_up":
        await billing.top_up(action[1], Decimal(action[2]), f"t{action[3]}")
    elif kind in ("pay", "refund", "crash_pay") and world.bills:
        bill = await store.get_bill(world.bills[action[1] % len(world.bills)])
        assert bill is not None
        if kind == "pay":
            await billing.pay_bill(bill.driver_id, bill.id, action[2], f"p{action[3]}")
        elif kind == "refund":
            paid = [
                p for p in (await billing.payments([bill.id]))[bill.id] if p.status is PaymentStatus.SETTLED
            ]
            if paid:
                amount = Decimal(action[2]) if action[2] else None
                await billing.refund("admin:ops", f"r{action[3]}", paid[0].id, amount, "goodwill")
        else:
            started = await store.begin_bill_payment(
                bill.driver_id, bill.id, PaymentMethod.PROVIDER, "crash", bill.id
            )
            if started.payment is not None and action[2]:
                payment = started.payment
                await world.provider.authorise(payment.id, payment.driver_id, payment.amount, "t")
                await world.provider.complete(payment.id, payment.amount, "t")
    elif kind == "restart":
        await store.close()
        await world.open()
        assert world.billing is not None
        await world.billing.reconcile_payments(grace=timedelta(0))


async def promises_hold(store: Store) -> None:
    for driver_id in DRIVERS:
        account = await store.account(driver_id, "CNY")
        assert account.held <= account.wallet_balance, (driver_id, account)
        assert account.reserved <= Decimal(500), (driver_id, account)


async def run(actions: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp) / "ledger.sqlite3")
        await world.open()
        assert world.store is not None
        await world.store.add_wallet_entry("carol", Decimal("100"), WalletEntryKind.TOPUP, "opening")
        try:
            for action in actions:
                await step(world, action)
                assert world.store is not None
                assert await world.store.check_ledger() == [], (action, actions)
                await promises_hold(world.store)
        finally:
            assert world.store is not None
            await world.store.close()


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=10, max_size=40))
def test_the_ledger_holds_together_after_every_step(actions: list[tuple[Any, ...]]) -> None:
    asyncio.run(run(actions))
