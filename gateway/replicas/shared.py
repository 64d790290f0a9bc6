"""What gateway replicas share, built once at start-up from the settings (docs/deployment.md).

With ``cache.backend = "memory"`` there is one replica: fan-in stays in the process and the lease is
always held. With ``"redis"`` the replicas share one Redis client for the fan-in
(:mod:`gateway.replicas.pushes`), the reconciliation lease (:mod:`gateway.replicas.lease`), the adapters'
shared state
(:mod:`gateway.replicas.state`: OCPI credentials and pushed objects, the T/CEC replay cache; without
Redis they are kept in the ledger database) and, unless
``security.rate_limit_backend`` says otherwise, the rate limits; the cache has its own pool
(:func:`gateway.replicas.cache_backend.build_backend`).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from prometheus_client import Gauge

from gateway.observability.metrics import Metrics
from gateway.replicas import redis as redis_conn
from gateway.replicas.lease import Lease, LocalLease, RedisLease
from gateway.replicas.pushes import FanIn, InProcessFanIn, RedisFanIn
from gateway.replicas.state import RedisState
from gateway.security import ratelimit
from gateway.settings.sections import Settings
from operators.base import SharedState

SESSIONS_LEASE = "sessions"  # reconciliation and the overdue sweep


def replica_id() -> str:
    """Who this process is, in lease tokens and logs: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Replicas:
    settings: Settings
    redis: aioredis.Redis | None = None
    id: str = field(default_factory=replica_id)
    fanin: FanIn = field(default_factory=InProcessFanIn)
    sessions_lease: Lease = field(default_factory=lambda: LocalLease(SESSIONS_LEASE))
    limiter: ratelimit.RateLimiter = field(default_factory=ratelimit.TokenBucketLimiter)
    state: SharedState | None = None  # what adapters share (OCPI, replay cache); None: the ledger's

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def build(settings: Settings) -> Replicas:
    """The shared parts for ``settings``; the Redis client connects on first use."""
    c = settings.cache
    wants_redis = c.backend == "redis" or settings.security.rate_limit_backend == "redis"
    replicas = Replicas(settings, redis_conn.client(c) if wants_redis else None)
    if c.backend == "redis" and replicas.redis is not None:
        replicas.fanin = RedisFanIn(replicas.redis, redis_conn.key(c, "fanin"), replica_id=replicas.id)
        replicas.sessions_lease = RedisLease(
            replicas.redis,
            redis_conn.key(c, "lease", SESSIONS_LEASE),
            c.redis_lease_ttl_s,
            name=SESSIONS_LEASE,
            owner=replicas.id,
        )
        replicas.state = RedisState(replicas.redis, redis_conn.key(c, "operators"))
    replicas.limiter = ratelimit.select(settings, replicas.redis)
    return replicas


def lease_gauge(metrics: Metrics) -> Gauge:
    return Gauge(
        "chargegate_lease_held",
        "1 while this replica holds the lease and runs its duties",
        ["lease"],
        registry=metrics.registry,
    )
