"""What the ledger hands back: frozen records and the enums their fields take.

A session's status is the domain's :class:`~operators.domain.SessionPhase` (the same five values the
GraphQL ``SessionStatus`` exposes). Amounts are ``Decimal`` at the store's fixed scale (four places
for money: ``Decimal("12.3500")``), equal to what went in. Times are aware UTC datetimes.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from operators.domain import SessionPhase

T = TypeVar("T")

TERMINAL = frozenset({SessionPhase.COMPLETED, SessionPhase.FAILED})


class PaymentMode(enum.Enum):
    POSTPAID = "POSTPAID"
    PREPAID = "PREPAID"


class SessionEndReason(enum.Enum):
    """Why a session ended; set once, by whichever end is recorded first."""

    DRIVER_STOP = "DRIVER_STOP"  # stopCharging, or the driver at the pile
    COST_CAP = "COST_CAP"  # the driver's maxCost or the postpay cap was about to be passed
    BALANCE = "BALANCE"  # a prepaid session was about to pass the wallet balance
    ENERGY_LIMIT = "ENERGY_LIMIT"  # the driver's maxEnergyKwh was about to be passed
    VEHICLE = "VEHICLE"  # the car ended it: battery full, or unplugged
    OPERATOR = "OPERATOR"  # the operator ended it, for a reason of its own or none given
    FAULT = "FAULT"  # the charger or the operator failed during the session
    START_FAILED = "START_FAILED"  # the operator refused the start, or it never began
    UNKNOWN = "UNKNOWN"  # ended before the gateway recorded reasons (ledger schema v2)


class WalletEntryKind(enum.Enum):
    """Top-ups and refunds credit the wallet (amount > 0), charges debit it (< 0)."""

    TOPUP = "TOPUP"
    CHARGE = "CHARGE"
    REFUND = "REFUND"
    ADJUSTMENT = "ADJUSTMENT"


class BillStatus(enum.Enum):
    UNPAID = "UNPAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"
    DISPUTED = "DISPUTED"


OPEN_BILL_STATUSES = frozenset({BillStatus.UNPAID, BillStatus.OVERDUE, BillStatus.DISPUTED})


class LineKind(enum.Enum):
    """What a bill line charges for; the operator's order line kinds plus our ADJUSTMENT."""

    ENERGY = "ENERGY"
    SERVICE = "SERVICE"
    PARKING = "PARKING"
    TIME = "TIME"
    FLAT = "FLAT"
    ADJUSTMENT = "ADJUSTMENT"
    OTHER = "OTHER"


class PaymentMethod(enum.Enum):
    WALLET = "WALLET"
    PROVIDER = "PROVIDER"


class PaymentStatus(enum.Enum):
    """A payment is PENDING from before the provider is called until it is SETTLED or FAILED."""

    PENDING = "PENDING"
    SETTLED = "SETTLED"
    FAILED = "FAILED"


class PaymentPurpose(enum.Enum):
    BILL = "BILL"
    TOPUP = "TOPUP"


class PaymentOutcome(enum.Enum):
    PAID = "PAID"  # this call paid the bill (from the wallet)
    PENDING = "PENDING"  # a provider payment is recorded; call the provider with ``payment.id``
    ALREADY_PAID = "ALREADY_PAID"  # paid before, or a retry: ``payment`` is that payment
    IN_PROGRESS = "IN_PROGRESS"  # another payment of this bill is pending at the provider
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"  # the wallet (less its holds) is below the total
    NOT_FOUND = "NOT_FOUND"  # no such bill for this driver
    NOT_PAYABLE = "NOT_PAYABLE"  # the bill is DISPUTED
    KEY_CONFLICT = "KEY_CONFLICT"  # the idempotency key was used with a different request
    DECLINED = "DECLINED"  # the provider declined this request's payment


@dataclass(frozen=True, slots=True)
class KeyConflict:
    """The idempotency key was used before by the same owner with a different request."""

    operation: str
    key: str


@dataclass(frozen=True, slots=True)
class Account:
    """A driver's money as one ledger transaction sees it (the wallet in one currency)."""

    wallet_balance: Decimal
    outstanding: Decimal  # UNPAID, OVERDUE and DISPUTED bills
    has_overdue: bool
    reserved: Decimal  # caps of live POSTPAID sessions
    held: Decimal  # wallet holds of live PREPAID sessions


