"""Fixtures for the ledger store suite: every test runs on SQLite and on a real PostgreSQL server.

The PostgreSQL server is the suite-wide ``postgres_server_url`` fixture (:mod:`tests.servers`): started
once per test run by ``scripts/postgres.sh`` (which apt-installs PostgreSQL first if it is missing) on
loopback and stopped at the end; with ``CHARGEGATE_TEST_POSTGRES_URL`` an existing database is used
instead: it is wiped before every test. If the server cannot be had, the ``postgres`` tests fail: they
never skip.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from gateway.store import (
    BillLineInput,
    BillRecord,
    BillStatus,
    LineKind,
    PaymentMode,
    SessionRecord,
    Store,
    open_store,
)
from gateway.store.migrations import HEAD
from gateway.store.tables import metadata

LEDGER_TABLES = [table.name for table in metadata.sorted_tables]


async def _reset(url: str, *, keep_schema: bool) -> None:
    """Empty the PostgreSQL database: truncate a ledger at the latest schema (milliseconds) if
    ``keep_schema``, else drop everything (CREATE DATABASE per test would take a quarter second)."""
    parts = make_url(url)
    admin = await asyncpg.connect(
        user=parts.username,
        password=parts.password,
        host=parts.host,
        port=parts.port,
        database=parts.database,
    )
    try:
        revision = None
        if keep_schema and await admin.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
            revision = await admin.fetchval("SELECT max(version_num) FROM alembic_version")
        if revision == HEAD:
            await admin.execute(f"TRUNCATE {', '.join(LEDGER_TABLES)} RESTART IDENTITY CASCADE")
        else:
            await admin.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (on PostgreSQL: the server's database, wiped)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ledger' / 'ledger.sqlite3'}"
    url: str = request.getfixturevalue("postgres_server_url")
    await _reset(url, keep_schema=False)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An empty ledger of each kind, migrated to the latest schema."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server_url")
        await _reset(url, keep_schema=True)
    ledger = await open_store(url)
    try:
        yield ledger
    finally:
        await ledger.close()


NewSession = Callable[..., Awaitable[SessionRecord]]
NewBill = Callable[..., Awaitable[BillRecord]]


@pytest.fixture
def new_session(store: Store) -> NewSession:
    """Make a session for a driver (POSTPAID, CNY) with a fresh key unless one is given."""
    keys = itertools.count()

    async def make(driver_id: str = "alice", key: str | None = None, **kwargs: object) -> SessionRecord:
        fields: dict[str, object] = dict(
            operator_id="MA1SIMTC1", connector_id="C1", station_id="S1",
            payment_mode=PaymentMode.POSTPAID, currency="CNY",
        )  # fmt: skip
        fields.update(kwargs)
        record, _ = await store.create_session(
            driver_id=driver_id, idempotency_key=key or f"key-{next(keys)}", **fields
        )
        return record

    return make


@pytest.fixture
def new_bill(store: Store, new_session: NewSession) -> NewBill:
    """Bill a new session of ``driver_id`` for ``amounts`` (one ENERGY line each), due in a week."""

    async def make(
        driver_id: str = "alice",
        *amounts: Decimal,
        due_at: datetime | None = None,
        status: BillStatus = BillStatus.UNPAID,
    ) -> BillRecord:
        session = await new_session(driver_id)
        lines = [
            BillLineInput(LineKind.ENERGY, amount, "Electricity") for amount in amounts or (Decimal("10"),)
        ]
        total = sum((line.amount for line in lines), Decimal(0))
        due = due_at or datetime.now(UTC) + timedelta(days=7)
        bill, created = await store.create_bill(
            session.id, driver_id, "CNY", lines, total, total, status, due
        )
        assert created
        return bill

    return make
