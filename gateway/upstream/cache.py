"""The shared cache: one aiocache instance built at start-up, with hit/miss metrics per kind.

Keys are ``{kind}:{operator_id}:{native_id}``. Values are domain objects (frozen dataclasses);
the in-memory backend stores them as they are, the Redis backend (``cache.backend = "redis"``,
shared by every replica) as tagged JSON (:mod:`gateway.replicas.codec`) under
``{cache.redis_prefix}:cache:``. The backend is chosen at start-up by
:func:`gateway.replicas.cache_backend.build_backend`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiocache import SimpleMemoryCache
from aiocache.base import BaseCache
from redis.exceptions import RedisError

from gateway.observability.metrics import Metrics

log = logging.getLogger(__name__)

# What a shared (Redis) backend raises when the server is away: the cache then degrades to misses.
SHARED_BACKEND_ERRORS = (RedisError, OSError, TimeoutError)
WARN_EVERY_S = 10.0


class Cache:
    def __init__(self, backend: BaseCache, metrics: Metrics) -> None:
        self.backend = backend
        self._metrics = metrics
        self._warned_at = -math.inf
        # The in-memory backend's own dict, read directly by get_many: what its multi_get reads,
        # without aiocache's per-call machinery (plugins, timeouts, key builders we do not use),
        # which cost more than the reads themselves when a search weighs hundreds of tariffs.
        # Writes go to it the same way (:meth:`_set_local`), with expiry timers per batch.
        self._memory: dict[str, Any] | None = (
            backend._cache  # noqa: SLF001
            if type(backend) is SimpleMemoryCache and backend.namespace is None and not backend.plugins
            else None
        )
        self._latest: dict[str, int] = {}  # key → the batch that wrote it last (in-memory backend)
        # Each kind's hit and miss counters, looked up once (labels() validates and locks per call).
        self._counters: dict[str, tuple[Any, Any]] = {}
        self._batches = 0

    @property
    def local(self) -> bool:
        """Whether the cache lives in this process only (the in-memory backend)."""
        return self._memory is not None

    @staticmethod
    def key(kind: str, operator_id: str, native_id: str) -> str:
        return f"{kind}:{operator_id}:{native_id}"

    async def get_many(self, kind: str, operator_id: str, ids: Sequence[str]) -> dict[str, Any]:
        """The cached values of ``ids`` that are present, keyed by id."""
        if not ids:
            return {}
        if self._memory is not None:
            get, prefix = self._memory.get, f"{kind}:{operator_id}:"
            found = {i: v for i in ids if (v := get(prefix + i)) is not None}
        else:
            try:
                values = await self.backend.multi_get([self.key(kind, operator_id, i) for i in ids])
            except SHARED_BACKEND_ERRORS as exc:  # Redis down: every key is a miss, fetched upstream
                self._unavailable("read", exc)
                values = [None] * len(ids)
            found = {i: v for i, v in zip(ids, values, strict=True) if v is not None}
        hits, misses = self._counters.get(kind) or self._counters.setdefault(
            kind, (self._metrics.cache_hits.labels(kind), self._metrics.cache_misses.labels(kind))
        )
        hits.inc(len(found))
        misses.inc(len(ids) - len(found))
        return found

    async def set_many(self, kind: str, operator_id: str, values: Mapping[str, Any], ttl: float) -> None:
        if values and self._memory is not None:
            self._set_local(f"{kind}:{operator_id}:", values, ttl)
        elif values:
            pairs = [(self.key(kind, operator_id, i), v) for i, v in values.items()]
            try:
                await self.backend.multi_set(pairs, ttl=ttl)
            except SHARED_BACKEND_ERRORS as exc:
                self._unavailable("write", exc)

    def _set_local(self, prefix: str, values: Mapping[str, Any], ttl: float) -> None:
        """What the in-memory backend's ``multi_set`` does (each value stored, gone ``ttl`` seconds
        later; no ``ttl``, kept), with one timer per batch instead of one per key: aiocache's
        costs a coroutine call, a cancelled timer and a new one per key, which for a 16-operator
        live search was more than its station list. A batch's timer removes only the keys no later
        write has taken over."""
        memory, latest, handlers = self._memory, self._latest, self.backend._handlers  # noqa: SLF001
        assert memory is not None
        self._batches += 1
        batch, expiring = self._batches, []
        for native_id, value in values.items():
            key = prefix + native_id
            memory[key] = value
            handle = handlers.pop(key, None)  # a timer of aiocache's own, from a write through it
            if handle is not None:
                handle.cancel()
            if ttl:
                latest[key] = batch
                expiring.append(key)
            else:
                latest.pop(key, None)
        if expiring:
            asyncio.get_running_loop().call_later(ttl, self._expire, expiring, batch)

    def _expire(self, keys: list[str], batch: int) -> None:
        memory, latest = self._memory, self._latest
        assert memory is not None
        for key in keys:
            if latest.get(key) == batch:
                del latest[key]
                memory.pop(key, None)

    def _unavailable(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY_S:  # not once per request while Redis is down
            self._warned_at = now
            log.warning("cache %s failed, carrying on without the cache: %r", what, exc)

    async def close(self) -> None:
        client = getattr(self.backend, "client", None)
        if client is not None and hasattr(client, "aclose"):
            # aiocache's RedisBackend.close() calls redis-py's close(), deprecated since redis 5.0.1.
            await client.aclose()
        else:
            await self.backend.close()