@dataclass(frozen=True, slots=True)
class Grant:
    """A session may start in ``mode`` and cost at most ``amount``, checked against ``limit``."""

    mode: PaymentMode
    amount: Decimal
    limit: Decimal


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    id: int
    session_id: str
    driver_id: str
    mode: PaymentMode
    amount: Decimal
    currency: str
    limit_amount: Decimal
    created_at: datetime
    released_at: datetime | None


@dataclass(frozen=True, slots=True)
class DriverRecord:
    id: str
    name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WalletEntryRecord:
    id: int
    driver_id: str
    amount: Decimal
    currency: str
    kind: WalletEntryKind
    reference: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    driver_id: str
    idempotency_key: str
    operator_id: str
    station_id: str | None
    connector_id: str
    operator_ref: str | None
    payment_mode: PaymentMode
    status: SessionPhase
    currency: str
    energy_kwh: Decimal
    cost: Decimal
    power_kw: float | None
    soc: float | None
    max_cost: Decimal | None
    max_energy_kwh: Decimal | None
    tariff_json: str | None  # the tariff quoted at start, see gateway.store.codec
    failure: str | None
    end_reason: SessionEndReason | None  # None while the session is live
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    updated_at: datetime
    version: int

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True, slots=True)
class SessionEventRecord:
    id: int
    session_id: str
    kind: str
    payload: str  # JSON
    created_at: datetime

    @property
    def data(self) -> Any:
        return json.loads(self.payload)


@dataclass(frozen=True, slots=True)
class InboxRecord:
    id: int
    operator_id: str
    kind: str
    dedupe_key: str
    raw: str
    received_at: datetime
    applied_at: datetime | None


@dataclass(frozen=True, slots=True)
class BillLineInput:
    """A line to bill; :meth:`Ledger.create_bill` also takes the domain's ``OrderLine``."""

    kind: LineKind
    amount: Decimal
    description: str
    start: datetime | None = None
    end: datetime | None = None
    energy_kwh: Decimal | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BillLineRecord:
    id: int
    bill_id: str
    position: int
    kind: LineKind
    description: str
    amount: Decimal
    start: datetime | None
    end: datetime | None
    energy_kwh: Decimal | None
    unit_price: Decimal | None
    reference: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BillRecord:
    id: str
    session_id: str
    driver_id: str
    status: BillStatus
    currency: str
    total: Decimal  # the sum of the lines, adjustments included
    operator_total: Decimal
    recomputed_total: Decimal | None
    due_at: datetime
    created_at: datetime
    paid_at: datetime | None
    review: str | None  # why a person should look at it (billed past the session's cap)
    lines: tuple[BillLineRecord, ...]

    @property
    def discrepancy(self) -> Decimal | None:
        """Operator's total minus ours, when we recomputed one; non-zero means flag it."""
        return None if self.recomputed_total is None else self.operator_total - self.recomputed_total


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: str  # also the idempotency key the provider is called with
    driver_id: str
    bill_id: str | None  # None for a top-up
    purpose: PaymentPurpose
    amount: Decimal
    currency: str
    method: PaymentMethod
    status: PaymentStatus
    provider_reference: str | None
    created_at: datetime
    settled_at: datetime | None
    rail: str | None = None  # the credit rail collecting it; None for the driver's own (wallet, card)


@dataclass(frozen=True, slots=True)
class RefundRecord:
    id: str
    payment_id: str
    driver_id: str
    amount: Decimal
    currency: str
    status: PaymentStatus
    provider_reference: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentResult:
    outcome: PaymentOutcome
    bill: BillRecord | None = None
    payment: PaymentRecord | None = None
    balance: Decimal | None = None  # the wallet's available balance, when it was too low

    @property
    def paid(self) -> bool:
        """True when the bill is settled, by this call or an earlier one."""
        return self.outcome in (PaymentOutcome.PAID, PaymentOutcome.ALREADY_PAID)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One keyset page, newest first: ``cursors[i]`` resumes after ``items[i]``."""

    items: tuple[T, ...]
    cursors: tuple[str, ...]
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None
