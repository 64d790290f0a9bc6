"""Single-flight: identical concurrent calls share one in-flight call (as Go's ``singleflight``).

When twenty requests ask for the same uncached statuses at once, one upstream call goes out and
all twenty get its answer (or its error). The call runs as its own task, so a caller that gives up
(its request deadline) neither cancels it for the others nor leaves them waiting on nothing; the
call itself is bounded by the operator's own timeout. Within one replica only: replicas share the
answer afterwards through the cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._calls: dict[Hashable, asyncio.Task[Any]] = {}

    def __len__(self) -> int:
        """Calls in flight now."""
        return len(self._calls)

    async def do(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        """``await call()``, unless a call with the same ``key`` is in flight: then its result."""
        task = self._calls.get(key)
        if task is None:
            task = asyncio.ensure_future(call())
            self._calls[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        # shield: cancelling one waiter must not cancel the call the others wait on.
        return await asyncio.shield(task)

    def _finished(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._calls.get(key) is task:
            del self._calls[key]
        if not task.cancelled():
            task.exception()  # retrieved: a call every waiter gave up on must not log "never retrieved"
