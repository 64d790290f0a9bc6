"""Operator session refs, pagination and overdue indexes, adjustment references.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # The operator's own session id (OCPI session id, T/CEC StartChargeSeq) for lookups by push.
    op.execute("ALTER TABLE sessions ADD COLUMN operator_ref VARCHAR(128)")
    op.execute("CREATE UNIQUE INDEX uq_sessions_operator_ref ON sessions (operator_id, operator_ref)")
    # Keyset pagination, newest first, per driver.
    op.execute("CREATE INDEX ix_sessions_driver_recent ON sessions (driver_id, created_at, id)")
    op.execute("CREATE INDEX ix_bills_driver_recent ON bills (driver_id, created_at, id)")
    # The overdue sweep.
    op.execute("CREATE INDEX ix_bills_status_due ON bills (status, due_at)")
    # A retried correction carries the same reference and adds nothing.
    op.execute("ALTER TABLE bill_lines ADD COLUMN reference VARCHAR(128)")
    op.execute("CREATE UNIQUE INDEX uq_bill_lines_reference ON bill_lines (bill_id, reference)")


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
