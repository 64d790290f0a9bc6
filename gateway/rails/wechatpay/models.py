"""What the WeChat Pay adapter returns: frozen dataclasses and enums parsed from API v3 JSON.

Amounts are yuan Decimals at two places here (the wire carries fen integers). Unknown native
states map to ``UNKNOWN`` and are logged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class OrderState(enum.Enum):
    """A pay-score service order's ``state``."""

    CREATED = "CREATED"
    DOING = "DOING"
    DONE = "DONE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"


class CollectionState(enum.Enum):
    """``collection.state``: USER_PAYING after completion until the money is taken (USER_PAID)."""

    USER_PAYING = "USER_PAYING"
    USER_PAID = "USER_PAID"
    UNKNOWN = "UNKNOWN"


class RefundStatus(enum.Enum):
    SUCCESS = "SUCCESS"
    CLOSED = "CLOSED"
    PROCESSING = "PROCESSING"
    ABNORMAL = "ABNORMAL"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class Collection:
    """What the order collects: ``paid_amount`` of ``total_amount`` so far, by ``transaction_id``."""

    state: CollectionState
    total_amount: Decimal
    paid_amount: Decimal
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceOrder:
    """``state_description`` is USER_CONFIRM or MCH_COMPLETE while DOING; ``collection`` after completion."""

    out_order_no: str
    order_id: str
    state: OrderState
    state_description: str | None
    risk_amount: Decimal
    total_amount: Decimal | None = None
    collection: Collection | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    out_refund_no: str
    refund_id: str
    transaction_id: str
    status: RefundStatus
    refund: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified, decrypted notification. ``id`` is the same on every redelivery (apply it once);
    ``order`` is set for ``PAYSCORE.*`` events, ``refund`` for ``REFUND.*`` events."""

    id: str
    event_type: str
    order: ServiceOrder | None = None
    refund: Refund | None = None
