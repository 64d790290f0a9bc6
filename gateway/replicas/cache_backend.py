"""The cache's backend: in this process's memory, or in Redis shared by every replica."""

from __future__ import annotations

from aiocache import RedisCache, SimpleMemoryCache
from aiocache.base import BaseCache

from gateway.replicas import redis as redis_conn
from gateway.replicas.codec import DomainSerializer
from gateway.settings.sections import CacheSettings


def build_backend(backend: str, settings: CacheSettings | None = None) -> BaseCache:
    """The aiocache instance for ``backend``; Redis takes its URL and options from ``settings``."""
    if backend == "memory":
        # timeout=None: no asyncio.wait_for around in-process dict operations.
        return SimpleMemoryCache(timeout=None)
    if backend == "redis" and settings is not None:
        opts = redis_conn.options(settings)
        return RedisCache(
            serializer=DomainSerializer(),
            namespace=redis_conn.key(settings, "cache"),
            timeout=settings.redis_timeout_s,
            endpoint=opts["host"],
            port=opts["port"],
            db=opts["db"],
            password=opts["password"],
            ssl=opts["ssl"],
            create_connection_timeout=settings.redis_timeout_s,
            connection_pool_kwargs={
                "username": opts["username"],
                "socket_timeout": settings.redis_timeout_s,
                "retry": redis_conn.retry(),
            },
        )
    raise ValueError(f"unknown cache backend {backend!r}")
