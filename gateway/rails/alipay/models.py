"""What the Alipay adapter returns: frozen dataclasses and enums, parsed from the gateway's answers.

Unknown native statuses map to ``UNKNOWN`` (and are logged by the parser), never crash a caller.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class AgreementStatus(enum.Enum):
    """A driver's pay-after-use agreement (``agreement_status``)."""

    VALID = "VALID"
    INVALID = "INVALID"
    UNKNOWN = "UNKNOWN"


class CreditOrderStatus(enum.Enum):
    """A Zhima credit order (``order_status``): INIT until collected (FINISHED) or closed."""

    INIT = "INIT"
    TRADE_FINISHED = "TRADE_FINISHED"
    TRADE_CLOSED = "TRADE_CLOSED"
    UNKNOWN = "UNKNOWN"


class TradeStatus(enum.Enum):
    """An ``alipay.trade.*`` trade (``trade_status``)."""

    WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
    TRADE_SUCCESS = "TRADE_SUCCESS"
    TRADE_FINISHED = "TRADE_FINISHED"
    TRADE_CLOSED = "TRADE_CLOSED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class Agreement:
    credit_agreement_id: str
    out_agreement_no: str
    status: AgreementStatus
    alipay_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class CreditOrder:
    """``total_amount`` and ``trade_no`` are set once the order was collected."""

    credit_biz_order_id: str
    out_order_no: str
    status: CreditOrderStatus
    total_amount: Decimal | None = None
    trade_no: str | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    trade_no: str
    out_trade_no: str
    status: TradeStatus
    total_amount: Decimal


@dataclass(frozen=True, slots=True)
class PayAccepted:
    """``alipay.trade.pay`` accepted a withholding; its outcome comes by notification or query."""

    trade_no: str
    out_trade_no: str
    total_amount: Decimal


@dataclass(frozen=True, slots=True)
class Precreated:
    """A top-up trade waiting for the driver to scan ``qr_code`` and pay."""

    out_trade_no: str
    qr_code: str


@dataclass(frozen=True, slots=True)
class Refund:
    """``refund_fee`` is the trade's total refunded so far; ``fund_change`` False means a repeat."""

    trade_no: str
    out_trade_no: str
    refund_fee: Decimal
    fund_change: bool


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified ``trade_status_sync`` notification.

    ``notify_id`` is the same on every redelivery, so it is the key to apply a notification once.
    ``out_biz_no`` and ``refund_fee`` are set when the notification reports a refund.
    """

    notify_id: str
    notify_type: str
    out_trade_no: str
    trade_no: str
    trade_status: TradeStatus
    total_amount: Decimal
    refund_fee: Decimal | None = None
    out_biz_no: str | None = None
