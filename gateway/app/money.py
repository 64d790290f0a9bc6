"""Building the money side at start-up: the ledger store, the credit check, the billing service and the
session service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp

from gateway.billing import BillingService
from gateway.billing.rails import Enrolment, RailBilling
from gateway.catalogue.stations import Catalogue
from gateway.charging.service import SessionService
from gateway.identity.store import IdentityStore
from gateway.rails import setup
from gateway.rails.bureau.cached import CachedCreditProvider
from gateway.rails.bureau.check import CreditCheck
from gateway.rails.bureau.demo import demo_wallets
from gateway.rails.bureau.http import HttpCreditProvider
from gateway.rails.bureau.policy import CreditPolicy, parse_bands
from gateway.rails.bureau.provider import CreditProvider, NoCreditProvider
from gateway.rails.bureau.rail import BureauRail
from gateway.rails.port import CreditRail
from gateway.settings.load import ConfigError, CreditSettings, Settings
from gateway.store import Store, WalletEntryKind, open_store
from gateway.upstream.cache import Cache
from operators.base import Operator


def credit_policy(c: CreditSettings) -> CreditPolicy:
    try:
        return CreditPolicy(
            postpay_min_score=c.postpay_min_score,
            postpay_bands=parse_bands(c.postpay_bands),
            postpay_session_cap=Decimal(c.postpay_session_cap),
            prepaid_min_balance=Decimal(c.prepaid_min_balance),
            currency=c.currency,
        )
    except ValueError as exc:
        key = str(exc).partition(":")[0].strip()
        raise ConfigError(f"credit.{key}", str(exc)) from exc


def credit_check(settings: Settings, http: aiohttp.ClientSession, cache: Cache) -> CreditCheck:
    c = settings.credit
    provider: CreditProvider = NoCreditProvider()
    if c.bureau_url:
        inner = HttpCreditProvider(http, c.bureau_url, c.bureau_api_key, c.timeout_s)
        provider = CachedCreditProvider(inner, cache, c.score_ttl_s)
    return CreditCheck(provider, credit_policy(c))


async def seed_demo_wallets(store: Store, currency: str) -> None:
    """Demo drivers and their opening balances; idempotent across restarts (fixed references)."""
    for driver_id, amount in demo_wallets().items():
        await store.ensure_driver(driver_id, driver_id.title())
        if amount > 0:
            await store.add_wallet_entry(
                driver_id, amount, WalletEntryKind.TOPUP, f"demo-opening-{driver_id}", currency=currency
            )


def rail_billing(
    settings: Settings, http: aiohttp.ClientSession, store: Store, bureau: BureauRail | None = None
) -> RailBilling | None:
    """The credit rails the settings configure, with their enrolled drivers; None without rails.
    ``bureau`` is the bureau rail, for drivers enrolled on it (``DRIVER=bureau:DRIVER``)."""
    rails = setup.build(settings, http)
    enrolled = {
        driver: Enrolment(rail, account) for driver, (rail, account) in setup.enrolments(settings).items()
    }
    if bureau is None:  # without the card it collects on (the ledger CLI), the bureau rail is left out
        enrolled = {driver: e for driver, e in enrolled.items() if e.rail != setup.BUREAU}
    elif any(e.rail == bureau.name for e in enrolled.values()):
        rails[bureau.name] = bureau
    if not rails:
        return None
    return RailBilling(store, rails, enrolled, IdentityStore(store.database).linked_driver)


@contextlib.asynccontextmanager
async def session_service(
    settings: Settings,
    http: aiohttp.ClientSession,
    cache: Cache,
    catalogue: Catalogue,
    operators: dict[str, Operator],
    card: CreditRail,
) -> AsyncIterator[SessionService]:
    store = await open_store(settings.ledger.database_url)
    try:
        if settings.demo:
            await seed_demo_wallets(store, settings.credit.currency)
        currency = settings.credit.currency
        credit = credit_check(settings, http, cache)
        rails = rail_billing(settings, http, store, BureauRail(credit, card))
        billing = BillingService(store, credit, card, settings.ledger, currency, rails)
        service = SessionService(store, catalogue, operators, billing, settings.ledger, currency)
        try:
            yield service
        finally:
            await service.aclose()
    finally:
        await store.close()
