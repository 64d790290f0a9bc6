"""What rail reconciliation found, in the ledger: each mismatch kept until it is resolved.

A mismatch is one (rail, order reference, kind). Found again while open, its row is updated (the
amounts, the detail, ``last_seen_at``), so a difference that lasts is one row, not one per run.
A person resolves it with a note (:meth:`Mismatches.resolve_mismatch`); reconciliation resolves it
itself, as actor ``reconciliation``, once the order agrees with the ledger again. Every resolution
writes an audit row; resolving a resolved mismatch changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin import audit
from gateway.store.database import Database
from gateway.store.tables import rail_mismatches
from gateway.store.types import new_id, utcnow

RESOLVE_MISMATCH = "resolveRailMismatch"
RECONCILIATION = "reconciliation"  # the actor when a mismatch went away by itself
ORDER_LOCKS = 0x726D6D  # "rmm": the advisory-lock class of one order's mismatches (PostgreSQL)


@dataclass(frozen=True, slots=True)
class MismatchRecord:
    id: str
    rail: str
    reference: str
    kind: str
    ours: Decimal | None
    theirs: Decimal | None
    detail: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


def _record(row: Any) -> MismatchRecord:
    return MismatchRecord(**row._mapping)


async def _open(
    conn: AsyncConnection, rail: str, reference: str, *, lock: bool = False
) -> list[MismatchRecord]:
    """The order's open mismatches. With ``lock``, the order's mismatches are the transaction's until
    it ends, found or not: on PostgreSQL a row lock cannot hold a row not written yet, so two
    replicas that both found none would both insert one; an advisory lock per order serialises them
    (SQLite's write transactions are serial already)."""
    if lock and conn.dialect.name == "postgresql":
        order = func.hashtext(f"{rail}:{reference}")
        await conn.execute(select(func.pg_advisory_xact_lock(ORDER_LOCKS, order)))
    query = select(rail_mismatches).where(
        rail_mismatches.c.rail == rail,
        rail_mismatches.c.reference == reference,
        rail_mismatches.c.resolved_at.is_(None),
    )
    return [_record(r) for r in await conn.execute(query.with_for_update() if lock else query)]


class Mismatches:
    """Rail reconciliation's findings, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def record_mismatch(
        self, rail: str, reference: str, kind: str, ours: Decimal | None, theirs: Decimal | None, detail: str
    ) -> MismatchRecord:
        """Keep a finding: a new open row, or the open row of the same kind brought up to date."""
        now = utcnow()
        values = {"ours": ours, "theirs": theirs, "detail": detail, "last_seen_at": now}
        async with self._db.write() as conn:
            same = [m for m in await _open(conn, rail, reference, lock=True) if m.kind == kind]
            if same:
                statement = update(rail_mismatches).where(rail_mismatches.c.id == same[0].id).values(**values)
                await conn.execute(statement)
                mismatch_id = same[0].id
            else:
                mismatch_id = new_id()
                await conn.execute(
                    rail_mismatches.insert().values(
                        id=mismatch_id, rail=rail, reference=reference, kind=kind, first_seen_at=now, **values
                    )
                )
            found = await _by_id(conn, mismatch_id)
        assert found is not None
        return found

    async def mismatches(self, open_only: bool = True, limit: int = 100) -> list[MismatchRecord]:
        """The latest findings first (open ones only, unless ``open_only`` is False)."""
        query = select(rail_mismatches).order_by(rail_mismatches.c.last_seen_at.desc(), rail_mismatches.c.id)
        if open_only:
            query = query.where(rail_mismatches.c.resolved_at.is_(None))
        async with self._db.read() as conn:
            return [_record(r) for r in await conn.execute(query.limit(limit))]

    async def get_mismatch(self, mismatch_id: str) -> MismatchRecord | None:
        async with self._db.read() as conn:
            return await _by_id(conn, mismatch_id)

    async def resolve_mismatch(self, actor: str, mismatch_id: str, note: str) -> MismatchRecord | None:
        """Close a mismatch with ``note`` (audited); None for no such mismatch. A resolved one is
        returned as it was resolved."""
        async with self._db.write() as conn:
            query = select(rail_mismatches).where(rail_mismatches.c.id == mismatch_id).with_for_update()
            row = (await conn.execute(query)).first()
            if row is None:
                return None
            current = _record(row)
            if current.open:
                await _resolve(conn, actor, current, note)
            found = await _by_id(conn, mismatch_id)
        assert found is not None
        return found

    async def clear_mismatches(self, rail: str, reference: str, still: frozenset[str]) -> int:
        """Resolve, as :data:`RECONCILIATION`, the open mismatches of an order whose kind was not
        found again (``still`` holds the kinds found now); how many."""
        async with self._db.write() as conn:
            gone = [m for m in await _open(conn, rail, reference, lock=True) if m.kind not in still]
            for mismatch in gone:
                await _resolve(conn, RECONCILIATION, mismatch, "the order agrees with the ledger again")
        return len(gone)


async def _resolve(conn: AsyncConnection, actor: str, mismatch: MismatchRecord, note: str) -> None:
    await conn.execute(
        update(rail_mismatches)
        .where(rail_mismatches.c.id == mismatch.id)
        .values(resolved_at=utcnow(), resolved_by=actor, resolution=note)
    )
    facts = {"rail": mismatch.rail, "reference": mismatch.reference, "kind": mismatch.kind,
             "ours": mismatch.ours, "theirs": mismatch.theirs}  # fmt: skip
    await audit(conn, actor, RESOLVE_MISMATCH, mismatch.id, note, **facts)


async def _by_id(conn: AsyncConnection, mismatch_id: str) -> MismatchRecord | None:
    row = (await conn.execute(select(rail_mismatches).where(rail_mismatches.c.id == mismatch_id))).first()
    return None if row is None else _record(row)
