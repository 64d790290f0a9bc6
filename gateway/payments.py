"""The payment-provider port (cards, Alipay, WeChat Pay, …) and the demo provider behind it.

A provider charges money *outside* the wallet: top-ups, and bills paid by card. Every charge
carries the caller's idempotency key, so a retried request is never charged twice.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Protocol


class PaymentDeclined(Exception):
    """The provider refused the charge; the message is safe to show the driver."""


class PaymentProvider(Protocol):
    async def charge(self, driver_id: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        """Charge ``amount``; returns the provider's reference. Raises :class:`PaymentDeclined`."""
        ...


class DemoPaymentProvider:
    """Approves every charge up to ``limit`` (a pretend card limit), declines the rest.

    The reference is derived from the idempotency key, as a real provider would return the same
    charge for the same key.
    """

    def __init__(self, limit: Decimal = Decimal("5000")) -> None:
        self._limit = limit

    async def charge(self, driver_id: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        if amount > self._limit:
            raise PaymentDeclined(f"the demo card is declined above {self._limit} {currency}")
        digest = hashlib.sha256(f"{driver_id}\x1f{idempotency_key}".encode()).hexdigest()
        return f"demo-{digest[:24]}"


class NoPaymentProvider:
    """Production without a configured provider: wallet payments work, card payments do not."""

    async def charge(self, driver_id: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        raise PaymentDeclined("no payment provider is configured on this gateway")
