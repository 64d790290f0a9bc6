"""The ledger's invariants, checked over the whole ledger in one read transaction.

What ``chargegate ledger check`` and the property-based tests run. Each finding is one line naming
what is wrong and where; an empty list means the ledger holds together:

- every wallet is the sum of its entries, never below zero, and each entry is backed by the money
  movement it names (a charge by a settled wallet payment of that bill, a top-up by a settled top-up
  payment, a refund by a settled refund) and each such movement by exactly one entry;
- live reservations are within their limits: a driver's wallet holds within the wallet, the postpaid
  reservations within the limit they were checked against, none left on a billed session;
- each bill is paid at most once, and a PAID bill by exactly one settled payment equal to its total;
  refunds never exceed what they refund;
- every session whose final order was applied has exactly one bill.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.database import Database
from gateway.store.tables import bills, inbox, payments, refunds, reservations, wallet_entries

ZERO = Decimal(0)
Balances = dict[tuple[str, str], Decimal]  # (driver, currency) → wallet balance


Rows = list[Row[Any]]


async def _rows(conn: AsyncConnection, table: Table) -> Rows:
    return list((await conn.execute(select(table))).all())


def _amounts(rows: Rows) -> list[str]:
    return [str(row.amount) for row in rows]


def _wallets(entries: Rows, settled: Rows, refund_ids: set[str]) -> tuple[list[str], Balances]:
    found: list[str] = []
    balances: Balances = defaultdict(lambda: ZERO)
    by_reference: dict[str, Rows] = defaultdict(list)
    for entry in entries:
        balances[(entry.driver_id, entry.currency)] += entry.amount
        by_reference[f"{entry.kind}:{entry.reference}"].append(entry)
    for (driver_id, currency), balance in sorted(balances.items()):
        if balance < 0:
            found.append(f"wallet {driver_id} {currency}: balance {balance} is below zero")
    for p in settled:
        if p.method == "WALLET" and p.amount > 0:
            backing = by_reference.get(f"CHARGE:bill:{p.bill_id}", [])
            if [e.amount for e in backing] != [-p.amount]:
                found.append(f"payment {p.id}: wallet payment of {p.amount} has charges {_amounts(backing)}")
        if p.purpose == "TOPUP":
            backing = by_reference.get(f"TOPUP:payment:{p.id}", [])
            if [e.amount for e in backing] != [p.amount]:
                found.append(f"payment {p.id}: top-up of {p.amount} has entries {_amounts(backing)}")
    backed = {
        "CHARGE": ("bill:", {p.bill_id for p in settled if p.method == "WALLET"}),
        "TOPUP": ("payment:", {p.id for p in settled if p.purpose == "TOPUP"}),
        "REFUND": ("refund:", refund_ids),
    }
    for entry in entries:
        prefix, known = backed.get(entry.kind, ("", set()))
        if prefix and entry.reference.startswith(prefix) and entry.reference[len(prefix) :] not in known:
            found.append(f"wallet entry {entry.id}: {entry.kind} {entry.reference} has no settled movement")
    return found, balances


def _reservations(live: Rows, billed: set[str], balances: Balances) -> list[str]:
    found: list[str] = []
    held: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    reserved: dict[str, Rows] = defaultdict(list)
    for r in live:
        if r.session_id in billed:
            found.append(f"reservation {r.id}: session {r.session_id} is billed but still holds {r.amount}")
        if r.mode == "PREPAID":
            held[(r.driver_id, r.currency)] += r.amount
        else:
            reserved[r.driver_id].append(r)
    for (driver_id, currency), amount in sorted(held.items()):
        balance = balances.get((driver_id, currency), ZERO)
        if amount > balance:
            found.append(
                f"wallet {driver_id} {currency}: live holds ({amount}) exceed the balance ({balance})"
            )
    for driver_id, rows in sorted(reserved.items()):
        total, limit = sum((r.amount for r in rows), ZERO), max(r.limit_amount for r in rows)
        if total > limit:
            found.append(
                f"driver {driver_id}: live postpaid reservations ({total}) exceed the limit ({limit})"
            )
    return found


def _bills(all_bills: Rows, all_payments: Rows, all_refunds: Rows) -> list[str]:
    found: list[str] = []
    paying: dict[str, Rows] = defaultdict(list)
    for p in all_payments:
        if p.bill_id is not None and p.status != "FAILED":
            paying[p.bill_id].append(p)
    for bill in all_bills:
        live = paying.get(bill.id, [])
        done = [p for p in live if p.status == "SETTLED"]
        if len(live) > 1:
            found.append(f"bill {bill.id}: {len(live)} payments that did not fail")
        if bill.status == "PAID" and [p.amount for p in done] != [bill.total]:
            found.append(f"bill {bill.id}: PAID ({bill.total}) but settled payments are {_amounts(done)}")
        if bill.status != "PAID" and done:
            found.append(f"bill {bill.id}: {bill.status} but has a settled payment")
    refunded: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in all_refunds:
        if r.status != "FAILED":
            refunded[r.payment_id] += r.amount
    paid = {p.id: p.amount for p in all_payments}
    for payment_id, amount in sorted(refunded.items()):
        if amount > paid.get(payment_id, ZERO):
            found.append(
                f"payment {payment_id}: refunds ({amount}) exceed the payment ({paid.get(payment_id)})"
            )
    return found


async def findings_in(conn: AsyncConnection) -> list[str]:
    entries, all_payments = await _rows(conn, wallet_entries), await _rows(conn, payments)
    all_bills, all_refunds = await _rows(conn, bills), await _rows(conn, refunds)
    live = [r for r in await _rows(conn, reservations) if r.released_at is None]
    settled = [p for p in all_payments if p.status == "SETTLED"]
    found, balances = _wallets(entries, settled, {r.id for r in all_refunds if r.status == "SETTLED"})
    billed = {b.session_id for b in all_bills}
    found += _reservations(live, billed, balances)
    found += _bills(all_bills, all_payments, all_refunds)
    orders = await conn.execute(
        select(inbox.c.dedupe_key).where(inbox.c.kind == "final_order", inbox.c.applied_at.is_not(None))
    )
    found += [
        f"session {s}: its final order was applied but it has no bill" for (s,) in orders if s not in billed
    ]
    return found


class Invariants:
    """The ledger check, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def check_ledger(self) -> list[str]:
        """Every finding (an empty list when the ledger holds together)."""
        async with self._db.read() as conn:
            return await findings_in(conn)
