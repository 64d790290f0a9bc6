"""Push fan-in across replicas: what one replica learns from a push, every replica applies.

An operator pushes to one replica (whichever its ``notify_url`` or the load balancer picks). Status
pushes need nothing more: they land in the shared cache. Two kinds of event live in each replica's
memory, so they are sent to the others: station updates (the catalogue is per replica) and
session updates (the GraphQL subscription of a session may be open on another replica).

The receiving replica applies an event itself first, then :meth:`FanIn.publish` hands it on; the
others apply it in :meth:`FanIn.run`. Publishing never blocks the push that caused it: events wait
in a bounded queue (the oldest dropped when it is full, with a warning).

- :class:`InProcessFanIn`: replicas in one process (one replica in production; several in tests).
- :class:`RedisFanIn`: Redis pub/sub on ``{prefix}:fanin``, events as tagged JSON
  (:mod:`gateway.replicas.codec`). Pub/sub delivers at most once: a replica cut off from Redis misses
  what was sent meanwhile; its catalogue catches up at the next refresh and a subscriber reads the
  session from the ledger on its next update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.replicas import codec as redis_codec
from gateway.store import SessionRecord
from operators import jsoncodec
from operators.domain import Station

log = logging.getLogger(__name__)

Shared = Station | SessionRecord
Apply = Callable[[Shared], Awaitable[None]]
QUEUE_SIZE = 10_000
RECONNECT_S = (0.1, 5.0)  # first and longest pause before re-subscribing


class FanIn(Protocol):
    def publish(self, event: Shared) -> None:
        """Queue ``event`` for every other replica (this one has applied it already)."""
        ...

    async def run(self, apply: Apply) -> None:
        """Send what was published and ``apply`` what the other replicas sent, until cancelled."""
        ...


def _put(queue: asyncio.Queue[Shared], event: Shared) -> None:
    if queue.full():
        queue.get_nowait()
        log.warning("fan-in queue full: dropped the oldest event")
    queue.put_nowait(event)


class InProcessFanIn:
    """Replicas sharing a process: each member's events go to every other member of its group."""

    def __init__(self, group: list[InProcessFanIn] | None = None) -> None:
        self._group = group if group is not None else []
        self._group.append(self)
        self._inbox: asyncio.Queue[Shared] = asyncio.Queue(QUEUE_SIZE)

    def publish(self, event: Shared) -> None:
        for member in self._group:
            if member is not self:
                _put(member._inbox, event)

    async def run(self, apply: Apply) -> None:
        while True:
            await _apply(apply, await self._inbox.get())


class RedisFanIn:
    def __init__(self, redis: aioredis.Redis, channel: str, *, replica_id: str = "") -> None:
        self.channel = channel
        self.replica_id = replica_id or uuid.uuid4().hex
        self._redis = redis
        self._outbox: asyncio.Queue[Shared] = asyncio.Queue(QUEUE_SIZE)
        self.subscribed = asyncio.Event()  # set while listening (tests wait for it)

    def publish(self, event: Shared) -> None:
        _put(self._outbox, event)

    async def run(self, apply: Apply) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._send())
            group.create_task(self._listen(apply))

    async def _send(self) -> None:
        while True:
            event = await self._outbox.get()
            message = jsoncodec.dumps({"from": self.replica_id, "event": redis_codec.to_plain(event)})
            try:
                await self._redis.publish(self.channel, message)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("fan-in: could not publish a %s (%s)", type(event).__name__, exc)

    async def _listen(self, apply: Apply) -> None:
        pause = RECONNECT_S[0]
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                pause = RECONNECT_S[0]
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        await self._received(message["data"], apply)
            except (RedisError, OSError, TimeoutError) as exc:
                self.subscribed.clear()
                log.warning("fan-in: lost the subscription (%s); again in %.1f s", exc, pause)
            finally:
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    await pubsub.aclose()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_S[1])

    async def _received(self, data: bytes, apply: Apply) -> None:
        try:
            envelope = orjson.loads(data)
            if envelope.get("from") == self.replica_id:
                return  # our own event, applied when it happened
            event = redis_codec.from_plain(envelope["event"])
        except (ValueError, KeyError, AttributeError) as exc:
            log.warning("fan-in: unreadable message ignored (%s)", exc)
            return
        if not isinstance(event, Station | SessionRecord):
            log.warning("fan-in: unexpected %s ignored", type(event).__name__)
            return
        await _apply(apply, event)


async def _apply(apply: Apply, event: Shared) -> None:
    try:
        await apply(event)
    except Exception:
        log.exception("fan-in: applying a %s failed", type(event).__name__)
