"""Test doubles around a credit-rail port: :class:`Intercepted` puts a function around each call
to ``complete`` (the call that makes the provider collect), and :class:`Lockstep` is one such
function, holding each replica's collection until every replica still running has reached one.

Two replicas running the retry job over the same ledger then reach the provider together for the
same bill whenever both handle it, the interleaving a race needs, without sleeps or timing: a
replica waits only for the others to arrive or to finish their job (:meth:`Lockstep.running`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TypeVar

from gateway.rails.port import CreditRail, RailEvent, RailOrder

T = TypeVar("T")
Call = Callable[[], Awaitable[RailOrder]]
Around = Callable[[Call], Awaitable[RailOrder]]


class Intercepted:
    """A :class:`~gateway.rails.port.CreditRail` whose ``complete`` goes through ``around`` (given
    the call to make, it makes it, or not, and answers or raises); everything else goes straight
    to ``rail``."""

    def __init__(self, rail: CreditRail, around: Around) -> None:
        self._rail, self._around = rail, around
        self.name, self.acknowledgement, self.identity = rail.name, rail.acknowledgement, rail.identity

    async def holder(self, account: str) -> str:
        return await self._rail.holder(account)

    async def authorise(self, reference: str, account: str, risk_amount: Decimal, subject: str) -> RailOrder:
        return await self._rail.authorise(reference, account, risk_amount, subject)

    async def complete(self, reference: str, amount: Decimal, subject: str, attempt: int = 1) -> RailOrder:
        return await self._around(lambda: self._rail.complete(reference, amount, subject, attempt))

    async def cancel(self, reference: str, reason: str) -> RailOrder:
        return await self._rail.cancel(reference, reason)

    async def refund(self, reference: str, refund_reference: str, amount: Decimal, reason: str) -> Decimal:
        return await self._rail.refund(reference, refund_reference, amount, reason)

    async def query(self, reference: str, attempt: int = 1) -> RailOrder:
        return await self._rail.query(reference, attempt)

    def notification(self, headers: Mapping[str, str], body: bytes) -> RailEvent:
        return self._rail.notification(headers, body)


class Lockstep:
    """A barrier for ``replicas`` jobs that opens whenever every job still running is waiting."""

    def __init__(self, replicas: int) -> None:
        self._running = replicas
        self._waiting = 0
        self._round = 0
        self._changed = asyncio.Condition()
        self.rounds = 0  # how many times the barrier opened with more than one replica waiting

    def around(self, rail: CreditRail) -> Intercepted:
        """``rail`` with its collections held in this lockstep."""
        return Intercepted(rail, self._in_step)

    async def running(self, job: Awaitable[T]) -> T:
        """Run one replica's job; when it ends, the others no longer wait for it."""
        try:
            return await job
        finally:
            async with self._changed:
                self._running -= 1
                if self._waiting and self._waiting >= self._running:
                    self._open()

    async def _in_step(self, call: Call) -> RailOrder:
        async with self._changed:
            this = self._round
            self._waiting += 1
            if self._waiting >= self._running:
                self._open()
            else:
                await self._changed.wait_for(lambda: self._round != this)
        return await call()

    def _open(self) -> None:
        self.rounds += self._waiting > 1
        self._waiting = 0
        self._round += 1
        self._changed.notify_all()
