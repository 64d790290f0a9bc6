"""The ledger check: silent on a ledger that holds together, one finding per broken invariant, and
``chargegate ledger check`` exits non-zero listing them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from gateway.app.cli import main
from gateway.store import BillStatus, Grant, PaymentMethod, PaymentMode, Store, WalletEntryKind, open_store
from gateway.store.tables import bills, payments
from tests.gateway.store.conftest import NewBill, NewSession


async def test_a_sound_ledger_has_no_findings(store: Store, new_bill: NewBill) -> None:
    await store.add_wallet_entry("carol", Decimal("50"), WalletEntryKind.TOPUP, "t")
    bill = await new_bill("carol", Decimal("20"))
    assert (await store.begin_bill_payment("carol", bill.id, PaymentMethod.WALLET, "k", "h")).paid
    assert await store.check_ledger() == []


async def test_each_broken_invariant_is_a_finding(store: Store, new_bill: NewBill, new_session: NewSession):
    await store.add_wallet_entry("bob", Decimal("-5"), WalletEntryKind.ADJUSTMENT, "oops")
    unpaid_but_paid = await new_bill("alice", Decimal("7"))
    async with store._db.write() as conn:
        await conn.execute(update(bills).where(bills.c.id == unpaid_but_paid.id).values(status="PAID"))
    opened = await store.open_session(
        driver_id="alice", idempotency_key="s", request_hash="h", currency="CNY", operator_id="OP",
        connector_id="C", grant=lambda account: Grant(PaymentMode.POSTPAID, Decimal("300"), Decimal("100")),
    )  # fmt: skip
    assert isinstance(opened, tuple)
    session = opened[0]
    await store.create_bill(
        session.id, "alice", "CNY", [], Decimal(0), None, BillStatus.UNPAID, datetime.now(UTC)
    )  # billed, but the reservation was never released
    orphan = await new_session("alice")
    inbox, _ = await store.record_inbound("OP", "final_order", orphan.id, "{}")
    await store.mark_applied(inbox.id)
    findings = await store.check_ledger()
    assert any("wallet bob CNY: balance -5" in f for f in findings), findings
    assert any(f"bill {unpaid_but_paid.id}: PAID" in f for f in findings), findings
    assert any(f"session {session.id} is billed but still holds" in f for f in findings), findings
    assert any("live postpaid reservations (300.0000) exceed the limit (100.0000)" in f for f in findings)
    assert any(f"session {orphan.id}: its final order was applied but it has no bill" in f for f in findings)
    assert len(findings) == 5, findings


async def test_a_payment_that_lost_its_wallet_charge_is_found(store: Store, new_bill: NewBill) -> None:
    await store.add_wallet_entry("carol", Decimal("50"), WalletEntryKind.TOPUP, "t")
    bill = await new_bill("carol", Decimal("20"))
    await store.begin_bill_payment("carol", bill.id, PaymentMethod.WALLET, "k", "h")
    async with store._db.write() as conn:
        await conn.execute(update(payments).values(amount=Decimal("19")))
    findings = await store.check_ledger()
    assert any("wallet payment of 19" in f for f in findings) and any("PAID (20" in f for f in findings)


async def test_the_cli_exits_non_zero_with_each_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    config = tmp_path / "chargegate.toml"
    config.write_text(f'[ledger]\ndatabase_url = "{url}"\n', encoding="utf-8")
    store = await open_store(url)
    try:
        await store.add_wallet_entry("bob", Decimal("10"), WalletEntryKind.TOPUP, "t")
    finally:
        await store.close()
    assert await _cli(config) == 0
    store = await open_store(url)
    try:
        await store.add_wallet_entry("bob", Decimal("-15"), WalletEntryKind.ADJUSTMENT, "oops")
    finally:
        await store.close()
    assert await _cli(config) == 1
    assert "wallet bob CNY: balance -5.0000 is below zero" in capsys.readouterr().out


async def _cli(config: Path) -> int:
    import asyncio

    return await asyncio.to_thread(main, ["ledger", "check", "--config", str(config)])
