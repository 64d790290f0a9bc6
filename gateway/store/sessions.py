"""Charging sessions: created once per idempotency key, updated under optimistic concurrency.

``create_session`` is insert-or-return-existing on ``(driver_id, idempotency_key)``, race-safe on
both backends (``INSERT … ON CONFLICT DO NOTHING`` then ``SELECT``), so it can run *before* the
operator is called. ``apply_progress`` merges operator reports, which arrive late, twice and out of
order: energy and cost never decrease and the status only moves forward, never out of a terminal one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.database import Database
from gateway.store.pagination import newest_first, to_page
from gateway.store.records import Page, PaymentMode, SessionEndReason, SessionRecord
from gateway.store.tables import sessions
from gateway.store.types import new_id, utcnow
from gateway.store.wallet import ensure_driver_row
from operators.domain import SessionPhase, SessionProgress

# Forward order of a session's life; COMPLETED and FAILED are both final.
_RANK = {
    SessionPhase.STARTING: 0,
    SessionPhase.CHARGING: 1,
    SessionPhase.STOPPING: 2,
    SessionPhase.COMPLETED: 3,
    SessionPhase.FAILED: 3,
}
UPDATABLE = frozenset(
    {"status", "payment_mode", "operator_ref", "station_id", "energy_kwh", "cost", "power_kw", "soc"}
    | {"max_cost", "max_energy_kwh", "tariff_json", "failure", "started_at", "ended_at", "end_reason"}
)


def session_record(row: Row[Any]) -> SessionRecord:
    m = row._mapping
    reason = m["end_reason"]
    return SessionRecord(
        **{
            **m,
            "payment_mode": PaymentMode(m["payment_mode"]),
            "status": SessionPhase(m["status"]),
            "end_reason": SessionEndReason(reason) if reason else None,
        }
    )


def _column_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"cannot update session field(s) {sorted(unknown)}")
    return {
        key: value.value if isinstance(value, SessionPhase | PaymentMode | SessionEndReason) else value
        for key, value in changes.items()
    }


def progress_fields(progress: SessionProgress) -> dict[str, Any]:
    """An operator's progress report as keyword arguments for :meth:`Sessions.apply_progress`."""
    return {
        "status": progress.phase,
        "energy_kwh": progress.energy_kwh,
        "cost": progress.cost,
        "power_kw": progress.power_kw,
        "soc": progress.soc,
        "started_at": progress.started_at,
        "ended_at": progress.ended_at,
        "failure": progress.failure,
    }


async def _update(conn: AsyncConnection, current: SessionRecord, values: dict[str, Any]) -> SessionRecord:
    statement = (
        sessions.update()
        .where(sessions.c.id == current.id, sessions.c.version == current.version)
        .values(**values, version=current.version + 1, updated_at=utcnow())
        .returning(*sessions.c)
    )
    return session_record((await conn.execute(statement)).one())


