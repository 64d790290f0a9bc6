"""Fan-in between replicas: station and session updates published by one are applied by the others."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

from gateway.charging.broker import SessionBroker
from gateway.replicas.pushes import InProcessFanIn, RedisFanIn, Shared
from tests.app.conftest import poll
from tests.gateway.redis.test_redis_codec import SESSION, STATION


class Replica:
    def __init__(self, fanin) -> None:
        self.fanin = fanin
        self.applied: list[Shared] = []

    async def apply(self, event: Shared) -> None:
        self.applied.append(event)


@contextlib.asynccontextmanager
async def running(*replicas: Replica):
    tasks = [asyncio.create_task(r.fanin.run(r.apply)) for r in replicas]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_redis_fanin_reaches_every_other_replica(new_client, redis_settings):
    channel = f"{redis_settings.redis_prefix}:fanin"
    a, b, c = (Replica(RedisFanIn(new_client(), channel)) for _ in range(3))
    async with running(a, b, c):
        for r in (a, b, c):
            await asyncio.wait_for(r.fanin.subscribed.wait(), 5)
        a.fanin.publish(STATION)
        a.fanin.publish(SESSION)
        await poll(lambda: _true(len(b.applied) == 2 and len(c.applied) == 2))
        assert b.applied == [STATION, SESSION] and c.applied == [STATION, SESSION]
        b.fanin.publish(replace(SESSION, version=8))
        await poll(lambda: _true(len(a.applied) == 1 and len(c.applied) == 3))
        assert a.applied[0].version == 8
    assert a.applied[0] == replace(SESSION, version=8)  # a never applied its own events again


async def test_unreadable_messages_are_ignored(new_client, redis_settings):
    channel = f"{redis_settings.redis_prefix}:fanin"
    b = Replica(RedisFanIn(new_client(), channel))
    async with running(b):
        await asyncio.wait_for(b.fanin.subscribed.wait(), 5)
        publisher = new_client()
        for junk in (
            b"junk",
            b'{"from": "x", "event": {"$": "Popen", "f": {}}}',
            b'{"from": "x"}',
            b'{"from": "x", "event": 3}',
        ):
            await publisher.publish(channel, junk)
        a = RedisFanIn(new_client(), channel)
        async with running(Replica(a)):
            a.publish(STATION)
            await poll(lambda: _true(b.applied == [STATION]))


async def test_in_process_fanin_groups_replicas_of_one_process():
    group: list = []
    a, b = Replica(InProcessFanIn(group)), Replica(InProcessFanIn(group))
    alone = Replica(InProcessFanIn())
    async with running(a, b, alone):
        a.fanin.publish(STATION)
        alone.fanin.publish(SESSION)
        await poll(lambda: _true(b.applied == [STATION]))
        await asyncio.sleep(0.05)
        assert a.applied == [] and alone.applied == []


async def test_a_session_update_reaches_a_subscriber_on_another_replica(new_client, redis_settings):
    channel = f"{redis_settings.redis_prefix}:fanin"
    fanin_a, fanin_b = RedisFanIn(new_client(), channel), RedisFanIn(new_client(), channel)
    broker_a, broker_b = SessionBroker(relay=fanin_a.publish), SessionBroker(relay=fanin_b.publish)

    async def deliver_b(event: Shared) -> None:
        broker_b.deliver(event)

    async def deliver_a(event: Shared) -> None:
        broker_a.deliver(event)

    tasks = [asyncio.create_task(fanin_a.run(deliver_a)), asyncio.create_task(fanin_b.run(deliver_b))]
    try:
        await asyncio.wait_for(fanin_b.subscribed.wait(), 5)
        async with broker_b.subscribe(SESSION.id) as updates, broker_a.subscribe(SESSION.id) as local:
            broker_a.publish(SESSION)  # a push applied on replica A
            assert await asyncio.wait_for(local.get(), 1) == SESSION
            assert await asyncio.wait_for(updates.get(), 5) == SESSION
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _true(value: bool) -> bool:
    return value
