"""Fixtures for the billing service: the ledger on SQLite and PostgreSQL (the store suite's fixtures),
the credit bureau simulator on loopback, and the demo payment provider, which keeps its own record."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from gateway.billing import BillingService
from gateway.config import LedgerSettings
from gateway.credit.check import CreditCheck
from gateway.credit.http import HttpCreditProvider
from gateway.credit.policy import CreditPolicy
from gateway.credit.simulator import BureauConfig, CreditBureauSimulator
from gateway.payments import DemoPaymentProvider
from gateway.store import Store
from tests.gateway.store.conftest import new_bill, new_session, store

__all__ = ["new_bill", "new_session", "store"]
BUREAU_KEY = "test-bureau-key-0123456789"


@pytest.fixture
async def credit() -> AsyncIterator[CreditCheck]:
    async with (
        CreditBureauSimulator(BureauConfig(api_key=BUREAU_KEY)) as bureau,
        aiohttp.ClientSession() as http,
    ):
        yield CreditCheck(
            HttpCreditProvider(http, bureau.base_url, BUREAU_KEY, timeout_s=5.0), CreditPolicy()
        )


@pytest.fixture
def provider() -> DemoPaymentProvider:
    return DemoPaymentProvider()


@pytest.fixture
def billing(store: Store, credit: CreditCheck, provider: DemoPaymentProvider) -> BillingService:
    return BillingService(store, credit, provider, LedgerSettings(), "CNY")
