"""Exposure across live sessions: any number of concurrent starts never promise more than the postpay
limit or the wallet, on SQLite and PostgreSQL; settlement releases what a session reserved."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from decimal import Decimal

from gateway.billing import (
    BillingService,
    BillRecord,
    KeyConflict,
    NotPayable,
    PaymentMethod,
    PaymentMode,
    SessionStart,
)
from gateway.billing.admin import Resolution
from gateway.rails.bureau.decision import Denied
from gateway.store import BillStatus, SessionClose, SessionEndReason, SessionRecord, Store, WalletEntryKind
from operators.domain import FinalOrder, OrderLine, SessionPhase

PARALLEL = 20
_ids = itertools.count()


def start(max_cost: str | None = None, mode: PaymentMode | None = None) -> SessionStart:
    return SessionStart(
        "OP", f"C{next(_ids)}", "S", "CNY", None, f"s{next(_ids)}", mode,
        Decimal(max_cost) if max_cost else None,
    )  # fmt: skip


async def starts(billing: BillingService, driver_id: str, count: int = PARALLEL) -> list[SessionRecord]:
    outcomes = await asyncio.gather(
        *(billing.open_session(driver_id, f"k{i}", start()) for i in range(count))
    )
    return [o[0] for o in outcomes if isinstance(o, tuple)]


async def test_parallel_prepaid_starts_never_promise_more_than_the_wallet(
    billing: BillingService, store: Store
):
    await store.add_wallet_entry("carol", Decimal("200"), WalletEntryKind.TOPUP, "opening")
    sessions = await starts(billing, "carol")
    assert sessions and all(s.payment_mode is PaymentMode.PREPAID for s in sessions)
    assert sum(s.max_cost or 0 for s in sessions) <= Decimal("200")
    account = await store.account("carol", "CNY")
    assert account.held == sum(s.max_cost or 0 for s in sessions) <= account.wallet_balance


async def test_parallel_postpaid_starts_never_pass_the_limit(billing: BillingService, store: Store):
    before = await billing.credit_status("alice")
    assert (before.limit, before.available, before.postpay_eligible) == (Decimal(500), Decimal(300), True)
    sessions = await starts(billing, "alice")
    assert all(s.payment_mode is PaymentMode.POSTPAID for s in sessions)
    assert sum(s.max_cost or 0 for s in sessions) == Decimal("500")  # 300 + 200, then nothing left
    after = await billing.credit_status("alice")
    assert after.available == 0 and not after.postpay_eligible
    denied = await billing.open_session("alice", "one-more", start())
    assert isinstance(denied, Denied) and "live sessions" in denied.message


async def test_the_same_key_in_parallel_starts_one_session(billing: BillingService):
    request = start()
    outcomes = await asyncio.gather(
        *(billing.open_session("alice", "same", request) for _ in range(PARALLEL))
    )
    assert [created for _, created in outcomes].count(True) == 1  # type: ignore[misc]
    assert len({session.id for session, _ in outcomes}) == 1  # type: ignore[misc]
    other = await billing.open_session("alice", "same", start("10"))
    assert isinstance(other, KeyConflict)
    assert isinstance(await billing.started("alice", "same", start("10")), KeyConflict)


def order(session: SessionRecord, total: str) -> FinalOrder:
    now = datetime.now(UTC)
    line = OrderLine("ENERGY", Decimal(total))
    return FinalOrder(
        session.id, session.connector_id, "CNY", now, now, Decimal("10"), Decimal(total), (line,)
    )


async def test_settlement_releases_the_hold_and_pays_a_prepaid_bill(billing: BillingService, store: Store):
    await store.add_wallet_entry("carol", Decimal("100"), WalletEntryKind.TOPUP, "opening")
    opened = await billing.open_session("carol", "k", start("40"))
    assert isinstance(opened, tuple)
    session = opened[0]
    assert (await billing.credit_status("carol")).available == Decimal("60")
    booking = await billing.settle(session, order(session, "12.50"))
    assert booking.created and booking.bill.status is BillStatus.PAID and booking.bill.review is None
    assert await store.wallet_balance("carol", "CNY") == Decimal("87.50")
    assert (await billing.credit_status("carol")).available == Decimal("87.50")
    again = await billing.settle(session, order(session, "12.50"))  # a redelivered order
    assert not again.created and again.bill == booking.bill


async def test_a_bill_past_the_cap_is_held_for_review_not_taken_from_the_wallet(
    billing: BillingService, store: Store
):
    await store.add_wallet_entry("carol", Decimal("100"), WalletEntryKind.TOPUP, "opening")
    opened = await billing.open_session("carol", "k", start("6.48"))
    assert isinstance(opened, tuple)
    booking = await billing.settle(opened[0], order(opened[0], "11.20"))
    assert booking.bill.status is BillStatus.UNPAID and booking.bill.review
    assert "6.48" in booking.bill.review
    assert await store.wallet_balance("carol", "CNY") == Decimal("100")
    assert await store.live_reservations("carol") == []


async def test_a_held_bill_is_settled_by_an_admin_at_the_cap(billing: BillingService, store: Store):
    await store.add_wallet_entry("carol", Decimal("100"), WalletEntryKind.TOPUP, "opening")
    opened = await billing.open_session("carol", "k", start("6.48"))
    assert isinstance(opened, tuple)
    held = (await billing.settle(opened[0], order(opened[0], "11.20"))).bill
    resolved = await billing.resolve_bill(
        "admin:ops", "r1", held.id, Resolution.CORRECTED, Decimal("6.48"), "the driver was promised 6.48"
    )
    assert isinstance(resolved, BillRecord)
    assert (resolved.total, resolved.status, resolved.review) == (Decimal("6.48"), BillStatus.UNPAID, None)
    assert resolved.lines[-1].amount == Decimal("-4.72")
    again = await billing.resolve_bill(
        "admin:ops", "r1", held.id, Resolution.CORRECTED, Decimal("6.48"), "the driver was promised 6.48"
    )
    assert again == resolved
    assert isinstance(
        await billing.resolve_bill("admin:ops", "r2", held.id, Resolution.OPERATOR, None, "x"), NotPayable
    )
    paid = await billing.pay_bill("carol", held.id, PaymentMethod.WALLET, "p")
    assert isinstance(paid, BillRecord) and paid.status is BillStatus.PAID
    assert await store.wallet_balance("carol", "CNY") == Decimal("93.52")
    assert await store.check_ledger() == []
    assert [a["action"] for a in await store.audit_trail(held.id)] == ["resolveBill"]


def priced(session: SessionRecord, *amounts: str) -> FinalOrder:
    """An order whose lines carry four places, as OCPI CDRs do."""
    now = datetime.now(UTC)
    lines = tuple(
        OrderLine(kind, Decimal(a)) for kind, a in zip(("ENERGY", "SERVICE"), amounts, strict=False)
    )
    total = sum((line.amount for line in lines), Decimal(0))
    return FinalOrder(session.id, session.connector_id, "CNY", now, now, Decimal("5"), total, lines)


async def test_a_bill_is_booked_and_collected_at_the_minor_unit(billing: BillingService, store: Store):
    await store.add_wallet_entry("carol", Decimal("100"), WalletEntryKind.TOPUP, "opening")
    opened = await billing.open_session("carol", "k", start("40"))
    assert isinstance(opened, tuple)
    bill = (await billing.settle(opened[0], priced(opened[0], "4.2104", "2.1104"))).bill
    assert [line.amount for line in bill.lines] == [Decimal("4.21"), Decimal("2.11")]
    assert bill.total == Decimal("6.32") and bill.status is BillStatus.PAID
    assert await store.wallet_balance("carol", "CNY") == Decimal("93.68")


async def test_lines_that_round_past_the_total_get_one_rounding_line(billing: BillingService):
    opened = await billing.open_session("alice", "k", start("40", PaymentMode.POSTPAID))
    assert isinstance(opened, tuple)
    bill = (await billing.settle(opened[0], priced(opened[0], "1.005", "1.005"))).bill
    assert [(line.kind.value, line.amount) for line in bill.lines] == [
        ("ENERGY", Decimal("1.01")),
        ("SERVICE", Decimal("1.01")),
        ("ADJUSTMENT", Decimal("-0.01")),
    ]
    assert bill.total == Decimal("2.01")


async def test_the_session_is_closed_with_its_bill_in_one_step(billing: BillingService, store: Store):
    opened = await billing.open_session("alice", "k", start("40", PaymentMode.POSTPAID))
    assert isinstance(opened, tuple)
    session = opened[0]
    final = priced(session, "4.2104", "2.1104")
    close = SessionClose(final.energy_kwh, final.started_at, final.ended_at, SessionEndReason.DRIVER_STOP)
    booking = await billing.settle(session, final, close)
    assert booking.session is not None
    assert booking.session.status is SessionPhase.COMPLETED
    assert booking.session.cost == booking.bill.total == Decimal("6.32")
    assert booking.session.end_reason is SessionEndReason.DRIVER_STOP
    assert await store.get_session(session.id) == booking.session
