"""What the credit check decides: postpaid with a cap, prepaid with a budget, or denied and why.

These are the domain results the ``startCharging`` resolver maps onto ``ChargingSession`` (with its
``PaymentMode``) or the typed ``CreditDenied`` error (docs/billing.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from gateway.store.records import PaymentMode

__all__ = ["Decision", "Denied", "DenialReason", "PaymentMode", "Postpaid", "Prepaid"]


class DenialReason(enum.StrEnum):
    """Why a driver may not charge (``CreditDenied.code``); for an automatic choice, why not postpay."""

    BUREAU_UNAVAILABLE = "BUREAU_UNAVAILABLE"  # fail closed: no score, no postpay
    NO_CREDIT_SCORE = "NO_CREDIT_SCORE"  # the bureau has no record of the driver
    SCORE_TOO_LOW = "SCORE_TOO_LOW"
    OVERDUE_BILL = "OVERDUE_BILL"
    DEBT_LIMIT_REACHED = "DEBT_LIMIT_REACHED"  # unpaid bills reach the score band's limit
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"  # asked for prepaid; the wallet is below the minimum
    RAIL_DECLINED = "RAIL_DECLINED"  # the driver's credit rail (Alipay, WeChat Pay) declined the session
    RAIL_UNAVAILABLE = "RAIL_UNAVAILABLE"  # the driver's credit rail could not be asked


@dataclass(frozen=True, slots=True)
class Postpaid:
    """Charge now, bill later; the gateway stops the session when its cost reaches ``cap``."""

    cap: Decimal

    @property
    def mode(self) -> PaymentMode:
        return PaymentMode.POSTPAID


@dataclass(frozen=True, slots=True)
class Prepaid:
    """Paid from the wallet; the gateway stops the session when its cost reaches ``budget``."""

    budget: Decimal

    @property
    def mode(self) -> PaymentMode:
        return PaymentMode.PREPAID


@dataclass(frozen=True, slots=True)
class Denied:
    """No charging. ``message`` says why, ``unlock`` what would change that (both for the driver);
    ``top_up`` is the least top-up that would allow prepaid (0 when the wallet already would)."""

    reason_code: DenialReason
    message: str
    score: int | None
    unlock: str
    top_up: Decimal


Decision = Postpaid | Prepaid | Denied