class Sessions:
    """Sessions, mixed into :class:`gateway.store.Store`."""

    _db: Database

    async def create_session(
        self,
        *,
        driver_id: str,
        idempotency_key: str,
        operator_id: str,
        connector_id: str,
        payment_mode: PaymentMode,
        currency: str,
        station_id: str | None = None,
        max_cost: Decimal | None = None,
        max_energy_kwh: Decimal | None = None,
        tariff_json: str | None = None,
        session_id: str | None = None,
    ) -> tuple[SessionRecord, bool]:
        """The driver's session for this key, created STARTING if new; ``True`` if this call made it."""
        now = utcnow()
        values = dict(
            id=session_id or new_id(), driver_id=driver_id, idempotency_key=idempotency_key,
            operator_id=operator_id, station_id=station_id, connector_id=connector_id,
            payment_mode=payment_mode.value, status=SessionPhase.STARTING.value, currency=currency,
            energy_kwh=Decimal(0), cost=Decimal(0), max_cost=max_cost, max_energy_kwh=max_energy_kwh,
            tariff_json=tariff_json, created_at=now, updated_at=now, version=1,
        )  # fmt: skip
        async with self._db.write() as conn:
            await ensure_driver_row(self._db, conn, driver_id, None)
            inserted = await conn.execute(
                self._db.insert_ignore(sessions).values(**values).returning(*sessions.c)
            )
            row = inserted.first()
            if row is not None:
                return session_record(row), True
            query = select(sessions).where(
                sessions.c.driver_id == driver_id, sessions.c.idempotency_key == idempotency_key
            )
            return session_record((await conn.execute(query)).one()), False

    async def get_session(self, session_id: str) -> SessionRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(sessions).where(sessions.c.id == session_id))).first()
        return None if row is None else session_record(row)

    async def get_session_for_driver(self, driver_id: str, session_id: str) -> SessionRecord | None:
        """The session if it is this driver's; None otherwise (callers cannot probe others' ids)."""
        query = select(sessions).where(sessions.c.id == session_id, sessions.c.driver_id == driver_id)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else session_record(row)

    async def get_session_by_key(self, driver_id: str, idempotency_key: str) -> SessionRecord | None:
        """The session an earlier ``startCharging`` with this key created, if any."""
        query = select(sessions).where(
            sessions.c.driver_id == driver_id, sessions.c.idempotency_key == idempotency_key
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else session_record(row)

    async def get_session_by_operator_ref(self, operator_id: str, operator_ref: str) -> SessionRecord | None:
        query = select(sessions).where(
            sessions.c.operator_id == operator_id, sessions.c.operator_ref == operator_ref
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else session_record(row)

    async def list_sessions(
        self, driver_id: str, first: int = 20, after: str | None = None
    ) -> Page[SessionRecord]:
        """The driver's sessions, newest first; raises ``InvalidCursor`` for a foreign ``after``."""
        query = newest_first(
            select(sessions).where(sessions.c.driver_id == driver_id), sessions, first, after
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return to_page(rows, first, session_record)

    async def sessions_in_states(self, states: Iterable[SessionPhase]) -> list[SessionRecord]:
        """Sessions in any of ``states``, oldest first: what recovery must reconcile after a restart."""
        wanted = [state.value for state in states]
        query = select(sessions).where(sessions.c.status.in_(wanted)).order_by(sessions.c.created_at)
        async with self._db.read() as conn:
            return [session_record(row) for row in await conn.execute(query)]

    async def update_session(
        self, session_id: str, expected_version: int, **changes: Any
    ) -> SessionRecord | None:
        """Apply ``changes`` if the session is still at ``expected_version``; None if it moved on.

        No guards here beyond the version: the caller read the record and decided.
        """
        values = _column_values(changes)
        statement = (
            sessions.update()
            .where(sessions.c.id == session_id, sessions.c.version == expected_version)
            .values(**values, version=expected_version + 1, updated_at=utcnow())
            .returning(*sessions.c)
        )
        async with self._db.write() as conn:
            row = (await conn.execute(statement)).first()
        return None if row is None else session_record(row)

    async def apply_progress(
        self,
        session_id: str,
        *,
        status: SessionPhase | None = None,
        energy_kwh: Decimal | None = None,
        cost: Decimal | None = None,
        power_kw: float | None = None,
        soc: float | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        failure: str | None = None,
        operator_ref: str | None = None,
        end_reason: SessionEndReason | None = None,
        final: bool = False,
    ) -> SessionRecord | None:
        """Merge a progress report monotonically; the session as it now stands, None if unknown.

        The version only changes when something did, so a duplicate report writes nothing. With
        ``final`` (the billed figures), energy, cost and the start and end times are set as given.
        """
        async with self._db.write() as conn:
            return await merge_progress(
                conn, session_id, status=status, energy_kwh=energy_kwh, cost=cost, power_kw=power_kw,
                soc=soc, started_at=started_at, ended_at=ended_at, failure=failure,
                operator_ref=operator_ref, end_reason=end_reason, final=final,
            )  # fmt: skip


async def merge_progress(
    conn: AsyncConnection,
    session_id: str,
    *,
    status: SessionPhase | None = None,
    energy_kwh: Decimal | None = None,
    cost: Decimal | None = None,
    power_kw: float | None = None,
    soc: float | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    failure: str | None = None,
    operator_ref: str | None = None,
    end_reason: SessionEndReason | None = None,
    final: bool = False,
) -> SessionRecord | None:
    """:meth:`Sessions.apply_progress` inside the caller's transaction."""
    query = select(sessions).where(sessions.c.id == session_id).with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    current = session_record(row)
    values: dict[str, Any] = {}
    if status is not None and not current.terminal and _RANK[status] > _RANK[current.status]:
        values["status"] = status.value
    if energy_kwh is not None and (energy_kwh > current.energy_kwh or final):
        values["energy_kwh"] = energy_kwh
    if cost is not None and (cost > current.cost or final):
        values["cost"] = cost
    if not current.terminal:
        if power_kw is not None and power_kw != current.power_kw:
            values["power_kw"] = power_kw
        if soc is not None and soc != current.soc:
            values["soc"] = soc
    for name, value in (
        ("started_at", started_at), ("ended_at", ended_at), ("failure", failure),
        ("operator_ref", operator_ref), ("end_reason", end_reason and end_reason.value),
    ):  # fmt: skip
        if value is not None and (getattr(current, name) is None or (final and name.endswith("ed_at"))):
            values[name] = value
    return await _update(conn, current, values) if values else current
