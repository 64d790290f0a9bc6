"""In-process fan-out of session updates to live subscribers (one queue per subscriber).

A slow subscriber never blocks the ledger: its queue keeps only the newest state (older ones are
dropped), which is all a progress display needs. With several replicas, :attr:`SessionBroker.relay`
hands every update on to the others (:mod:`gateway.replicas.pushes`), which :meth:`~SessionBroker.deliver` it
to their own subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

from gateway.store import SessionRecord


class SessionBroker:
    def __init__(self, relay: Callable[[SessionRecord], None] | None = None) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[SessionRecord]]] = defaultdict(set)
        self.relay = relay  # to the other replicas; must not block

    def publish(self, session: SessionRecord) -> None:
        """A change made here: to this replica's subscribers and the other replicas."""
        self.deliver(session)
        if self.relay is not None:
            self.relay(session)

    def deliver(self, session: SessionRecord) -> None:
        """A change, made here or by another replica, to this replica's subscribers."""
        for queue in self._subscribers.get(session.id, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(session)

    @contextlib.asynccontextmanager
    async def subscribe(self, session_id: str) -> AsyncIterator[asyncio.Queue[SessionRecord]]:
        queue: asyncio.Queue[SessionRecord] = asyncio.Queue(maxsize=1)
        self._subscribers[session_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[session_id].discard(queue)
            if not self._subscribers[session_id]:
                del self._subscribers[session_id]
