"""Fixtures for the credit tests: a real bureau simulator on loopback, a client session, a cache."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from gateway.observability.metrics import Metrics
from gateway.rails.bureau.http import HttpCreditProvider
from gateway.rails.bureau.sim.server import BureauConfig, CreditBureauSimulator
from gateway.replicas.cache_backend import build_backend
from gateway.upstream.cache import Cache

BUREAU_KEY = "test-bureau-key-0123456789"
BUREAU_SEED = 7


@pytest.fixture
async def bureau() -> AsyncIterator[CreditBureauSimulator]:
    async with CreditBureauSimulator(BureauConfig(api_key=BUREAU_KEY, seed=BUREAU_SEED)) as sim:
        yield sim


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def provider(http: aiohttp.ClientSession, bureau: CreditBureauSimulator) -> HttpCreditProvider:
    return HttpCreditProvider(http, bureau.base_url, BUREAU_KEY, timeout_s=1.0)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def cache(metrics: Metrics) -> AsyncIterator[Cache]:
    cache = Cache(build_backend("memory"), metrics)
    yield cache
    await cache.close()
