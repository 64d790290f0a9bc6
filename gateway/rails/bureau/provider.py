"""The credit-provider port: a credit bureau that scores drivers, and its one error.

Error tree (everything a provider may raise)::

    CreditError
     └── CreditUnavailable      the bureau is down, timed out, refused our key or answered nonsense
                                (``reason``: "down" | "timeout" | "auth" | "bad_answer")

A driver the bureau has never heard of is not an error: the provider answers a
:class:`CreditScore` whose ``score`` is None ("no score"), which the policy treats like a low score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

SCORE_MIN = 300  # bureau scores lie in [SCORE_MIN, SCORE_MAX], as FICO-style scores do
SCORE_MAX = 850


@dataclass(frozen=True, slots=True)
class CreditScore:
    """A bureau's answer about one driver.

    ``score`` is None when the bureau has no record of the driver; ``fetched_at`` is when we asked
    (timezone-aware UTC), which a cached answer keeps.
    """

    driver_id: str
    score: int | None
    fetched_at: datetime


class CreditError(Exception):
    """Base of the credit provider's errors."""


class CreditUnavailable(CreditError):
    """No usable answer from the bureau. The message is safe to log and show: no keys, no bodies."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CreditProvider(Protocol):
    """Scores drivers. Implementations: :class:`~gateway.rails.bureau.http.HttpCreditProvider` (a bureau's
    HTTP API), :class:`~gateway.rails.bureau.cached.CachedCreditProvider` (wraps another provider) and
    :class:`NoCreditProvider` (no bureau configured)."""

    async def score(self, driver_id: str) -> CreditScore:
        """The driver's score; raises :class:`CreditUnavailable` when the bureau cannot answer."""
        ...


class NoCreditProvider:
    """The provider when no bureau is configured: always unavailable, so nobody gets postpay."""

    async def score(self, driver_id: str) -> CreditScore:
        raise CreditUnavailable("down", "no credit bureau is configured")
