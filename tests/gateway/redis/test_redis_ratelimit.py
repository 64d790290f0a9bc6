"""The Redis token bucket: the same arithmetic as the in-memory one, one budget for every replica."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from gateway.replicas import redis as redis_conn
from gateway.security.ratelimit import (
    Limit,
    RedisTokenBucketLimiter,
    TokenBucketLimiter,
    select,
)
from gateway.settings.load import Settings


async def test_two_replicas_share_one_budget(new_client, redis_settings):
    a = RedisTokenBucketLimiter(new_client(), redis_settings.redis_prefix)
    b = RedisTokenBucketLimiter(new_client(), redis_settings.redis_prefix)
    limit = Limit(rate_per_s=0.5, burst=6)
    waits = [await (a if i % 2 else b).acquire("key:fleet-1", limit) for i in range(6)]
    assert waits == [0.0] * 6
    refused_a = await a.acquire("key:fleet-1", limit)
    refused_b = await b.acquire("key:fleet-1", limit)
    assert 0 < refused_a <= 2.0 and 0 < refused_b <= 2.0  # one token every 2 s
    assert await a.acquire("key:fleet-2", limit) == 0.0  # buckets are per key


async def test_tokens_come_back_at_the_rate(new_client, redis_settings):
    limiter = RedisTokenBucketLimiter(new_client(), redis_settings.redis_prefix)
    limit = Limit(rate_per_s=20, burst=2)
    assert [await limiter.acquire("ip:1", limit) for _ in range(2)] == [0.0, 0.0]
    wait = await limiter.acquire("ip:1", limit)
    assert 0 < wait <= 0.05
    await asyncio.sleep(0.12)  # two more tokens
    assert await limiter.acquire("ip:1", limit) == 0.0


async def test_a_cost_over_the_balance_takes_nothing(new_client, redis_settings):
    limiter = RedisTokenBucketLimiter(new_client(), redis_settings.redis_prefix)
    limit = Limit(rate_per_s=1, burst=5)
    assert await limiter.acquire("k", limit, cost=4) == 0.0
    assert await limiter.acquire("k", limit, cost=3) == pytest.approx(2.0, abs=0.1)
    assert await limiter.acquire("k", limit, cost=1) == 0.0  # the refused call took nothing


async def test_idle_buckets_expire(new_client, redis_settings):
    redis = new_client()
    limiter = RedisTokenBucketLimiter(redis, redis_settings.redis_prefix)
    await limiter.acquire("idle", Limit(rate_per_s=100, burst=10))
    ttl_ms = await redis.pttl(f"{redis_settings.redis_prefix}:ratelimit:idle")
    assert 0 < ttl_ms <= 1_100  # full again after 0.1 s, plus a second of slack


async def test_redis_down_falls_back_to_this_replicas_buckets(redis_settings):
    dead = redis_conn.client(replace(redis_settings, redis_url="redis://127.0.0.1:1/0", redis_timeout_s=0.2))
    try:
        fallback = TokenBucketLimiter()
        limiter = RedisTokenBucketLimiter(dead, "x", fallback=fallback)
        limit = Limit(rate_per_s=0.1, burst=1)
        assert await limiter.acquire("k", limit) == 0.0
        assert await limiter.acquire("k", limit) > 0
        assert len(fallback) == 1
    finally:
        await dead.aclose()


def test_selection_follows_the_settings(redis_settings):
    memory = Settings()
    assert isinstance(select(memory, None), TokenBucketLimiter)
    shared = Settings(cache=redis_settings)
    client = redis_conn.client(redis_settings)  # never used: connects lazily
    assert isinstance(select(shared, client), RedisTokenBucketLimiter)
    own = replace(shared, security=replace(shared.security, rate_limit_backend="memory"))
    assert isinstance(select(own, client), TokenBucketLimiter)
