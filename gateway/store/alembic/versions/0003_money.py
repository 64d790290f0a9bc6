"""Payments with a status, reservations, idempotency keys, refunds, audit.

Payments become attempts with a status (PENDING before the provider is called, then SETTLED or
FAILED) for bills and top-ups alike, and lose their global key: the table is rebuilt (nothing
references it) and every existing payment is carried over as SETTLED. Reservations hold a live
session's cap; idempotency keys are per driver and bound to a hash of their input.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

MONEY = sa.BigInteger()
UTC = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOT_FAILED = sa.text("status <> 'FAILED'")


def upgrade() -> None:
    op.execute("CREATE TABLE payments_v2 AS SELECT * FROM payments")
    op.drop_table("payments")
    op.create_table(
        "payments",
        sa.Column("id", sa.String(64), nullable=False),  # also the provider's idempotency key
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("bill_id", sa.String(64)),  # None for a top-up
        sa.Column("purpose", sa.String(16), nullable=False),  # BILL or TOPUP
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # PENDING, SETTLED, FAILED
        sa.Column("provider_reference", sa.String(128)),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("settled_at", UTC),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_payments_driver_id_drivers"),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"], name="fk_payments_bill_id_bills"),
    )
    # A bill has at most one payment that is not FAILED: the database refuses a second.
    op.create_index(
        "uq_payments_live_bill",
        "payments",
        ["bill_id"],
        unique=True,
        sqlite_where=NOT_FAILED,
        postgresql_where=NOT_FAILED,
    )
    op.create_index("ix_payments_status_created", "payments", ["status", "created_at"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("provider_reference", sa.String(128)),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name="fk_refunds_payment_id_payments"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_refunds_driver_id_drivers"),
    )
    op.create_index("ix_refunds_payment_id", "refunds", ["payment_id"])
    op.create_table(
        "reservations",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),  # POSTPAID: against the limit; PREPAID: a hold
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("limit_amount", MONEY, nullable=False),  # the limit (or wallet) it was checked against
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("released_at", UTC),
        sa.PrimaryKeyConstraint("id", name="pk_reservations"),
        sa.UniqueConstraint("session_id", name="uq_reservations_session_id"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name="fk_reservations_session_id_sessions"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_reservations_driver_id_drivers"),
    )
    op.create_index("ix_reservations_driver_live", "reservations", ["driver_id", "released_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("owner", sa.String(128), nullable=False),  # a driver id, or admin:<key id>
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("result_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("owner", "operation", "key", name="pk_idempotency_keys"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    op.execute(
        "INSERT INTO payments (id, driver_id, bill_id, purpose, amount, currency, method, status,"
        " provider_reference, created_at, settled_at) SELECT id, driver_id, bill_id, 'BILL', amount,"
        " currency, method, 'SETTLED', provider_reference, created_at, created_at FROM payments_v2"
    )
    op.drop_table("payments_v2")
    op.execute("ALTER TABLE bills ADD COLUMN review VARCHAR(200)")


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
