"""The credit check around the mutations that spend money: the bureau's score plus the policy.

The billing service asks the bureau first (:meth:`CreditCheck.bureau`, outside any transaction),
then decides with :meth:`CreditCheck.decide` inside the ledger transaction that reserves the session,
from the driver's :class:`Standing` as that transaction sees it. A bureau that cannot answer is
logged and treated as "bureau down" (no postpay, prepaid still possible).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from gateway.rails.bureau.decision import Decision, PaymentMode
from gateway.rails.bureau.policy import CreditPolicy, decide, postpay_limit
from gateway.rails.bureau.provider import CreditProvider, CreditUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Standing:
    """A driver's account as the ledger sees it now."""

    wallet_balance: Decimal
    outstanding: Decimal = Decimal(0)  # unpaid bills, overdue or not
    has_overdue: bool = False
    reserved: Decimal = Decimal(0)  # caps of live postpaid sessions
    held: Decimal = Decimal(0)  # wallet holds of live prepaid sessions


@dataclass(frozen=True, slots=True)
class Bureau:
    """What the bureau said: the score (None when unknown) and whether it answered at all."""

    score: int | None
    ok: bool


class CreditCheck:
    def __init__(self, provider: CreditProvider, policy: CreditPolicy) -> None:
        self.provider = provider
        self.policy = policy

    async def evaluate(
        self, driver_id: str, standing: Standing, requested_mode: PaymentMode | None = None
    ) -> Decision:
        """How ``driver_id`` may pay for a new session. Never raises for a bureau failure."""
        return self.decide(await self.bureau(driver_id, requested_mode), standing, requested_mode)

    async def bureau(self, driver_id: str, requested_mode: PaymentMode | None = None) -> Bureau:
        if requested_mode is PaymentMode.PREPAID:
            # Prepaid does not depend on the score: do not make the driver wait for the bureau.
            return Bureau(None, True)
        return Bureau(*await self._score(driver_id))

    def decide(
        self, bureau: Bureau, standing: Standing, requested_mode: PaymentMode | None = None
    ) -> Decision:
        """The policy's decision (pure: safe inside a ledger transaction)."""
        return decide(
            bureau.score,
            bureau.ok,
            standing.has_overdue,
            standing.outstanding,
            standing.wallet_balance,
            requested_mode,
            self.policy,
            reserved=standing.reserved,
            held=standing.held,
        )

    def limit(self, bureau: Bureau) -> Decimal:
        """The most the driver may owe at once (``CreditStatus.limit``)."""
        return postpay_limit(bureau.score, bureau.ok, self.policy)

    async def _score(self, driver_id: str) -> tuple[int | None, bool]:
        try:
            answer = await self.provider.score(driver_id)
        except CreditUnavailable as exc:
            log.warning("credit bureau unavailable (%s): %s; no postpay for now", exc.reason, exc)
            return None, False
        return answer.score, True
