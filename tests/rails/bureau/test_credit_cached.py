"""Scores are cached for the TTL in the shared cache; unknown drivers are cached, failures are not."""

from __future__ import annotations

import asyncio

import pytest

from gateway.rails.bureau.cached import CachedCreditProvider
from gateway.rails.bureau.http import HttpCreditProvider
from gateway.rails.bureau.provider import CreditUnavailable
from gateway.rails.bureau.sim.server import BureauConfig, BureauFaults, CreditBureauSimulator


def _counter(metrics, name: str) -> float:
    return metrics.registry.get_sample_value(f"chargegate_cache_{name}_total", {"kind": "credit"}) or 0.0


async def test_second_call_is_served_from_the_cache(provider, bureau, cache, metrics):
    cached = CachedCreditProvider(provider, cache)
    first = await cached.score("alice")
    second = await cached.score("alice")
    assert second == first and second.score == 720
    assert second.fetched_at == first.fetched_at  # the answer as it was fetched, not re-stamped
    assert bureau.calls["alice"] == 1
    assert (_counter(metrics, "hits"), _counter(metrics, "misses")) == (1, 1)


async def test_drivers_are_cached_separately(provider, bureau, cache):
    cached = CachedCreditProvider(provider, cache)
    scores = [(await cached.score(d)).score for d in ("alice", "bob", "carol", "alice", "bob")]
    assert scores == [720, 480, 520, 720, 480]
    assert dict(bureau.calls) == {"alice": 1, "bob": 1, "carol": 1}


async def test_unknown_drivers_are_cached_too(http, cache):
    async with CreditBureauSimulator(BureauConfig(api_key="k", derive_unknown=False)) as sim:
        cached = CachedCreditProvider(HttpCreditProvider(http, sim.base_url, "k"), cache)
        assert (await cached.score("nobody")).score is None
        assert (await cached.score("nobody")).score is None
        assert sim.calls["nobody"] == 1


@pytest.mark.parametrize("faults", [BureauFaults(down=True), BureauFaults(error_rate=1.0)])
async def test_failures_are_not_cached(provider, bureau, cache, faults):
    cached = CachedCreditProvider(provider, cache)
    bureau.faults = faults
    for _ in range(2):
        with pytest.raises(CreditUnavailable):
            await cached.score("alice")
    assert bureau.calls["alice"] == 2
    bureau.faults = BureauFaults()
    assert (await cached.score("alice")).score == 720
    assert (await cached.score("alice")).score == 720
    assert bureau.calls["alice"] == 3


async def test_a_cached_score_survives_an_outage(provider, bureau, cache):
    cached = CachedCreditProvider(provider, cache)
    await cached.score("alice")
    bureau.faults = BureauFaults(down=True)
    assert (await cached.score("alice")).score == 720


async def test_the_score_is_asked_again_after_the_ttl(provider, bureau, cache):
    cached = CachedCreditProvider(provider, cache, ttl_s=0.05)
    await cached.score("alice")
    bureau.set_score("alice", 610)
    async with asyncio.timeout(5):
        while (await cached.score("alice")).score != 610:
            await asyncio.sleep(0.01)
    assert bureau.calls["alice"] == 2


async def test_forget_drops_the_cached_score(provider, bureau, cache):
    cached = CachedCreditProvider(provider, cache)
    await cached.score("alice")
    bureau.set_score("alice", 777)
    await cached.forget("alice")
    assert (await cached.score("alice")).score == 777


def test_ttl_must_be_positive(provider, cache):
    with pytest.raises(ValueError, match="ttl_s"):
        CachedCreditProvider(provider, cache, ttl_s=0)
