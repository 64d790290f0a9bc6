"""Why each session ended.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("ALTER TABLE sessions ADD COLUMN end_reason VARCHAR(16)")
    # Sessions that ended before: a failure without a start never began; other ends are unknown.
    op.execute(
        "UPDATE sessions SET end_reason = CASE WHEN status = 'FAILED' AND started_at IS NULL "
        "THEN 'START_FAILED' WHEN status = 'FAILED' THEN 'FAULT' ELSE 'UNKNOWN' END "
        "WHERE status IN ('COMPLETED', 'FAILED')"
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
