"""The shared cache's in-process writes: stored at once, each batch expiring what it last wrote."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from gateway.observability.metrics import Metrics
from gateway.replicas.cache_backend import build_backend
from gateway.upstream.cache import Cache


class Timers:
    """Stands in for the event loop's ``call_later``: the test decides when each timer fires."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] = []

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        self.pending.append((delay, callback, args))

    def fire(self, index: int) -> None:
        _, callback, args = self.pending[index]
        callback(*args)


@pytest.fixture
async def timers(monkeypatch: pytest.MonkeyPatch) -> Timers:
    """The running loop's timers, held until fired (the loop's other work is untouched)."""
    fake = Timers()
    monkeypatch.setattr(asyncio.get_running_loop(), "call_later", fake.call_later)
    return fake


async def test_values_expire_with_their_batch_unless_written_again(timers: Timers):
    cache = Cache(build_backend("memory"), Metrics())
    assert cache.local
    await cache.set_many("status", "OP", {"a": 1, "b": 2}, ttl=15)
    assert await cache.get_many("status", "OP", ["a", "b", "c"]) == {"a": 1, "b": 2}
    await cache.set_many("status", "OP", {"b": 3}, ttl=300)  # b written again, for longer
    assert [delay for delay, _, _ in timers.pending] == [15, 300]
    timers.fire(0)  # the first batch's time is up: a goes, b stays with its later write
    assert await cache.get_many("status", "OP", ["a", "b"]) == {"b": 3}
    timers.fire(1)
    assert await cache.get_many("status", "OP", ["a", "b"]) == {}


async def test_a_value_without_ttl_stays_and_outlives_an_earlier_batch(timers: Timers):
    cache = Cache(build_backend("memory"), Metrics())
    await cache.set_many("tariff", "OP", {"a": 1}, ttl=60)
    await cache.set_many("tariff", "OP", {"a": 2}, ttl=0)
    timers.fire(0)
    assert len(timers.pending) == 1
    assert await cache.get_many("tariff", "OP", ["a"]) == {"a": 2}


async def test_a_write_replaces_a_timer_aiocache_set(monkeypatch: pytest.MonkeyPatch):
    cache = Cache(build_backend("memory"), Metrics())
    await cache.backend.set("status:OP:a", 1, ttl=3600)  # through aiocache: its own timer
    handle = cache.backend._handlers["status:OP:a"]  # type: ignore[attr-defined]
    timers = Timers()
    monkeypatch.setattr(asyncio.get_running_loop(), "call_later", timers.call_later)
    await cache.set_many("status", "OP", {"a": 2}, ttl=15)
    assert handle.cancelled() and "status:OP:a" not in cache.backend._handlers  # type: ignore[attr-defined]
    timers.fire(0)
    assert await cache.get_many("status", "OP", ["a"]) == {}
