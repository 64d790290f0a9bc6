"""Redis connection options from ``[cache]`` settings, and the one client the replicas' duties share.

The aiocache backend keeps its own pool (it builds it itself); the fan-in, the lease, the rate
limiter and the persisted-query store share the client made by :func:`client`. Both take their
options from :func:`options`, so a URL's password (or ``cache.redis_password``) and TLS
(``rediss://``) apply to every connection.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from gateway.settings.sections import CacheSettings

DEFAULT_PORT = 6379


def retry() -> Retry:
    """One quick retry of a dropped connection. redis-py's default backs off for seconds, which a
    request (a rate-limit check, a cache read) cannot afford while Redis is down."""
    return Retry(ExponentialBackoff(cap=0.1, base=0.02), retries=1)


def options(settings: CacheSettings) -> dict[str, Any]:
    """host, port, db, username, password and ssl of ``settings.redis_url`` (checked by config)."""
    parts = urlsplit(settings.redis_url)
    db = parts.path.strip("/")
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or DEFAULT_PORT,
        "db": int(db) if db else 0,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else (settings.redis_password or None),
        "ssl": parts.scheme == "rediss",
    }


def client(settings: CacheSettings) -> aioredis.Redis:
    """A client with short timeouts; it connects on first use, in the loop that uses it."""
    return aioredis.Redis(
        **options(settings),
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        retry=retry(),
        decode_responses=False,
    )


def key(settings: CacheSettings, *parts: str) -> str:
    """A key or channel name under the deployment's prefix: ``{prefix}:{part}:{part}…``."""
    return ":".join((settings.redis_prefix, *parts))
