"""Schema migrations (Alembic): from scratch, a ledger from before Alembic stamped and upgraded in
place from each of its versions, concurrently, and never backwards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, column, inspect, table, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.store import (
    HEAD,
    BillStatus,
    MigrationError,
    PaymentMode,
    SessionEndReason,
    migrate,
    open_store,
    tables,
)
from gateway.store.database import make_engine
from gateway.store.migrations import LEGACY_LAST, current_revision
from gateway.store.types import ENERGY, MONEY, UtcDateTime
from operators.domain import SessionPhase

# The version table of the hand-written migrations that came before Alembic, as they created it.
legacy_version = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

# Version 1's columns only: every older ledger has them, whatever version it is at.
drivers = table("drivers", column("id"), column("name"), column("created_at", UtcDateTime))
sessions = table(
    "sessions",
    *(column(name) for name in ("id", "driver_id", "idempotency_key", "operator_id", "station_id")),
    *(column(name) for name in ("connector_id", "payment_mode", "status", "currency", "version")),
    column("energy_kwh", ENERGY),
    column("cost", MONEY),
    *(column(name, UtcDateTime) for name in ("created_at", "started_at", "updated_at")),
)
bills = table(
    "bills",
    *(column(name) for name in ("id", "session_id", "driver_id", "status", "currency")),
    column("total", MONEY),
    column("operator_total", MONEY),
    column("due_at", UtcDateTime),
    column("created_at", UtcDateTime),
)
bill_lines = table(
    "bill_lines",
    *(column(name) for name in ("bill_id", "position", "kind", "description")),
    column("amount", MONEY),
    column("created_at", UtcDateTime),
)


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


async def _assert_matches_the_declared_tables(migrated: AsyncEngine) -> None:
    declared = create_async_engine("sqlite+aiosqlite://")  # in memory: tables.metadata created directly
    try:
        async with declared.begin() as conn:
            await conn.run_sync(tables.metadata.create_all)
        expected, actual = await _engine_shape(declared), await _engine_shape(migrated)
        assert set(actual) == set(expected) | {"alembic_version"}
        for name in expected:
            assert actual[name][0] == expected[name][0], f"{name} columns"
            # A unique constraint may be reported as a unique index on one backend and not the other.
            uniques = lambda shape: shape[1] | {cols for cols, unique in shape[2] if unique}  # noqa: E731
            assert uniques(actual[name]) == uniques(expected[name]), f"{name} unique keys"
            assert {c for c, _ in actual[name][2]} >= {c for c, u in expected[name][2] if not u}, (
                f"{name} indexes"
            )
    finally:
        await declared.dispose()


async def _legacy_ledger(database_url: str, version: int) -> None:
    """A ledger as the hand-written migrations left it at ``version``: the same tables (revision
    n is their migration n, statement for statement) and their ``schema_version`` rows, no Alembic."""
    engine = make_engine(database_url)
    try:
        assert await migrate(engine, target=f"{version:04d}") == f"{version:04d}"
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE alembic_version"))
            await conn.run_sync(legacy_version.metadata.create_all)
            for n in range(1, version + 1):
                await conn.execute(
                    legacy_version.insert().values(version=n, name=f"m{n}", applied_at=datetime.now(UTC))
                )
    finally:
        await engine.dispose()


async def test_from_scratch_matches_the_declared_tables(database_url: str) -> None:
    store = await open_store(database_url)
    await store.close()
    migrated = make_engine(database_url)
    try:
        assert await current_revision(migrated) == HEAD
        await _assert_matches_the_declared_tables(migrated)
    finally:
        await migrated.dispose()


async def test_the_revisions_build_exactly_the_declared_tables(database_url: str) -> None:
    # Alembic's own comparison (what `alembic check` runs): types, nullability, keys, indexes.
    store = await open_store(database_url)
    await store.close()
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), tables.metadata)
            )
        assert differences == []
    finally:
        await engine.dispose()


async def test_migrate_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert await migrate(engine) == HEAD
        assert await migrate(engine) == HEAD
        # Asking for an older revision changes nothing: the ledger never goes backwards.
        assert await migrate(engine, target="0001") == HEAD
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert [row.version_num for row in rows] == [HEAD]
    finally:
        await engine.dispose()


async def test_concurrent_start_ups_migrate_once(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        assert await asyncio.gather(*(migrate(engine) for engine in engines)) == [HEAD] * 3
        assert await current_revision(engines[0]) == HEAD
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.parametrize("version", range(1, LEGACY_LAST + 1))
async def test_a_ledger_from_before_alembic_is_stamped_and_upgraded_in_place(
    database_url: str, version: int
) -> None:
    await _legacy_ledger(database_url, version)
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(drivers.insert().values(id="alice", name="Alice", created_at=now))
            await conn.execute(
                sessions.insert().values(
                    id="s1", driver_id="alice", idempotency_key="k1", operator_id="op", station_id="st",
                    connector_id="c1", payment_mode="POSTPAID", status="CHARGING", currency="CNY",
                    energy_kwh=Decimal("3.25"), cost=Decimal("4.5678"), created_at=now, updated_at=now,
                    version=3,
                )
            )  # fmt: skip
            await conn.execute(
                bills.insert().values(
                    id="b1", session_id="s1", driver_id="alice", status="UNPAID", currency="CNY",
                    total=Decimal("12.3456"), operator_total=Decimal("12.3456"),
                    due_at=now + timedelta(days=1), created_at=now,
                )
            )  # fmt: skip
            await conn.execute(
                bill_lines.insert().values(
                    bill_id="b1", position=1, kind="ENERGY", description="Electricity",
                    amount=Decimal("12.3456"), created_at=now,
                )
            )  # fmt: skip
        assert await current_revision(engine) is None  # no Alembic yet: only schema_version
    finally:
        await engine.dispose()

    store = await open_store(database_url)  # stamps at `version`, upgrades to HEAD
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
        updated = await store.apply_progress("s1", operator_ref="OCPI-1")
        assert updated is not None and updated.operator_ref == "OCPI-1"
        assert (await store.get_session_by_operator_ref("op", "OCPI-1")) == updated
    finally:
        await store.close()
    engine = make_engine(database_url)
    try:
        assert await current_revision(engine) == HEAD
        assert "schema_version" not in await _engine_shape(engine)
        await _assert_matches_the_declared_tables(engine)
    finally:
        await engine.dispose()


async def test_sessions_that_ended_before_version_6_get_a_reason(database_url: str) -> None:
    await _legacy_ledger(database_url, 2)
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(drivers.insert().values(id="alice", name="Alice", created_at=now))
            for sid, status, started in (
                ("live", "CHARGING", now), ("done", "COMPLETED", now), ("never", "FAILED", None),
                ("broke", "FAILED", now),
            ):  # fmt: skip
                await conn.execute(
                    sessions.insert().values(
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
            await conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
        with pytest.raises(MigrationError, match="'from_the_future'; this code knows only up to"):
            await migrate(engine)
        with pytest.raises(MigrationError, match="no ledger revision"):
            await migrate(engine, target="from_the_future")
        assert await current_revision(engine) == "from_the_future"  # left as it was
    finally:
        await engine.dispose()


async def test_a_ledger_from_before_alembic_newer_than_its_last_version_is_refused(database_url: str) -> None:
    await _legacy_ledger(database_url, LEGACY_LAST)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                legacy_version.insert().values(
                    version=LEGACY_LAST + 1, name="from the future", applied_at=datetime.now(UTC)
                )
            )
        with pytest.raises(MigrationError, match=f"schema version {LEGACY_LAST + 1}"):
            await migrate(engine)
        assert "schema_version" in await _engine_shape(engine)  # rolled back: nothing stamped or dropped
        assert await current_revision(engine) is None
    finally:
        await engine.dispose()
