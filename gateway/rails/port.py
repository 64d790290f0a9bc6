"""The credit-backed payment port: one Protocol for every rail that authorises, collects and refunds.

A session's money on a rail is one *order*, named by our ``reference``: authorised at start for a
risk amount (the session's cap), completed with the final amount (the provider collects it),
cancelled when nothing is owed, refunded in part or whole afterwards, and queried for
reconciliation. The provider reports outcomes as notifications, verified by the rail
(:meth:`CreditRail.notification`) and applied once by their ``event_id``.

Every call is idempotent per reference (and ``attempt``, ``refund_reference``): after a timeout or
a restart, calling again with the same references finds the first call instead of moving money
twice. References are 1–32 ASCII letters and digits, which every provider accepts as a merchant
order number.

Error tree (everything a rail raises)::

    RailError
     ├── RailUnavailable       the outcome is unknown (down, timeout, an answer we cannot trust):
     │                         query, or call again with the same references
     ├── RailDeclined          the provider declined credit for this authorisation
     ├── RailRefused           the provider refused the call (wrong state, amount above the risk
     │                         amount, refund above what was collected, …); nothing moved
     └── RailBadNotification   a notification that is not the provider's (signature, decryption)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

_REFERENCE = re.compile(r"[A-Za-z0-9]{1,32}")


def check_reference(reference: str) -> str:
    """``reference`` itself when a provider accepts it as a merchant order number; ValueError otherwise."""
    if not _REFERENCE.fullmatch(reference):
        raise ValueError(f"a rail reference is 1-32 ASCII letters and digits, not {reference!r}")
    return reference


class OrderState(enum.Enum):
    """Where an order stands, as the provider sees it."""

    AUTHORISED = "AUTHORISED"  # credit granted, nothing asked yet
    COLLECTING = "COLLECTING"  # completed; the provider is collecting
    COLLECTED = "COLLECTED"  # the final amount was taken
    FAILED = "FAILED"  # this attempt's collection failed; nothing taken (complete again, attempt + 1)
    CANCELLED = "CANCELLED"  # ended with nothing collected
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class RailOrder:
    """``collected`` is what the provider took (0.00 unless COLLECTED); ``provider_reference`` is
    the provider's id of the order or, once collected, of the collection."""

    reference: str
    state: OrderState
    collected: Decimal
    provider_reference: str | None = None


class EventKind(enum.Enum):
    COLLECTED = "COLLECTED"
    COLLECTION_FAILED = "COLLECTION_FAILED"
    REFUNDED = "REFUNDED"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class RailEvent:
    """A verified notification. ``event_id`` is the same on every redelivery. COLLECTED and
    COLLECTION_FAILED name the order (``reference``; ``amount`` collected); REFUNDED names the refund
    (``refund_reference``; its amount is the one asked for with that reference)."""

    event_id: str
    kind: EventKind
    reference: str | None = None
    amount: Decimal | None = None
    refund_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The HTTP answer that tells the provider a notification was applied (and stops redelivery)."""

    status: int
    body: str = ""
    content_type: str = "text/plain"


class RailError(Exception):
    """Base of the rails' errors."""


class RailUnavailable(RailError):
    """The outcome of the call is unknown."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RailDeclined(RailError):
    """The provider declined credit."""


class RailRefused(RailError):
    """The provider refused the call; nothing moved. ``code`` is the provider's own."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RailBadNotification(RailError):
    """A notification that does not verify as the provider's."""


class CreditRail(Protocol):
    """A credit-backed payment rail. Implementations: :class:`~gateway.rails.alipay.rail.AlipayRail`
    (Zhima pay-after-use) and :class:`~gateway.rails.wechatpay.rail.WeChatPayRail` (pay score)."""

    name: str
    acknowledgement: Acknowledgement
    identity: str  # the sign-in provider whose user ids hold this rail's accounts (gateway.identity)

    async def holder(self, account: str) -> str:
        """The provider's user id of whoever holds ``account`` (an Alipay agreement's user, a WeChat
        openid): the id that signs in with :attr:`identity`. RailRefused for an unknown account."""
        ...

    async def authorise(self, reference: str, account: str, risk_amount: Decimal, subject: str) -> RailOrder:
        """Open the order for at most ``risk_amount`` on the driver's ``account`` with this rail
        (Alipay: the agreement id; WeChat Pay: the openid). Raises :class:`RailDeclined`."""
        ...

    async def complete(self, reference: str, amount: Decimal, subject: str, attempt: int = 1) -> RailOrder:
        """Collect the final ``amount`` (≤ the risk amount; 0 cancels). After a FAILED collection,
        call again with ``attempt`` + 1. Returns the order as it stands (often COLLECTING)."""
        ...

    async def cancel(self, reference: str, reason: str) -> RailOrder:
        """End an order that has not collected anything; RailRefused once collected."""
        ...

    async def refund(self, reference: str, refund_reference: str, amount: Decimal, reason: str) -> Decimal:
        """Refund ``amount`` of what the order collected; returns the amount refunded by this reference."""
        ...

    async def query(self, reference: str, attempt: int = 1) -> RailOrder:
        """The order as the provider has it (for reconciliation and for outcomes left unknown)."""
        ...

    def notification(self, headers: Mapping[str, str], body: bytes) -> RailEvent:
        """Verify one notification; raises :class:`RailBadNotification`."""
        ...
