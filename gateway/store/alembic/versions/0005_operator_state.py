"""The operator adapters' shared state (when the replicas share no Redis).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        "CREATE TABLE operator_state (key VARCHAR(255) NOT NULL, value TEXT NOT NULL,"
        " expires_at FLOAT, CONSTRAINT pk_operator_state PRIMARY KEY (key))"
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
