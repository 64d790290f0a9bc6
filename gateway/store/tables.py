"""The ledger's current schema as SQLAlchemy Core tables; what the queries are written against.

This is the schema :func:`gateway.store.migrations.migrate` produces at the head revision (a test
reflects a migrated database and compares). Change it only together with a new Alembic revision
(``gateway/store/alembic/versions/``).
Enumerations are stored as short strings (no database ENUM types, which PostgreSQL cannot alter in a
transaction); balances and totals are derived by summing immutable rows, never kept as a mutable
balance column. Money columns are exact fixed-point (see :mod:`gateway.store.types`).
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
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
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
NOT_FAILED = text("status <> 'FAILED'")

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
    Column("operator_ref", String(128)),  # v2: the operator's own session id, once known
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
    Column("end_reason", String(16)),  # v6: SessionEndReason, set when the session ends
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("driver_id", "idempotency_key"),
    Index(None, "status"),
    Index("ix_sessions_driver_recent", "driver_id", "created_at", "id"),  # v2
    Index("uq_sessions_operator_ref", "operator_id", "operator_ref", unique=True),  # v2
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
    Column("review", String(200)),  # v3: why a person should look at this bill (e.g. past the cap)
    Index("ix_bills_driver_recent", "driver_id", "created_at", "id"),  # v2
    Index("ix_bills_status_due", "status", "due_at"),  # v2
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
    Column("reference", String(128)),  # v2: makes a retried adjustment a no-op
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("bill_id", "position"),
    Index("uq_bill_lines_reference", "bill_id", "reference", unique=True),  # v2
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(64), primary_key=True),  # v3: also the provider's idempotency key
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("bill_id", String(64), ForeignKey("bills.id")),  # v3: None for a top-up
    Column("purpose", String(16), nullable=False),  # v3: BILL or TOPUP
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # v3: PENDING, SETTLED, FAILED
    Column("provider_reference", String(128)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("settled_at", UtcDateTime),
    Column("rail", String(32)),  # v9: the credit rail whose collection it is (None: the driver's own)
    # A bill has at most one payment that is not FAILED: the database refuses a second.
    Index(
        "uq_payments_live_bill", "bill_id", unique=True, sqlite_where=NOT_FAILED, postgresql_where=NOT_FAILED
    ),
    Index("ix_payments_status_created", "status", "created_at"),
)

reservations = Table(  # v3: what live sessions may still cost, against the limit or the wallet
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

idempotency_keys = Table(  # v3: per owner, bound to a hash of the request
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

refunds = Table(  # v3
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

audit_log = Table(  # v3: who decided what about whose money, and why
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

quotes = Table(  # v4: binding price quotes, each used by at most one session
    "quotes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("driver_id", String(64), nullable=False),
    Column("operator_id", String(64), nullable=False),
    Column("connector_id", String(128), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("energy_kwh", ENERGY, nullable=False),
    Column("power_kw", Float, nullable=False),
    Column("total", MONEY, nullable=False),
    Column("tariff_json", Text, nullable=False),  # the snapshot the bill is computed from
    Column("priced_at", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("session_id", String(64), ForeignKey("sessions.id"), unique=True),
    Index(None, "driver_id"),
)

operator_state = Table(  # v5: what the operator adapters share across replicas (OCPI, T/CEC replay cache)
    "operator_state",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", Float),  # Unix time; NULL keeps the key until it is deleted
)

identities = Table(  # v7: a provider's user (Alipay, WeChat, OIDC) bound to one driver
    "identities",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("how", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "driver_id"),
)

sign_ins = Table(  # v7: one signed-in device; its refresh token's hash, expiry and revocation
    "sign_ins",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("refresh_hash", String(64), nullable=False),
    Column("previous_hash", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Index(None, "driver_id"),
)

rail_mismatches = Table(  # v8: a credit rail's order that disagrees with the ledger, until resolved
    "rail_mismatches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("rail", String(32), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ours", MONEY),
    Column("theirs", MONEY),
    Column("detail", Text, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("resolved_by", String(128)),
    Column("resolution", Text),
    Index(None, "rail", "reference"),
    Index(None, "resolved_at"),
)
