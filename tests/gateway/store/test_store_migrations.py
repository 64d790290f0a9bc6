"""Schema migrations: from scratch, in place from version 1, concurrently, and never backwards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, insert, inspect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.store import (
    LATEST,
    BillStatus,
    MigrationError,
    PaymentMode,
    SessionEndReason,
    migrate,
    open_store,
    schema_v1,
    tables,
)
from gateway.store.database import make_engine
from gateway.store.migrations import current_version, schema_version
from operators.domain import SessionPhase


def _shape(conn: Connection) -> dict[str, Any]:
    """Tables, their columns and their named indexes and unique constraints, as the database has them."""
    inspector = inspect(conn)
    shape = {}
    for name in inspector.get_table_names():
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)}
        indexes = {(tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(name)}
        shape[name] = ({c["name"] for c in inspector.get_columns(name)}, uniques, indexes)
    return shape


async def _engine_shape(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(_shape)


async def test_from_scratch_matches_the_declared_tables(database_url: str) -> None:
    store = await open_store(database_url)
    await store.close()
    migrated = make_engine(database_url)
    declared = create_async_engine("sqlite+aiosqlite://")  # in memory: tables.metadata created directly
    try:
        assert await current_version(migrated) == LATEST
        async with declared.begin() as conn:
            await conn.run_sync(tables.metadata.create_all)
            await conn.run_sync(schema_version.metadata.create_all)
        expected, actual = await _engine_shape(declared), await _engine_shape(migrated)
        assert set(actual) == set(expected)
        for name in expected:
            assert actual[name][0] == expected[name][0], f"{name} columns"
            # A unique constraint may be reported as a unique index on one backend and not the other.
            uniques = lambda shape: shape[1] | {cols for cols, unique in shape[2] if unique}  # noqa: E731
            assert uniques(actual[name]) == uniques(expected[name]), f"{name} unique keys"
            assert {c for c, _ in actual[name][2]} >= {c for c, u in expected[name][2] if not u}, (
                f"{name} indexes"
            )
    finally:
        await migrated.dispose()
        await declared.dispose()


async def test_migrate_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert await migrate(engine) == LATEST
        assert await migrate(engine) == LATEST
        async with engine.connect() as conn:
            rows = (await conn.execute(schema_version.select().order_by(schema_version.c.version))).all()
        assert [row.version for row in rows] == list(range(1, LATEST + 1))
    finally:
        await engine.dispose()


async def test_concurrent_start_ups_migrate_once(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        assert await asyncio.gather(*(migrate(engine) for engine in engines)) == [LATEST] * 3
        assert await current_version(engines[0]) == LATEST
    finally:
        for engine in engines:
            await engine.dispose()


async def test_version_1_database_upgrades_in_place(database_url: str) -> None:
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        assert await migrate(engine, target=1) == 1
        async with engine.begin() as conn:
            await conn.execute(insert(schema_v1.drivers).values(id="alice", name="Alice", created_at=now))
            await conn.execute(
                insert(schema_v1.sessions).values(
                    id="s1", driver_id="alice", idempotency_key="k1", operator_id="op", station_id="st",
                    connector_id="c1", payment_mode="POSTPAID", status="CHARGING", currency="CNY",
                    energy_kwh=Decimal("3.25"), cost=Decimal("4.5678"), created_at=now, updated_at=now,
                    version=3,
                )
            )  # fmt: skip
            await conn.execute(
                insert(schema_v1.bills).values(
                    id="b1", session_id="s1", driver_id="alice", status="UNPAID", currency="CNY",
                    total=Decimal("12.3456"), operator_total=Decimal("12.3456"),
                    due_at=now + timedelta(days=1), created_at=now,
                )
            )  # fmt: skip
            await conn.execute(
                insert(schema_v1.bill_lines).values(
                    bill_id="b1", position=1, kind="ENERGY", description="Electricity",
                    amount=Decimal("12.3456"), created_at=now,
                )
            )  # fmt: skip
        shape = await _engine_shape(engine)
        assert "operator_ref" not in shape["sessions"][0]
    finally:
        await engine.dispose()

    store = await open_store(database_url)  # migrates 1 -> LATEST
    try:
        session = await store.get_session("s1")
        assert session is not None
        assert (session.status, session.energy_kwh, session.cost) == (
            SessionPhase.CHARGING,
            Decimal("3.25"),
            Decimal("4.5678"),
        )
        assert session.operator_ref is None and session.payment_mode is PaymentMode.POSTPAID
        assert session.version == 3 and session.created_at == now
        bill = await store.get_bill_for_driver("alice", "b1")
        assert bill is not None and bill.status is BillStatus.UNPAID and bill.total == Decimal("12.3456")
        assert [line.reference for line in bill.lines] == [None]
        # The v2 column is usable at once.
        updated = await store.apply_progress("s1", operator_ref="OCPI-1")
        assert updated is not None and updated.operator_ref == "OCPI-1"
        assert (await store.get_session_by_operator_ref("op", "OCPI-1")) == updated
    finally:
        await store.close()


async def test_sessions_that_ended_before_version_3_get_a_reason(database_url: str) -> None:
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        assert await migrate(engine, target=2) == 2
        async with engine.begin() as conn:
            await conn.execute(insert(schema_v1.drivers).values(id="alice", name="Alice", created_at=now))
            for sid, status, started in (
                ("live", "CHARGING", now), ("done", "COMPLETED", now), ("never", "FAILED", None),
                ("broke", "FAILED", now),
            ):  # fmt: skip
                await conn.execute(
                    insert(schema_v1.sessions).values(
                        id=sid, driver_id="alice", idempotency_key=sid, operator_id="op", connector_id="c",
                        payment_mode="POSTPAID", status=status, currency="CNY", energy_kwh=Decimal(0),
                        cost=Decimal(0), started_at=started, created_at=now, updated_at=now, version=1,
                    )
                )  # fmt: skip
    finally:
        await engine.dispose()
    store = await open_store(database_url)
    try:
        reasons = {
            sid: (await store.get_session(sid)).end_reason for sid in ("live", "done", "never", "broke")
        }
        assert reasons == {
            "live": None,
            "done": SessionEndReason.UNKNOWN,
            "never": SessionEndReason.START_FAILED,
            "broke": SessionEndReason.FAULT,
        }
    finally:
        await store.close()


def test_an_in_memory_sqlite_ledger_is_refused() -> None:
    for url in ("sqlite://", "sqlite+aiosqlite:///:memory:"):
        with pytest.raises(ValueError, match="SQLite file"):
            make_engine(url)
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://x@localhost/db")


async def test_a_newer_database_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(
                schema_version.insert().values(
                    version=LATEST + 1, name="from the future", applied_at=datetime.now(UTC)
                )
            )
        with pytest.raises(MigrationError, match="newer|knows only"):
            await migrate(engine)
        with pytest.raises(MigrationError):
            await migrate(engine, target=LATEST + 1)
    finally:
        await engine.dispose()
