"""The generic credit bureau behind the credit-rail port (:class:`BureauRail`).

A bureau scores drivers; it does not move money. On this rail the bureau decides at authorisation
(the driver's score must give a postpay limit that covers the risk amount, the session's cap, under
the deployment's credit policy) and a collector rail (the card) holds the risk amount and, on
completion, captures the final amount. Cancel, refund, query and notifications are the collector's.
An account on this rail is the driver id (the bureau's key, and the card's account).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from gateway.rails.bureau.check import CreditCheck
from gateway.rails.port import CreditRail, RailDeclined, RailEvent, RailOrder, RailUnavailable


class BureauRail:
    name = "bureau"
    identity = ""  # the account is the driver id itself

    def __init__(self, check: CreditCheck, collector: CreditRail) -> None:
        self._check = check
        self._collector = collector
        self.acknowledgement = collector.acknowledgement

    async def holder(self, account: str) -> str:
        return account

    async def authorise(self, reference: str, account: str, risk_amount: Decimal, subject: str) -> RailOrder:
        """The bureau's yes (score, band limit ≥ ``risk_amount``), then the collector's hold."""
        bureau = await self._check.bureau(account)
        if not bureau.ok:
            raise RailUnavailable("down", "the credit bureau did not answer")
        if bureau.score is None:
            raise RailDeclined("the credit bureau has no record of this driver")
        if self._check.limit(bureau) < risk_amount:
            raise RailDeclined(f"a score of {bureau.score} does not cover {risk_amount} on credit")
        return await self._collector.authorise(reference, account, risk_amount, subject)

    async def complete(self, reference: str, amount: Decimal, subject: str, attempt: int = 1) -> RailOrder:
        return await self._collector.complete(reference, amount, subject, attempt)

    async def cancel(self, reference: str, reason: str) -> RailOrder:
        return await self._collector.cancel(reference, reason)

    async def refund(self, reference: str, refund_reference: str, amount: Decimal, reason: str) -> Decimal:
        return await self._collector.refund(reference, refund_reference, amount, reason)

    async def query(self, reference: str, attempt: int = 1) -> RailOrder:
        return await self._collector.query(reference, attempt)

    def notification(self, headers: Mapping[str, str], body: bytes) -> RailEvent:
        return self._collector.notification(headers, body)
