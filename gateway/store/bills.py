"""Bills: one per session, made of immutable lines; a correction is a new ADJUSTMENT line.

A bill's ``total`` is always the sum of its lines (kept in the row so lists and sums need no join);
``operator_total`` is what the operator billed and ``recomputed_total`` what the quoted tariff gives,
so a discrepancy stays visible. Unpaid bills past ``due_at`` become OVERDUE (:meth:`mark_overdue`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.database import Database
from gateway.store.pagination import newest_first, to_page
from gateway.store.records import (
    OPEN_BILL_STATUSES,
    BillLineInput,
    BillLineRecord,
    BillRecord,
    BillStatus,
    LineKind,
    Page,
)
from gateway.store.tables import bill_lines, bills, sessions
from gateway.store.types import new_id, utcnow
from operators.domain import OrderLine

DESCRIPTIONS = {
    LineKind.ENERGY: "Electricity",
    LineKind.SERVICE: "Service fee",
    LineKind.PARKING: "Parking",
    LineKind.TIME: "Charging time",
    LineKind.FLAT: "Session fee",
    LineKind.ADJUSTMENT: "Adjustment",
}
_KINDS = {kind.value: kind for kind in LineKind}


class BillClosedError(ValueError):
    """The bill is PAID; a correction to it is a refund, not a new line."""


def as_line_input(line: BillLineInput | OrderLine) -> BillLineInput:
    """An operator's order line as a bill line; an unknown kind becomes OTHER, named in the text."""
    if isinstance(line, BillLineInput):
        return line
    kind = _KINDS.get(line.kind.upper(), LineKind.OTHER)
    description = DESCRIPTIONS.get(kind) or line.kind.replace("_", " ").capitalize()
    return BillLineInput(
        kind, line.amount, description, line.start, line.end, line.energy_kwh, line.unit_price
    )


def _line(row: Row[Any]) -> BillLineRecord:
    m = row._mapping
    return BillLineRecord(
        id=m["id"], bill_id=m["bill_id"], position=m["position"], kind=LineKind(m["kind"]),
        description=m["description"], amount=m["amount"], start=m["period_start"], end=m["period_end"],
        energy_kwh=m["energy_kwh"], unit_price=m["unit_price"], reference=m["reference"],
        created_at=m["created_at"],
    )  # fmt: skip


def _bill(row: Row[Any], lines: Iterable[BillLineRecord]) -> BillRecord:
    m = row._mapping
    return BillRecord(**{**m, "status": BillStatus(m["status"]), "lines": tuple(lines)})


