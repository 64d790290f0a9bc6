"""The payment-provider port (cards, Alipay, WeChat Pay, …) and the demo provider behind it.

A provider charges money *outside* the wallet: top-ups, and bills paid by card. The billing service
records every payment in the ledger before calling the provider, and passes the payment's id as the
provider's idempotency key, so a retried or concurrent call is never charged twice, and a payment
left pending by a crash is resolved by asking the provider (:meth:`PaymentProvider.lookup`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class PaymentDeclined(Exception):
    """The provider refused the charge; the message is safe to show the driver."""


class PaymentProvider(Protocol):
    async def charge(self, driver_id: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        """Charge ``amount`` once per key; returns the provider's reference (the same reference for a
        repeated key). Raises :class:`PaymentDeclined`."""
        ...

    async def lookup(self, idempotency_key: str) -> str | None:
        """The reference of the charge made under ``idempotency_key``; None if there is none."""
        ...

    async def refund(self, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        """Give back ``amount`` of the charge ``reference``, once per key; the refund's reference."""
        ...


@dataclass(frozen=True, slots=True)
class Charge:
    """One charge as the demo provider records it."""

    reference: str
    driver_id: str
    amount: Decimal
    currency: str


class DemoPaymentProvider:
    """Approves every charge up to ``limit`` (a pretend card limit), declines the rest.

    It keeps its own record of charges and refunds by idempotency key, as a real provider does, so
    the same key never charges twice and tests can count what the provider did (not what we wrote).
    """

    def __init__(self, limit: Decimal = Decimal("5000")) -> None:
        self._limit = limit
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, tuple[str, Decimal]] = {}

    async def charge(self, driver_id: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        if (earlier := self.charges.get(idempotency_key)) is not None:
            return earlier.reference
        if amount > self._limit:
            raise PaymentDeclined(f"the demo card is declined above {self._limit} {currency}")
        reference = f"demo-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"
        self.charges[idempotency_key] = Charge(reference, driver_id, amount, currency)
        return reference

    async def lookup(self, idempotency_key: str) -> str | None:
        earlier = self.charges.get(idempotency_key)
        return None if earlier is None else earlier.reference

    async def refund(self, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        charged = sum((c.amount for c in self.charges.values() if c.reference == reference), Decimal(0))
        given = sum((a for r, a in self.refunds.values() if r == reference), Decimal(0))
        if idempotency_key not in self.refunds:
            if amount > charged - given:
                raise PaymentDeclined("the refund is more than what is left of the charge")
            self.refunds[idempotency_key] = (reference, amount)
        return f"demo-refund-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}"


class NoPaymentProvider:
    """Production without a configured provider: wallet payments work, card payments do not."""

    async def charge(self, driver_id: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        raise PaymentDeclined("no payment provider is configured on this gateway")

    async def lookup(self, idempotency_key: str) -> str | None:
        return None  # it never charged anything

    async def refund(self, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        raise PaymentDeclined("no payment provider is configured on this gateway")
