"""The Redis lease: one holder at a time, renewals that outlive a slow duty, takeover after a crash."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from gateway.replicas.lease import LocalLease, RedisLease, while_held
from tests.app.conftest import poll

TTL_S = 0.6


@pytest.fixture
def key(redis_settings) -> str:
    return f"{redis_settings.redis_prefix}:lease:sessions"


class Duty:
    """A leased duty that records how many times it ran and whether it is running now."""

    def __init__(self, step_s: float = 0.01) -> None:
        self.running = False
        self.starts = 0
        self.step_s = step_s

    async def __call__(self) -> None:
        self.starts += 1
        self.running = True
        try:
            while True:
                await asyncio.sleep(self.step_s)  # a slow duty: one step may outlast the TTL
        finally:
            self.running = False


@contextlib.asynccontextmanager
async def replica(lease, duty):
    task = asyncio.create_task(while_held(lease, duty, check_s=0.02))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_one_holder_whose_slow_duty_keeps_the_lease(new_client, key):
    a = RedisLease(new_client(), key, TTL_S, owner="a")
    b = RedisLease(new_client(), key, TTL_S, owner="b")
    slow_a, slow_b = Duty(step_s=5 * TTL_S), Duty(step_s=5 * TTL_S)
    async with replica(a, slow_a):
        await poll(lambda: _true(slow_a.running))
        async with replica(b, slow_b):
            for _ in range(int(4 * TTL_S / 0.05)):  # four TTLs: renewals must keep going meanwhile
                assert slow_a.running and not slow_b.running
                assert a.held() and not b.held()
                await asyncio.sleep(0.05)
            assert slow_a.starts == 1 and slow_b.starts == 0
            holder = await new_client().get(key)
            assert holder == a.token.encode()


async def test_a_crashed_holder_expires_and_another_replica_takes_over(new_client, key):
    crashed = RedisLease(new_client(), key, TTL_S, owner="crashed")
    assert await crashed.step()  # took it, then never renews nor releases (killed)
    survivor = RedisLease(new_client(), key, TTL_S, owner="survivor")
    duty = Duty()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    async with replica(survivor, duty):
        await asyncio.sleep(TTL_S / 2)
        assert not duty.running  # not before the dead holder's key expires
        await poll(lambda: _true(duty.running), timeout_s=5 * TTL_S)
    assert loop.time() - t0 >= TTL_S * 0.9


async def test_shutdown_releases_so_the_next_replica_need_not_wait(new_client, key):
    a = RedisLease(new_client(), key, 30.0, owner="a")  # a long TTL: only the release frees it
    async with replica(a, Duty()):
        await poll(lambda: _true(a.held()))
    assert await new_client().get(key) is None
    b = RedisLease(new_client(), key, 30.0, owner="b")
    assert await b.step()


async def test_a_lease_lost_to_another_replica_cancels_the_duty(new_client, key):
    redis = new_client()
    a = RedisLease(redis, key, TTL_S, owner="a")
    duty = Duty()
    async with replica(a, duty):
        await poll(lambda: _true(duty.running))
        await redis.set(key, "someone-else", px=60_000)  # e.g. ours expired during a long pause
        await poll(lambda: _true(not duty.running), timeout_s=3 * TTL_S)
        assert not a.held()
        await redis.delete(key)  # free again: we take it back and restart the duty
        await poll(lambda: _true(duty.running and duty.starts == 2), timeout_s=3 * TTL_S)


async def test_unreachable_redis_means_not_held(redis_settings):
    from dataclasses import replace

    from gateway.replicas import redis as redis_conn

    dead = redis_conn.client(replace(redis_settings, redis_url="redis://127.0.0.1:1/0", redis_timeout_s=0.2))
    try:
        lease = RedisLease(dead, "x:lease", TTL_S)
        assert not await lease.step()
        assert not lease.held()
    finally:
        await dead.aclose()


async def test_the_local_lease_is_always_held():
    duty = Duty()
    async with replica(LocalLease("sessions"), duty):
        await poll(lambda: _true(duty.running))


async def _true(value: bool) -> bool:
    return value