async def _bills(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[BillRecord]:
    """Records for bill rows, with all their lines fetched in one query."""
    if not rows:
        return []
    lines: dict[str, list[BillLineRecord]] = {row.id: [] for row in rows}
    query = select(bill_lines).where(bill_lines.c.bill_id.in_(list(lines))).order_by(bill_lines.c.position)
    for line_row in await conn.execute(query):
        lines[line_row.bill_id].append(_line(line_row))
    return [_bill(row, lines[row.id]) for row in rows]


async def load_bill(
    conn: AsyncConnection, bill_id: str, driver_id: str | None = None, *, lock: bool = False
) -> BillRecord | None:
    query = select(bills).where(bills.c.id == bill_id)
    if driver_id is not None:
        query = query.where(bills.c.driver_id == driver_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else (await _bills(conn, [row]))[0]


def line_values(
    bill_id: str, position: int, line: BillLineInput, reference: str | None = None
) -> dict[str, Any]:
    return dict(
        bill_id=bill_id, position=position, kind=line.kind.value, description=line.description,
        amount=line.amount, period_start=line.start, period_end=line.end, energy_kwh=line.energy_kwh,
        unit_price=line.unit_price, reference=reference, created_at=utcnow(),
    )  # fmt: skip


async def insert_bill(
    db: Database,
    conn: AsyncConnection,
    session_id: str,
    driver_id: str,
    currency: str,
    lines: Sequence[BillLineInput | OrderLine],
    operator_total: Decimal,
    recomputed_total: Decimal | None,
    status: BillStatus,
    due_at: datetime,
    review: str | None = None,
) -> tuple[BillRecord, bool]:
    """:meth:`Bills.create_bill` inside the caller's transaction."""
    if status is BillStatus.PAID:
        raise ValueError("a bill is created unpaid; pay it with a payment")
    items = [as_line_input(line) for line in lines]
    bill_id, now = new_id(), utcnow()
    values = dict(
        id=bill_id, session_id=session_id, driver_id=driver_id, status=status.value, currency=currency,
        total=sum((item.amount for item in items), Decimal(0)), operator_total=operator_total,
        recomputed_total=recomputed_total, due_at=due_at, created_at=now, paid_at=None, review=review,
    )  # fmt: skip
    owner = (await conn.execute(select(sessions.c.driver_id).where(sessions.c.id == session_id))).first()
    if owner is None or owner.driver_id != driver_id:
        raise ValueError(f"session {session_id!r} is not driver {driver_id!r}'s")
    inserted = (await conn.execute(db.insert_ignore(bills).values(**values).returning(bills.c.id))).first()
    if inserted is not None and items:
        await conn.execute(
            bill_lines.insert(), [line_values(bill_id, i, item) for i, item in enumerate(items, 1)]
        )
    row = (await conn.execute(select(bills).where(bills.c.session_id == session_id))).one()
    return (await _bills(conn, [row]))[0], inserted is not None


class Bills:
    """Bills and their lines, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def create_bill(
        self,
        session_id: str,
        driver_id: str,
        currency: str,
        lines: Sequence[BillLineInput | OrderLine],
        operator_total: Decimal,
        recomputed_total: Decimal | None,
        status: BillStatus,
        due_at: datetime,
    ) -> tuple[BillRecord, bool]:
        """The session's bill, created from ``lines`` if it has none yet; ``True`` if this call made it.

        A second call for the same session (a redelivered final order) returns the first bill as is.
        """
        async with self._db.write() as conn:
            return await insert_bill(
                self._db, conn, session_id, driver_id, currency, lines, operator_total, recomputed_total,
                status, due_at,
            )  # fmt: skip

    async def get_bill(self, bill_id: str) -> BillRecord | None:
        async with self._db.read() as conn:
            return await load_bill(conn, bill_id)

    async def get_bill_for_driver(self, driver_id: str, bill_id: str) -> BillRecord | None:
        async with self._db.read() as conn:
            return await load_bill(conn, bill_id, driver_id)

    async def bills_for_sessions(self, session_ids: Iterable[str]) -> dict[str, BillRecord]:
        """The bills of those sessions that have one, by session id (one query for a DataLoader)."""
        async with self._db.read() as conn:
            rows = (await conn.execute(select(bills).where(bills.c.session_id.in_(list(session_ids))))).all()
            return {bill.session_id: bill for bill in await _bills(conn, rows)}

    async def list_bills(self, driver_id: str, first: int = 20, after: str | None = None) -> Page[BillRecord]:
        """The driver's bills, newest first; raises ``InvalidCursor`` for a foreign ``after``."""
        query = newest_first(select(bills).where(bills.c.driver_id == driver_id), bills, first, after)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
            records = {bill.id: bill for bill in await _bills(conn, rows[:first])}
        return to_page(rows, first, lambda row: records[row.id])

    async def add_adjustment_line(
        self, bill_id: str, amount: Decimal, description: str, reference: str | None = None
    ) -> BillRecord | None:
        """Correct an unpaid bill by a new ADJUSTMENT line; None if there is no such bill.

        With a ``reference``, a retry of the same correction adds nothing. Raises
        :class:`BillClosedError` for a PAID bill.
        """
        if amount == 0:
            raise ValueError("an adjustment of zero changes nothing")
        async with self._db.write() as conn:
            bill = await load_bill(conn, bill_id, lock=True)
            if bill is None:
                return None
            if reference is not None and any(line.reference == reference for line in bill.lines):
                return bill
            if bill.status is BillStatus.PAID:
                raise BillClosedError(f"bill {bill_id} is paid")
            position = max((line.position for line in bill.lines), default=0) + 1
            line = BillLineInput(LineKind.ADJUSTMENT, amount, description)
            await conn.execute(bill_lines.insert().values(**line_values(bill_id, position, line, reference)))
            await conn.execute(bills.update().where(bills.c.id == bill_id).values(total=bill.total + amount))
            return await load_bill(conn, bill_id)

    async def mark_overdue(self, now: datetime) -> int:
        """UNPAID bills due at or before ``now`` become OVERDUE; returns how many did."""
        statement = (
            bills.update()
            .where(bills.c.status == BillStatus.UNPAID.value, bills.c.due_at <= now)
            .values(status=BillStatus.OVERDUE.value)
            .returning(bills.c.id)
        )
        async with self._db.write() as conn:
            return len((await conn.execute(statement)).all())

    async def has_overdue(self, driver_id: str) -> bool:
        query = select(
            exists().where(bills.c.driver_id == driver_id, bills.c.status == BillStatus.OVERDUE.value)
        )
        async with self._db.read() as conn:
            return bool((await conn.execute(query)).scalar_one())

    async def outstanding(self, driver_id: str, currency: str | None = None) -> Decimal:
        """What the driver owes: the totals of UNPAID, OVERDUE and DISPUTED bills (one currency if given)."""
        query = select(func.sum(bills.c.total)).where(
            bills.c.driver_id == driver_id,
            bills.c.status.in_([status.value for status in OPEN_BILL_STATUSES]),
        )
        if currency is not None:
            query = query.where(bills.c.currency == currency)
        async with self._db.read() as conn:
            total = (await conn.execute(query)).scalar_one()
        return total if total is not None else Decimal("0.0000")
