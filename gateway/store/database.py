"""The async engine and the two kinds of transaction the ledger runs: read and write.

SQLite: WAL, foreign keys and a busy timeout on every connection, and SQLAlchemy (not the sqlite3
driver) emits BEGIN, so a write transaction starts with ``BEGIN IMMEDIATE``: it takes the database's
single write lock up front, writers queue on the busy timeout instead of failing mid-transaction,
and a read-then-write (check a balance, then debit it) cannot interleave with another writer.
PostgreSQL: READ COMMITTED, with ``SELECT … FOR UPDATE`` where a write depends on what was read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Insert, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_CONNECT_TIMEOUT_S = 10.0
POSTGRES_COMMAND_TIMEOUT_S = 30.0
_WRITE = "chargegate_write"
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def normalise_url(database_url: str) -> URL:
    """Accept ``sqlite:///x.db`` and ``postgresql://…`` too, mapping them to the async drivers."""
    url = make_url(database_url)
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if url.drivername not in _DRIVERS.values():
        raise ValueError(f"unsupported database_url driver {url.drivername!r}: use sqlite or postgresql")
    return url


def make_engine(database_url: str) -> AsyncEngine:
    """An engine for ``database_url``; creates a SQLite file's parent directory."""
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if path in ("", ":memory:") or "mode=memory" in path:
            # One in-memory connection would be shared by every concurrent transaction.
            raise ValueError("the ledger needs a SQLite file, not an in-memory database")
        if not path.startswith("file:"):
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        connect_args={"timeout": POSTGRES_CONNECT_TIMEOUT_S, "command_timeout": POSTGRES_COMMAND_TIMEOUT_S},
    )


def _sqlite_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # the driver emits no BEGIN; _sqlite_begin does
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # persistent: a file switched once stays WAL
        except Exception as exc:
            # Switching needs the file to itself and SQLite reports "locked" without waiting; the
            # connection holding it is making the same switch, which this one then sees.
            if "locked" not in str(exc):
                raise
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


@asynccontextmanager
async def _our_errors() -> AsyncIterator[None]:
    """A value our column types refused (money with too many places, a naive datetime) surfaces as
    the plain ``ValueError``/``TypeError`` it is, not wrapped in SQLAlchemy's ``StatementError``."""
    try:
        yield
    except StatementError as exc:
        if isinstance(exc.orig, ValueError | TypeError):
            raise exc.orig from exc
        raise


class Database:
    """An engine plus its transactions; everything else in the store goes through one of these."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction that writes: committed on exit, rolled back on an exception."""
        async with self.engine.connect() as conn, _our_errors():
            await conn.execution_options(**{_WRITE: True})
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """One read-only transaction (a consistent snapshot on both backends)."""
        async with self.engine.connect() as conn, _our_errors():
            if self.dialect == "postgresql":
                # Several SELECTs (a bill, then its lines) must see one snapshot, as on SQLite.
                await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            async with conn.begin():
                yield conn

    def insert_ignore(self, table: Table) -> Insert:
        """``INSERT … ON CONFLICT DO NOTHING``: a duplicate of any unique key inserts nothing."""
        if self.dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def upsert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that takes ``on_conflict_do_update`` (both dialects spell it alike)."""
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    async def dispose(self) -> None:
        await self.engine.dispose()
