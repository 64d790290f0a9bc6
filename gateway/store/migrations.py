"""Versioned schema migrations: a database at any earlier version upgrades in place.

``schema_version`` holds one row per applied migration. :func:`migrate` applies the pending ones, in
order, in one write transaction (DDL is transactional on both SQLite and PostgreSQL, so a failed
upgrade leaves the database at its old version). Concurrent start-ups are serialised by a
transaction-scoped advisory lock on PostgreSQL and by ``BEGIN IMMEDIATE`` on SQLite, so several
replicas may call it at once. Migrations are append-only and never edited once released; a new one
is a function here plus the matching change in :mod:`gateway.store.tables`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import schema_v1, schema_v3, schema_v4, schema_v7
from gateway.store.database import Database
from gateway.store.types import UtcDateTime, utcnow

log = logging.getLogger(__name__)

ADVISORY_LOCK_ID = 0x63686172  # "char": any constant shared by every chargegate replica

schema_version = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)


class MigrationError(RuntimeError):
    """The database cannot be brought to this code's schema (e.g. it is newer than the code)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _v1_base_tables(conn: Connection) -> None:
    schema_v1.metadata.create_all(conn)


def _v2_operator_refs_and_indexes(conn: Connection) -> None:
    for statement in (
        # The operator's own session id (OCPI session id, T/CEC StartChargeSeq) for lookups by push.
        "ALTER TABLE sessions ADD COLUMN operator_ref VARCHAR(128)",
        "CREATE UNIQUE INDEX uq_sessions_operator_ref ON sessions (operator_id, operator_ref)",
        # Keyset pagination, newest first, per driver.
        "CREATE INDEX ix_sessions_driver_recent ON sessions (driver_id, created_at, id)",
        "CREATE INDEX ix_bills_driver_recent ON bills (driver_id, created_at, id)",
        # The overdue sweep.
        "CREATE INDEX ix_bills_status_due ON bills (status, due_at)",
        # A retried correction carries the same reference and adds nothing.
        "ALTER TABLE bill_lines ADD COLUMN reference VARCHAR(128)",
        "CREATE UNIQUE INDEX uq_bill_lines_reference ON bill_lines (bill_id, reference)",
    ):
        conn.execute(text(statement))


def _v3_money(conn: Connection) -> None:
    # Payments become attempts with a status, for top-ups too, and lose their global key: rebuilt
    # (nothing references them), every existing payment carried over as SETTLED.
    conn.execute(text("CREATE TABLE payments_v2 AS SELECT * FROM payments"))
    conn.execute(text("DROP TABLE payments"))
    v3 = schema_v3
    v3.metadata.create_all(conn, tables=[v3.payments, v3.refunds, v3.reservations, v3.idempotency_keys,
                                         v3.audit_log])  # fmt: skip
    conn.execute(
        text(
            "INSERT INTO payments (id, driver_id, bill_id, purpose, amount, currency, method, status,"
            " provider_reference, created_at, settled_at) SELECT id, driver_id, bill_id, 'BILL', amount,"
            " currency, method, 'SETTLED', provider_reference, created_at, created_at FROM payments_v2"
        )
    )
    conn.execute(text("DROP TABLE payments_v2"))
    conn.execute(text("ALTER TABLE bills ADD COLUMN review VARCHAR(200)"))


def _v4_quotes(conn: Connection) -> None:
    schema_v4.metadata.create_all(conn, tables=[schema_v4.quotes])


def _v5_operator_state(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE operator_state (key VARCHAR(255) NOT NULL, value TEXT NOT NULL,"
            " expires_at FLOAT, CONSTRAINT pk_operator_state PRIMARY KEY (key))"
        )
    )


def _v6_session_end_reasons(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE sessions ADD COLUMN end_reason VARCHAR(16)"))
    # Sessions that ended before: a failure without a start never began; other ends are unknown.
    conn.execute(
        text(
            "UPDATE sessions SET end_reason = CASE WHEN status = 'FAILED' AND started_at IS NULL "
            "THEN 'START_FAILED' WHEN status = 'FAILED' THEN 'FAULT' ELSE 'UNKNOWN' END "
            "WHERE status IN ('COMPLETED', 'FAILED')"
        )
    )


def _v7_identities(conn: Connection) -> None:
    schema_v7.metadata.create_all(conn, tables=[schema_v7.identities, schema_v7.sign_ins])


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "base tables", _v1_base_tables),
    Migration(
        2,
        "operator session refs, pagination and overdue indexes, adjustment references",
        _v2_operator_refs_and_indexes,
    ),
    Migration(3, "payments with a status, reservations, idempotency keys, refunds, audit", _v3_money),
    Migration(4, "binding price quotes", _v4_quotes),
    Migration(5, "operator adapters' shared state", _v5_operator_state),
    Migration(6, "why each session ended", _v6_session_end_reasons),
    Migration(7, "identities at the providers and sign-ins", _v7_identities),
)
LATEST = MIGRATIONS[-1].version


async def current_version(engine: AsyncEngine) -> int:
    """The schema version of the database; 0 when it has never been migrated."""
    async with Database(engine).read() as conn:
        has_table = await conn.run_sync(lambda sync: sync.dialect.has_table(sync, schema_version.name))
        if not has_table:
            return 0
        return (await conn.execute(select(func.max(schema_version.c.version)))).scalar_one() or 0


async def migrate(engine: AsyncEngine, target: int = LATEST) -> int:
    """Apply every pending migration up to ``target``; returns the version the database is now at."""
    if not 0 <= target <= LATEST:
        raise MigrationError(f"no migration {target}: this code knows versions 1..{LATEST}")
    db = Database(engine)
    async with db.write() as conn:
        if db.dialect == "postgresql":
            await conn.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_ID)))
        await conn.run_sync(schema_version.metadata.create_all)
        current = (await conn.execute(select(func.max(schema_version.c.version)))).scalar_one() or 0
        if current > LATEST:
            raise MigrationError(f"database is at schema version {current}; this code knows only {LATEST}")
        for migration in MIGRATIONS:
            if current < migration.version <= target:
                log.info("applying ledger migration %d: %s", migration.version, migration.name)
                await conn.run_sync(migration.apply)
                await conn.execute(
                    schema_version.insert().values(
                        version=migration.version, name=migration.name, applied_at=utcnow()
                    )
                )
                current = migration.version
    return current
