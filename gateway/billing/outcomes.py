"""What the billing service answers besides records: the expected refusals, one small type each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.billing.amounts import InvalidAmount
from gateway.rails.bureau.decision import Denied
from gateway.store import KeyConflict


@dataclass(frozen=True, slots=True)
class NotFound:
    message: str


@dataclass(frozen=True, slots=True)
class NotPayable:
    """The bill is DISPUTED (or otherwise not payable now); ``field`` names the offending input."""

    message: str
    field: str = "billId"


@dataclass(frozen=True, slots=True)
class Insufficient:
    """The wallet, less the holds of live prepaid sessions, does not cover ``required``."""

    available: Decimal
    required: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Declined:
    """The payment provider declined; the message is safe to show."""

    message: str


Refusal = NotFound | NotPayable | Insufficient | Declined | KeyConflict | InvalidAmount | Denied

__all__ = [
    "Declined",
    "Denied",
    "Insufficient",
    "InvalidAmount",
    "KeyConflict",
    "NotFound",
    "NotPayable",
    "Refusal",
]
