"""Bills: one per session, immutable lines, adjustments, overdue marking, outstanding debt."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.store import (
    BillClosedError,
    BillLineInput,
    BillRecord,
    BillStatus,
    LineKind,
    PaymentMethod,
    SessionRecord,
    Store,
    WalletEntryKind,
)
from operators.domain import OrderLine

NewSession = Callable[..., Awaitable[SessionRecord]]
NewBill = Callable[..., Awaitable[BillRecord]]
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


async def test_final_order_lines_become_one_bill(store: Store, new_session: NewSession) -> None:
    session = await new_session("alice")
    lines = [
        OrderLine("ENERGY", Decimal("8.40"), T0, T0 + timedelta(hours=1), Decimal("10.5"), Decimal("0.8")),
        OrderLine("SERVICE", Decimal("4.20"), T0, T0 + timedelta(hours=1), Decimal("10.5"), Decimal("0.4")),
        OrderLine("PARKING", Decimal("5")),
        OrderLine("IDLE_FEE", Decimal("1.5")),
    ]
    bill, created = await store.create_bill(
        session.id, "alice", "CNY", lines, Decimal("19.10"), Decimal("19.0999"), BillStatus.UNPAID, T0 + WEEK
    )
    assert created and bill.status is BillStatus.UNPAID and bill.session_id == session.id
    assert bill.total == Decimal("19.10") and bill.discrepancy == Decimal("0.0001")
    assert [(line.position, line.kind, line.description) for line in bill.lines] == [
        (1, LineKind.ENERGY, "Electricity"),
        (2, LineKind.SERVICE, "Service fee"),
        (3, LineKind.PARKING, "Parking"),
        (4, LineKind.OTHER, "Idle fee"),
    ]
    energy = bill.lines[0]
    assert (energy.start, energy.end, energy.energy_kwh, energy.unit_price) == (
        T0, T0 + timedelta(hours=1), Decimal("10.5"), Decimal("0.8"),
    )  # fmt: skip
    assert await store.get_bill(bill.id) == bill
    assert await store.get_bill_for_driver("alice", bill.id) == bill
    assert await store.get_bill_for_driver("bob", bill.id) is None
    assert await store.bills_for_sessions([session.id, "none"]) == {session.id: bill}


async def test_a_session_is_billed_once(store: Store, new_session: NewSession) -> None:
    session = await new_session("alice")
    line = BillLineInput(LineKind.FLAT, Decimal("3"), "Session fee")

    async def bill_it(amount: str) -> tuple[BillRecord, bool]:
        changed = BillLineInput(LineKind.FLAT, Decimal(amount), "Session fee")
        return await store.create_bill(
            session.id, "alice", "CNY", [changed], Decimal(amount), None, BillStatus.UNPAID, T0 + WEEK
        )

    results = await asyncio.gather(*(bill_it(str(n)) for n in range(3, 13)))
    assert len({bill.id for bill, _ in results}) == 1 and sum(created for _, created in results) == 1
    first = next(bill for bill, created in results if created)
    again, created = await store.create_bill(
        session.id, "alice", "CNY", [line, line], Decimal("6"), None, BillStatus.UNPAID, T0 + WEEK
    )
    assert not created and again == first and len(again.lines) == 1
    with pytest.raises(ValueError, match="not driver"):
        await store.create_bill(session.id, "bob", "CNY", [line], Decimal("3"), None, BillStatus.UNPAID, T0)
    with pytest.raises(ValueError, match="unpaid"):
        await store.create_bill(session.id, "alice", "CNY", [line], Decimal("3"), None, BillStatus.PAID, T0)


async def test_corrections_are_new_lines(store: Store, new_bill: NewBill) -> None:
    bill = await new_bill("alice", Decimal("10"), Decimal("2.5"))
    corrected = await store.add_adjustment_line(
        bill.id, Decimal("-1.25"), "Tariff correction", reference="fix-1"
    )
    assert corrected is not None and corrected.total == Decimal("11.25")
    assert corrected.lines[:2] == bill.lines  # the original lines are untouched
    assert (corrected.lines[2].position, corrected.lines[2].kind, corrected.lines[2].amount) == (
        3, LineKind.ADJUSTMENT, Decimal("-1.25"),
    )  # fmt: skip
    retried = await store.add_adjustment_line(
        bill.id, Decimal("-1.25"), "Tariff correction", reference="fix-1"
    )
    assert retried == corrected
    assert await store.add_adjustment_line("missing", Decimal("1"), "x") is None
    with pytest.raises(ValueError):
        await store.add_adjustment_line(bill.id, Decimal("0"), "nothing")
    await store.add_wallet_entry("alice", Decimal("100"), WalletEntryKind.TOPUP, "t")
    assert (await store.begin_bill_payment("alice", bill.id, PaymentMethod.WALLET, "pay-1", "h")).paid
    with pytest.raises(BillClosedError):
        await store.add_adjustment_line(bill.id, Decimal("1"), "too late")


async def test_overdue_bills_block_and_count(store: Store, new_bill: NewBill) -> None:
    now = datetime.now(UTC)
    late = await new_bill("bob", Decimal("30"), due_at=now - timedelta(days=1))
    due_now = await new_bill("bob", Decimal("5"), due_at=now)
    not_yet = await new_bill("bob", Decimal("7.5"), due_at=now + timedelta(days=1))
    disputed = await new_bill("bob", Decimal("1"), due_at=now - timedelta(days=1), status=BillStatus.DISPUTED)
    await new_bill("alice", Decimal("99"), due_at=now - timedelta(days=1))
    assert not await store.has_overdue("bob")
    assert await store.mark_overdue(now) == 3  # bob's two and alice's one
    assert await store.mark_overdue(now) == 0
    assert await store.has_overdue("bob") and await store.has_overdue("alice")
    statuses = {b.id: (await store.get_bill(b.id)).status for b in (late, due_now, not_yet, disputed)}  # type: ignore[union-attr]
    assert statuses == {
        late.id: BillStatus.OVERDUE,
        due_now.id: BillStatus.OVERDUE,
        not_yet.id: BillStatus.UNPAID,
        disputed.id: BillStatus.DISPUTED,
    }
    assert await store.outstanding("bob") == Decimal("43.5")
    assert await store.outstanding("bob", "USD") == 0
    assert await store.outstanding("carol") == 0
    await store.add_wallet_entry("bob", Decimal("100"), WalletEntryKind.TOPUP, "t")
    for bill in (late, due_now):
        assert (
            await store.begin_bill_payment("bob", bill.id, PaymentMethod.WALLET, f"pay-{bill.id}", "h")
        ).paid
    assert not await store.has_overdue("bob")
    assert await store.outstanding("bob") == Decimal("8.5")


async def test_bills_page_newest_first(store: Store, new_bill: NewBill) -> None:
    made = [await new_bill("alice", Decimal(n)) for n in range(1, 6)]
    everything = await store.list_bills("alice", first=50)
    assert {b.id for b in everything.items} == {b.id for b in made}
    assert all(len(b.lines) == 1 for b in everything.items)
    first = await store.list_bills("alice", first=2)
    second = await store.list_bills("alice", first=2, after=first.end_cursor)
    third = await store.list_bills("alice", first=2, after=second.end_cursor)
    assert first.has_next and second.has_next and not third.has_next
    assert [b.id for b in first.items + second.items + third.items] == [b.id for b in everything.items]
    assert (await store.list_bills("bob")).items == ()
