"""Which credit rail collects a payment.

``payments.rail`` names the rail (``alipay``, ``wechatpay``, ``bureau``) whose collection of the
bill the payment is; it is empty for the driver's own payments, from the wallet or by card, so a
card payment of a bill whose session is on a rail is never resolved, retried, counted or refunded
on the rail. The rails' payments made before are found by the idempotency key that wrote them (its
request bound to ``rail:<bill>``) and take the rail named by their session's ``RAIL_AUTHORISED``
event.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

RAIL_PAYMENTS = sa.text(
    "SELECT p.id AS payment_id, e.payload AS payload FROM idempotency_keys k"
    " JOIN payments p ON p.id = k.result_id"
    " JOIN bills b ON b.id = p.bill_id"
    " JOIN session_events e ON e.session_id = b.session_id AND e.kind = 'RAIL_AUTHORISED'"
    " WHERE k.operation = 'payBill' AND k.request_hash LIKE 'rail:%'"
)
SET_RAIL = sa.text("UPDATE payments SET rail = :rail WHERE id = :id")


def upgrade() -> None:
    op.add_column("payments", sa.Column("rail", sa.String(32)))
    bind = op.get_bind()
    for row in bind.execute(RAIL_PAYMENTS).all():
        rail = json.loads(row.payload).get("rail")
        if rail:
            bind.execute(SET_RAIL, {"rail": rail, "id": row.payment_id})


def downgrade() -> None:
    raise NotImplementedError("the ledger is never migrated backwards")
