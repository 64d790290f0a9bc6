"""In-process fan-out of session updates to live subscribers (one queue per subscriber).

A slow subscriber never blocks the ledger: its queue keeps only the newest state (older ones are
dropped), which is all a progress display needs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator

from gateway.store import SessionRecord


class SessionBroker:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[SessionRecord]]] = defaultdict(set)

    def publish(self, session: SessionRecord) -> None:
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
