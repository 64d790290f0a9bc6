"""Schema version 3, frozen: the money tables the third migration creates (or rebuilds).

Payments become attempts with a status (PENDING before the provider is called, then SETTLED or
FAILED) for bills and top-ups alike; reservations hold a live session's cap; idempotency keys are
per driver and bound to a hash of their input; refunds and the audit trail are new. Never edit this
module; a later change is a new migration.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, MetaData, PrimaryKeyConstraint, String, Table, Text, text

from gateway.store.schema_v1 import NAMING, SERIAL
from gateway.store.types import MONEY, UtcDateTime

metadata = MetaData(naming_convention=NAMING)

# Only so the foreign keys below resolve; these tables exist already and are not created again.
_drivers = Table("drivers", metadata, Column("id", String(64), primary_key=True))
_sessions = Table("sessions", metadata, Column("id", String(64), primary_key=True))
_bills = Table("bills", metadata, Column("id", String(64), primary_key=True))

NOT_FAILED = text("status <> 'FAILED'")

payments = Table(
    "payments",
    metadata,
    Column("id", String(64), primary_key=True),  # also the provider's idempotency key
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("bill_id", String(64), ForeignKey("bills.id")),  # None for a top-up
    Column("purpose", String(16), nullable=False),  # BILL or TOPUP
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # PENDING, SETTLED, FAILED
    Column("provider_reference", String(128)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("settled_at", UtcDateTime),
    # A bill has at most one payment that is not FAILED: the database refuses a second.
    Index(
        "uq_payments_live_bill", "bill_id", unique=True, sqlite_where=NOT_FAILED, postgresql_where=NOT_FAILED
    ),
    Index("ix_payments_status_created", "status", "created_at"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("session_id", String(64), ForeignKey("sessions.id"), nullable=False, unique=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("mode", String(16), nullable=False),  # POSTPAID: against the limit; PREPAID: a wallet hold
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("limit_amount", MONEY, nullable=False),  # the limit (or wallet) it was checked against
    Column("created_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
    Index("ix_reservations_driver_live", "driver_id", "released_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner", String(128), nullable=False),  # a driver id, or admin:<key id>
    Column("operation", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("result_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("owner", "operation", "key"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("payment_id", String(64), ForeignKey("payments.id"), nullable=False),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("provider_reference", String(128)),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_refunds_payment_id", "payment_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_audit_log_subject", "subject"),
)
