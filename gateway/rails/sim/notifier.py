"""Delivery of a simulator's asynchronous notifications: retries until acknowledged, as the providers do.

Both providers retry a notification until the merchant acknowledges it (Alipay: the body
``success``; WeChat Pay: HTTP 200 or 204), on a schedule of minutes to hours. The simulator keeps
the behaviour and shortens the schedule to ``retry_delays`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (0.05, 0.2, 1.0, 3.0, 10.0)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One HTTP POST of a notification: built afresh for each attempt (new timestamp, new signature)."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Pending:
    """A notification to deliver: its id (the same on every redelivery), where, and each attempt's POST."""

    notification_id: str
    url: str
    build: Callable[[], Outgoing]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt, as the simulator's ``/_sim/notifications`` lists it."""

    notification_id: str
    url: str
    attempt: int
    acknowledged: bool


class Notifier:
    """Sends notifications through its own client session (the simulator is another service)."""

    def __init__(
        self, acknowledged: Callable[[int, bytes], bool], retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    ) -> None:
        self._acknowledged = acknowledged
        self._delays = tuple(retry_delays)
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[bool]] = set()
        self.deliveries: list[Delivery] = []

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5.0))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None

    def send(self, pending: Pending, copies: int = 1) -> None:
        """Deliver in the background, ``copies`` times (each retried until acknowledged)."""
        task = asyncio.get_running_loop().create_task(self.deliver(pending, copies))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, pending: Pending, copies: int = 1) -> bool:
        """Deliver now, ``copies`` times; whether every copy was acknowledged within the retries."""
        ok = True
        for _ in range(copies):
            ok = await self._deliver_once(pending) and ok
        return ok

    async def _deliver_once(self, pending: Pending) -> bool:
        if self._http is None:
            raise RuntimeError("notifier not started")
        for attempt, delay in enumerate((0.0, *self._delays), start=1):
            if delay:
                await asyncio.sleep(delay)
            outgoing = pending.build()
            try:
                async with self._http.post(pending.url, data=outgoing.body, headers=outgoing.headers) as resp:
                    ok = self._acknowledged(resp.status, await resp.read())
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.info(
                    "notification %s to %s failed: %s",
                    pending.notification_id,
                    pending.url,
                    type(exc).__name__,
                )
                ok = False
            self.deliveries.append(Delivery(pending.notification_id, pending.url, attempt, ok))
            if ok:
                return True
        log.warning("notification %s given up after %d attempts", pending.notification_id, attempt)
        return False
