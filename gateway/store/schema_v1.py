"""Schema version 1, frozen: the tables exactly as the first migration creates them.

Never edit this module; a schema change is a new migration in :mod:`gateway.store.migrations` plus
the matching edit to :mod:`gateway.store.tables`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gateway.store.types import ENERGY, MONEY, UNIT_PRICE, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit surrogate key that is still SQLite's auto-incrementing rowid alias.
SERIAL = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData(naming_convention=NAMING)

drivers = Table(
    "drivers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
)

wallet_entries = Table(
    "wallet_entries",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("amount", MONEY, nullable=False),  # signed: top-ups and refunds > 0, charges < 0
    Column("currency", String(3), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "reference"),  # the same top-up or charge is never recorded twice
    Index(None, "driver_id", "currency"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("operator_id", String(64), nullable=False),
    Column("station_id", String(128)),
    Column("connector_id", String(128), nullable=False),
    Column("payment_mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("energy_kwh", ENERGY, nullable=False),
    Column("cost", MONEY, nullable=False),
    Column("power_kw", Float),
    Column("soc", Float),
    Column("max_cost", MONEY),
    Column("max_energy_kwh", ENERGY),
    Column("tariff_json", Text),
    Column("failure", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("driver_id", "idempotency_key"),
    Index(None, "status"),
)

session_events = Table(
    "session_events",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("session_id", String(64), ForeignKey("sessions.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "session_id", "id"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("operator_id", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("dedupe_key", String(255), nullable=False),
    Column("raw", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("applied_at", UtcDateTime),
    UniqueConstraint("operator_id", "kind", "dedupe_key"),
    Index(None, "applied_at"),
)

bills = Table(
    "bills",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("session_id", String(64), ForeignKey("sessions.id"), nullable=False, unique=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", MONEY, nullable=False),  # always the sum of the lines
    Column("operator_total", MONEY, nullable=False),
    Column("recomputed_total", MONEY),
    Column("due_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime),
)

bill_lines = Table(
    "bill_lines",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("bill_id", String(64), ForeignKey("bills.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("description", String(200), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("period_start", UtcDateTime),
    Column("period_end", UtcDateTime),
    Column("energy_kwh", ENERGY),
    Column("unit_price", UNIT_PRICE),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("bill_id", "position"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(64), primary_key=True),
    # One payment settles one bill, whole: the database itself refuses a second one.
    Column("bill_id", String(64), ForeignKey("bills.id"), nullable=False, unique=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(16), nullable=False),
    Column("provider_reference", String(128)),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)
