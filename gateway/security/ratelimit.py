"""Rate limits: a token bucket per API key (and per client IP for anonymous callers).

:class:`RateLimiter` is the plug point. :class:`TokenBucketLimiter` keeps buckets in this process,
which is right for one replica; a Redis implementation of the same Protocol (one Lua script doing
the same arithmetic) lets replicas share the buckets.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


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


def retry_after(wait_s: float) -> str:
    """The ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait_s)))
