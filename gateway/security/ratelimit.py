"""Rate limits: a token bucket per API key (and per client IP for anonymous callers).

:class:`RateLimiter` is the plug point. :class:`TokenBucketLimiter` keeps buckets in this process,
which is right for one replica; :class:`RedisTokenBucketLimiter` does the same arithmetic in one Lua
script on Redis (atomic, on the server's clock), so replicas share the buckets. :func:`select`
picks one from the settings (``security.rate_limit_backend``).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.settings.sections import Settings

log = logging.getLogger(__name__)

WARN_EVERY_S = 10.0


@dataclass(frozen=True, slots=True)
class Limit:
    rate_per_s: float  # tokens added per second
    burst: int  # bucket size: requests allowed at once after a quiet spell


class RateLimiter(Protocol):
    async def acquire(self, bucket: str, limit: Limit, cost: float = 1.0) -> float:
        """Take ``cost`` tokens from ``bucket``. Returns 0 when allowed, else the seconds to wait
        before the same request would be (nothing is taken then)."""
        ...


class TokenBucketLimiter:
    """In-memory token buckets; ``clock`` is injectable for tests.

    At most ``max_buckets`` are kept (least recently used go first), so a flood of client
    addresses cannot grow memory; a dropped bucket was full or nearly so, since it was idle.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_buckets: int = 100_000) -> None:
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # bucket → (tokens, at)

    def __len__(self) -> int:
        return len(self._buckets)

    async def acquire(self, bucket: str, limit: Limit, cost: float = 1.0) -> float:
        return self.take(bucket, limit, cost)

    def take(self, bucket: str, limit: Limit, cost: float = 1.0) -> float:
        now = self._clock()
        tokens, at = self._buckets.pop(bucket, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - at) * limit.rate_per_s)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / limit.rate_per_s
        self._buckets[bucket] = (tokens, now)
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return wait


# KEYS[1] bucket; ARGV rate_per_s, burst, cost. A hash {tokens, at}, gone once it would be full again.
TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisTokenBucketLimiter:
    """Token buckets in Redis under ``{prefix}:ratelimit:``, shared by every replica.

    If Redis cannot answer, the request is counted against ``fallback`` (buckets in this process)
    instead: limits hold per replica rather than failing every request or none.
    """

    def __init__(self, redis: aioredis.Redis, prefix: str, *, fallback: RateLimiter | None = None) -> None:
        self._script = redis.register_script(TOKEN_BUCKET)
        self._prefix = f"{prefix}:ratelimit:"
        self._fallback = fallback if fallback is not None else TokenBucketLimiter()
        self._warned_at = -math.inf

    async def acquire(self, bucket: str, limit: Limit, cost: float = 1.0) -> float:
        try:
            args = [limit.rate_per_s, limit.burst, cost]
            wait = await self._script(keys=[self._prefix + bucket], args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            if time.monotonic() - self._warned_at > WARN_EVERY_S:  # not once per request
                self._warned_at = time.monotonic()
                log.warning("rate limits from this replica's buckets: Redis did not answer (%s)", exc)
            return await self._fallback.acquire(bucket, limit, cost)
        return float(wait)


def select(settings: Settings, redis: aioredis.Redis | None) -> RateLimiter:
    """Redis buckets when ``security.rate_limit_backend`` says redis (or auto, with the Redis cache)."""
    backend = settings.security.rate_limit_backend
    if backend == "auto":
        backend = settings.cache.backend
    if backend == "redis":
        if redis is None:
            raise ValueError("a Redis rate limiter needs a Redis client")
        return RedisTokenBucketLimiter(redis, settings.cache.redis_prefix)
    return TokenBucketLimiter()


def retry_after(wait_s: float) -> str:
    """The ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait_s)))
