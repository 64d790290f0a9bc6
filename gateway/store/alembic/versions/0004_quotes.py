"""Binding price quotes, each usable by one session.

A quote keeps the tariff it was priced under (the snapshot a bill is later computed from), the
energy and power it was priced for, and when it stops being valid. ``session_id`` is set once, by
the session that uses it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.String(64), nullable=False),
        sa.Column("connector_id", sa.String(128), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("energy_kwh", sa.BigInteger(), nullable=False),  # millionths of a kWh
        sa.Column("power_kw", sa.Float(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),  # ten-thousandths
        sa.Column("tariff_json", sa.Text(), nullable=False),
        sa.Column("priced_at", UTC, nullable=False),  # the estimate's start
        sa.Column("valid_until", UTC, nullable=False),
        sa.Column("session_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_quotes"),
        sa.UniqueConstraint("session_id", name="uq_quotes_session_id"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name="fk_quotes_session_id_sessions"),
    )
    op.create_index("ix_quotes_driver_id", "quotes", ["driver_id"])


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
