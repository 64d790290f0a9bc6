"""The caching wrapper: a driver's score is reused for ``ttl_s`` (an hour by default).

It implements :class:`~gateway.rails.bureau.provider.CreditProvider` around another provider, storing
answers in the shared :class:`~gateway.upstream.cache.Cache` under kind ``credit``. "No score" (an unknown
driver) is an answer and is cached; :class:`CreditUnavailable` is not, so the next request asks the
bureau again.
"""

from __future__ import annotations

from gateway.rails.bureau.provider import CreditProvider, CreditScore
from gateway.upstream.cache import Cache

KIND = "credit"
SOURCE = "bureau"  # the cache key's "operator" part: credit-kind keys read credit:bureau:{driver_id}
DEFAULT_TTL_S = 3600.0


class CachedCreditProvider:
    def __init__(self, inner: CreditProvider, cache: Cache, ttl_s: float = DEFAULT_TTL_S) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self.inner = inner
        self._cache = cache
        self._ttl_s = ttl_s

    async def score(self, driver_id: str) -> CreditScore:
        cached: dict[str, CreditScore] = await self._cache.get_many(KIND, SOURCE, [driver_id])
        if driver_id in cached:
            return cached[driver_id]
        fresh = await self.inner.score(driver_id)  # CreditUnavailable propagates, uncached
        await self._cache.set_many(KIND, SOURCE, {driver_id: fresh}, self._ttl_s)
        return fresh

    async def forget(self, driver_id: str) -> None:
        """Drop a cached score (e.g. after the bureau told us it changed)."""
        await self._cache.backend.delete(Cache.key(KIND, SOURCE, driver_id))
