"""Fixtures for the Redis suite: the suite-wide real server (:mod:`tests.servers`), a fresh key prefix
per test (so tests never see each other's keys), and clients to it, as separate replicas would have."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from gateway.replicas import redis as redis_conn
from gateway.settings.load import CacheSettings

Clients = Callable[[], aioredis.Redis]


@pytest.fixture
def redis_settings(redis_server_url: str) -> CacheSettings:
    return CacheSettings(
        backend="redis", redis_url=redis_server_url, redis_prefix=f"test-{uuid.uuid4().hex[:12]}"
    )


@pytest.fixture
async def new_client(redis_settings: CacheSettings) -> AsyncIterator[Clients]:
    """Make clients (one per simulated replica); all closed, and the test's keys deleted, at the end."""
    made: list[aioredis.Redis] = []

    def make() -> aioredis.Redis:
        made.append(redis_conn.client(redis_settings))
        return made[-1]

    yield make
    admin = redis_conn.client(redis_settings)
    try:
        keys = [key async for key in admin.scan_iter(match=f"{redis_settings.redis_prefix}:*")]
        if keys:
            await admin.delete(*keys)
    finally:
        await admin.aclose()
        for client in made:
            await client.aclose()


@pytest.fixture
async def redis(new_client: Clients) -> aioredis.Redis:
    return new_client()
