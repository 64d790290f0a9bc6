"""What credit-rail reconciliation found: each mismatch kept until it is resolved.

One ``rail_mismatches`` row per difference between a rail's order and the ledger (rail, order
reference, kind), with when it was first and last seen; ``resolved_at``/``resolved_by``/
``resolution`` say who closed it and why (each resolution also has an audit row).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

UTC = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()  # ten-thousandths, as every money column


def upgrade() -> None:
    op.create_table(
        "rail_mismatches",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("rail", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ours", MONEY),
        sa.Column("theirs", MONEY),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("resolved_at", UTC),
        sa.Column("resolved_by", sa.String(128)),
        sa.Column("resolution", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_rail_mismatches"),
    )
    op.create_index("ix_rail_mismatches_rail_reference", "rail_mismatches", ["rail", "reference"])
    op.create_index("ix_rail_mismatches_resolved_at", "rail_mismatches", ["resolved_at"])


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
