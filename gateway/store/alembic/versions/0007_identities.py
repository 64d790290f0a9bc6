"""Who a driver is at the identity providers, and their sign-ins.

``identities`` binds a provider's user (``alipay`` user id, ``wechat`` openid, ``oidc`` issuer and
subject) to one driver; a user is bound to at most one driver, a driver may have several. A
``sign_ins`` row is one signed-in device: the hash of its current refresh token, when it expires,
and when it was revoked (sign-out, or a refresh token used twice).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        # SIGN_IN (created by it), LINK (by the driver), DEMO
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("provider", "subject", name="pk_identities"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_identities_driver_id_drivers"),
    )
    op.create_index("ix_identities_driver_id", "identities", ["driver_id"])
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("driver_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("refresh_hash", sa.String(64), nullable=False),  # SHA-256 hex of the current refresh secret
        sa.Column("previous_hash", sa.String(64)),  # the one before: presenting it again revokes the sign-in
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC),
        sa.PrimaryKeyConstraint("id", name="pk_sign_ins"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name="fk_sign_ins_driver_id_drivers"),
    )
    op.create_index("ix_sign_ins_driver_id", "sign_ins", ["driver_id"])


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
