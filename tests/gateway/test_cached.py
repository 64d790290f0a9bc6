"""The caching wrapper: tariffs fetched once and equal ones kept as one object; polled statuses bounded
by our clock once the answer is in."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from gateway.observability.metrics import Metrics
from gateway.replicas.cache_backend import build_backend
from gateway.settings.load import CacheSettings
from gateway.upstream.cache import Cache
from gateway.upstream.caching import CachedOperator
from operators.base import OperatorInfo
from operators.domain import Capability, ConnectorState, ConnectorStatus, Tariff, TariffPeriod


class Parsing:
    """Answers every connector with a freshly built tariff, as a protocol parser does."""

    info = OperatorInfo("OP", "Op", "tcec", frozenset({Capability.TARIFFS}))

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, Tariff]:
        self.calls.append(list(connector_ids))
        price = {"a": "1.0", "b": "1.0", "c": "2.0"}
        return {
            c: Tariff("CNY", (TariffPeriod(time(0), Decimal(price[c]), Decimal("0.5")),))
            for c in connector_ids
        }


async def test_equal_tariffs_become_one_object_and_are_fetched_once():
    inner = Parsing()
    op = CachedOperator(inner, Cache(build_backend("memory"), Metrics()), CacheSettings(), lambda sid: [])  # type: ignore[arg-type]
    first = await op.tariffs(["a", "b", "c"])
    assert first["a"] is first["b"] and first["a"] is not first["c"]
    again = await op.tariffs(["c", "b", "a"])
    assert inner.calls == [["a", "b", "c"]]
    assert again["a"] is first["a"] and again["c"] is first["c"]


async def test_known_tariffs_mirror_the_in_process_cache_and_expire_with_it(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("gateway.upstream.caching.time.monotonic", lambda: clock[0])
    inner = Parsing()
    cache = Cache(build_backend("memory"), Metrics())
    op = CachedOperator(inner, cache, CacheSettings(tariff_ttl_s=60), lambda sid: [])  # type: ignore[arg-type]
    assert op.known_tariffs() == {}
    await op.tariffs(["a"])
    clock[0] += 30
    await op.tariffs(["b"])
    assert set(op.known_tariffs() or {}) == {"a", "b"}
    assert op.known_tariffs() == await op.cached_tariffs(["a", "b"])
    clock[0] += 31  # a's hour is over, b's is not
    assert set(op.known_tariffs() or {}) == {"b"}
    clock[0] += 30
    assert op.known_tariffs() == {}


async def test_known_tariffs_are_refused_with_a_shared_cache():
    class Shared(Cache):
        local = False  # what the Redis backend reports

    cache = Shared(build_backend("memory"), Metrics())
    op = CachedOperator(Parsing(), cache, CacheSettings(), lambda sid: [])  # type: ignore[arg-type]
    await op.tariffs(["a"])
    assert op.known_tariffs() is None
    assert set(await op.cached_tariffs(["a", "b"])) == {"a"}


class Stamping:
    """Answers with statuses stamped on arrival of the answer, as the T/CEC adapter does."""

    info = OperatorInfo("OP", "Op", "tcec", frozenset({Capability.LIVE_STATUS}))

    async def connector_statuses(self, station_ids: Sequence[str]) -> Mapping[str, ConnectorState]:
        await asyncio.sleep(0.05)  # the upstream call
        now = datetime.now(UTC)
        return {cid: ConnectorState(cid, ConnectorStatus.AVAILABLE, now) for cid in ("c1", "c2")}


async def test_a_poll_stamped_on_arrival_keeps_its_time():
    """Bounded by our clock once the answer is in: an operator stamping its answer on arrival is
    not ahead of us, so its states are kept as they came (one time for the poll, not clamped)."""
    op = CachedOperator(
        Stamping(), Cache(build_backend("memory"), Metrics()), CacheSettings(), lambda sid: ["c1", "c2"]
    )  # type: ignore[arg-type]
    before = datetime.now(UTC)
    states = await op.connector_statuses(["S1"])
    assert states["c1"].observed_at is states["c2"].observed_at
    assert before + timedelta(seconds=0.03) <= states["c1"].observed_at <= datetime.now(UTC)
