"""The caching wrapper's tariffs: fetched once, and equal tariffs kept as one object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time
from decimal import Decimal

from gateway.observability.metrics import Metrics
from gateway.replicas.cache_backend import build_backend
from gateway.settings.load import CacheSettings
from gateway.upstream.cache import Cache
from gateway.upstream.caching import CachedOperator
from operators.base import OperatorInfo
from operators.domain import Capability, Tariff, TariffPeriod


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
