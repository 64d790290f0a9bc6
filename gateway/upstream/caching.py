"""The caching wrapper: statuses for seconds, tariffs for an hour, pushes trusted while fresh.

Status is cached per connector so that a push (one connector) and a poll (whole stations) land in
the same place: a station is served from cache only when every one of its connectors is cached;
otherwise the whole station is fetched once and its connectors are cached. Pushed statuses are
written by :meth:`CachedOperator.record_push` with their own, longer TTL; with the Redis backend every
replica reads them, so a push received by one replica is seen by all.

Identical concurrent misses (same operator, method and ids) share one upstream call
(:mod:`gateway.upstream.singleflight`), so a burst of requests for the same uncached stations costs the
operator one call.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from gateway.clock import bounded_state, utc_now
from gateway.settings.sections import CacheSettings
from gateway.upstream.cache import Cache
from gateway.upstream.singleflight import SingleFlight
from gateway.upstream.wrapping import WrappedOperator
from operators.base import Operator
from operators.domain import ConnectorState, Tariff

STATUS = "status"
TARIFF = "tariff"
MAX_INTERNED = 10_000  # distinct tariffs kept for interning (per operator)


async def _passthrough(method: str, call: Callable[[], Awaitable[Any]]) -> Any:
    """Every method this wrapper does not cache goes straight to the wrapped operator."""
    return await call()


class CachedOperator(WrappedOperator):
    def __init__(
        self,
        inner: Operator,
        cache: Cache,
        settings: CacheSettings,
        connectors_of: Callable[[str], Sequence[str]],
    ) -> None:
        super().__init__(inner, _passthrough)
        self._cache = cache
        self._settings = settings
        self._connectors_of = connectors_of
        self._id = inner.info.id
        self._flight = SingleFlight()
        self._tariffs: dict[Tariff, Tariff] = {}
        # With the in-process cache, the tariffs it holds are also kept here by connector id, with
        # the same expiry, for ordered search to read without a cache call per connector
        # (:meth:`known_tariffs`). Never with a shared cache: there another replica may have
        # cached a newer tariff, and the fields would show that one.
        self._known: dict[str, Tariff] | None = {} if cache.local else None
        self._known_batch: dict[str, int] = {}
        self._expiries: deque[tuple[float, int, list[str]]] = deque()
        self._batches = 0

    async def connector_statuses(self, station_ids: Sequence[str]) -> Mapping[str, ConnectorState]:
        wanted = {sid: self._connectors_of(sid) for sid in station_ids}
        all_connectors = [c for cids in wanted.values() for c in cids]
        cached: dict[str, ConnectorState] = await self._cache.get_many(STATUS, self._id, all_connectors)
        missing = [sid for sid, cids in wanted.items() if not cids or any(c not in cached for c in cids)]
        if not missing:
            return cached
        missing.sort()  # the same stations in another order are the same call
        fetched = await self._flight.do(
            ("connector_statuses", *missing), lambda: self._fetch_statuses(missing, cached)
        )
        return {**cached, **fetched}

    async def _fetch_statuses(
        self, station_ids: list[str], cached: Mapping[str, ConnectorState]
    ) -> dict[str, ConnectorState]:
        polled = await self.inner.connector_statuses(station_ids)
        # Bounded by our clock once the answer is in: an operator that stamps its answer on
        # arrival is not "ahead" of a clock read before the call (each state would be copied).
        now = utc_now()
        fresh = {cid: bounded_state(s, now) for cid, s in polled.items()}
        # A pushed status newer than what the poll saw wins: keep it rather than overwrite.
        fetched = {
            cid: state
            for cid, state in fresh.items()
            if cid not in cached or cached[cid].observed_at <= state.observed_at
        }
        await self._cache.set_many(STATUS, self._id, fetched, self._settings.status_ttl_s)
        return fetched

    async def cached_tariffs(self, connector_ids: Sequence[str]) -> dict[str, Tariff]:
        """The tariffs of ``connector_ids`` that the cache holds now, without asking the operator."""
        return await self._cache.get_many(TARIFF, self._id, connector_ids)

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, Tariff]:
        cached = await self.cached_tariffs(connector_ids)
        missing = [cid for cid in connector_ids if cid not in cached]
        if not missing:
            return cached
        missing.sort()
        fresh = await self._flight.do(("tariffs", *missing), lambda: self._fetch_tariffs(missing))
        return {**cached, **fresh}

    async def _fetch_tariffs(self, connector_ids: list[str]) -> Mapping[str, Tariff]:
        fresh = {
            cid: self._intern(tariff) for cid, tariff in (await self.inner.tariffs(connector_ids)).items()
        }
        ttl = self._settings.tariff_ttl_s
        await self._cache.set_many(TARIFF, self._id, fresh, ttl)
        if self._known is not None and fresh and ttl > 0:
            self._batches += 1
            self._expiries.append((time.monotonic() + ttl, self._batches, list(fresh)))
            self._known.update(fresh)
            self._known_batch.update(dict.fromkeys(fresh, self._batches))
        return fresh

    def known_tariffs(self) -> Mapping[str, Tariff] | None:
        """The tariffs the in-process cache holds now, by connector id (a read-only view: entries
        leave when they expire from the cache); ``None`` with a shared cache, which must be read
        through :meth:`cached_tariffs`."""
        known = self._known
        if known is None:
            return None
        now, expiries, batch_of = time.monotonic(), self._expiries, self._known_batch
        while expiries and expiries[0][0] <= now:
            _, batch, cids = expiries.popleft()
            for cid in cids:
                if batch_of.get(cid) == batch:  # not fetched again since
                    del known[cid], batch_of[cid]
        return known

    def _intern(self, tariff: Tariff) -> Tariff:
        """One object per distinct tariff: operators price thousands of connectors with a handful
        of tariffs, and search prepares each tariff object once (:mod:`gateway.catalogue.pricing`)."""
        if len(self._tariffs) >= MAX_INTERNED:
            self._tariffs.clear()
        return self._tariffs.setdefault(tariff, tariff)

    async def record_push(self, state: ConnectorState) -> None:
        await self._cache.set_many(
            STATUS,
            self._id,
            {state.connector_id: bounded_state(state, utc_now())},
            self._settings.status_push_ttl_s,
        )
