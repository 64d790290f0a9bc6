"""Fixtures for the billing service: the ledger on SQLite and PostgreSQL (the store suite's fixtures),
the credit bureau simulator on loopback, the demo card, which keeps its own books, and the credit
rails with their simulators (:mod:`tests.gateway.billing.rail_harness`, over the rail suite's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from gateway.billing import BillingService
from gateway.rails.bureau.check import CreditCheck
from gateway.rails.bureau.http import HttpCreditProvider
from gateway.rails.bureau.policy import CreditPolicy
from gateway.rails.bureau.sim.server import BureauConfig, CreditBureauSimulator
from gateway.rails.card import DemoCard
from gateway.rails.port import OrderState
from gateway.settings.load import LedgerSettings
from gateway.store import Store
from tests.gateway.billing.rail_harness import alice_agreements, ledgers, new_billing, rail
from tests.gateway.store.conftest import new_bill, new_session, store
from tests.rails.conftest import (
    alipay,
    alipay_sim,
    http,
    merchant,
    merchant_keys,
    provider_keys,
    wechat,
    wechat_sim,
)

__all__ = [
    "alice_agreements", "alipay", "alipay_sim", "http", "ledgers", "merchant", "merchant_keys", "new_bill",
    "new_billing", "new_session", "provider_keys", "rail", "store", "wechat", "wechat_sim",
]  # fmt: skip
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
def provider() -> DemoCard:
    return DemoCard()


@pytest.fixture
def billing(store: Store, credit: CreditCheck, provider: DemoCard) -> BillingService:
    return BillingService(store, credit, provider, LedgerSettings(), "CNY")


def charges(card: DemoCard) -> dict[str, Decimal]:
    """What the card really captured, by order reference (our payment ids), from its own books."""
    return {ref: o.collected for ref, o in card.books.orders.items() if o.state is OrderState.COLLECTED}
