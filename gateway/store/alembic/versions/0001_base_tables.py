"""Base tables: drivers, wallet entries, sessions and their events, the inbox, bills, payments.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

# Self-contained: the column types as the database sees them, not the live tables' Python types.
MONEY = sa.BigInteger()  # ten-thousandths (gateway.store.types.MONEY)
ENERGY = sa.BigInteger()  # millionths of a kWh
UNIT_PRICE = sa.BigInteger()  # millionths
UTC = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # still SQLite's rowid alias


def upgrade() -> None:
    op.create_table(
        "drivers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drivers"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("operator_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("applied_at", UTC),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("operator_id", "kind", "dedupe_key", name="uq_inbox_operator_id_kind_dedupe_key"),
    )
    op.create_index("ix_inbox_applied_at", "inbox", ["applied_at"])
    op.create_table(
        "wallet_entries",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),  # signed: top-ups and refunds > 0, charges < 0
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wallet_entries"),
        # The same top-up or charge is never recorded twice.
        sa.UniqueConstraint("kind", "reference", name="uq_wallet_entries_kind_reference"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_wallet_entries_driver_id_drivers"),
    )
    op.create_index("ix_wallet_entries_driver_id_currency", "wallet_entries", ["driver_id", "currency"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("operator_id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(128)),
        sa.Column("connector_id", sa.String(128), nullable=False),
        sa.Column("payment_mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("energy_kwh", ENERGY, nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("power_kw", sa.Float()),
        sa.Column("soc", sa.Float()),
        sa.Column("max_cost", MONEY),
        sa.Column("max_energy_kwh", ENERGY),
        sa.Column("tariff_json", sa.Text()),
        sa.Column("failure", sa.Text()),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("started_at", UTC),
        sa.Column("ended_at", UTC),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("driver_id", "idempotency_key", name="uq_sessions_driver_id_idempotency_key"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_sessions_driver_id_drivers"),
    )
    op.create_index("ix_sessions_status", "sessions", ["status"])
    op.create_table(
        "session_events",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_session_events"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_session_events_session_id_sessions"
        ),
    )
    op.create_index("ix_session_events_session_id_id", "session_events", ["session_id", "id"])
    op.create_table(
        "bills",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),  # always the sum of the lines
        sa.Column("operator_total", MONEY, nullable=False),
        sa.Column("recomputed_total", MONEY),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("paid_at", UTC),
        sa.PrimaryKeyConstraint("id", name="pk_bills"),
        sa.UniqueConstraint("session_id", name="uq_bills_session_id"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name="fk_bills_session_id_sessions"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_bills_driver_id_drivers"),
    )
    op.create_table(
        "bill_lines",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("bill_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("period_start", UTC),
        sa.Column("period_end", UTC),
        sa.Column("energy_kwh", ENERGY),
        sa.Column("unit_price", UNIT_PRICE),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bill_lines"),
        sa.UniqueConstraint("bill_id", "position", name="uq_bill_lines_bill_id_position"),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"], name="fk_bill_lines_bill_id_bills"),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("bill_id", sa.String(64), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("provider_reference", sa.String(128)),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        # One payment settles one bill, whole: the database itself refuses a second one.
        sa.UniqueConstraint("bill_id", name="uq_payments_bill_id"),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"], name="fk_payments_bill_id_bills"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_payments_driver_id_drivers"),
        sa.UniqueConstraint("idempotency_key", name="uq_payments_idempotency_key"),
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
