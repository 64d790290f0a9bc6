"""The red-team findings of the money review, end to end over GraphQL: each failed before the fix.

Parallel starts passing the limits, card payments charging before they check, idempotency keys not
bound to their input or shared across drivers, and amounts no accountant writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import AuthSettings, CreditSettings, Settings
from gateway.store import BillLineInput, BillStatus, LineKind, PaymentMode, Store, WalletEntryKind
from resolvers import ids
from tests.app.conftest import HZ, Stack, running_stack
from tests.app.test_charging import JWT_KEY, Driver
from tests.gateway.billing.conftest import charges

START = """mutation($input: StartChargingInput!) { startCharging(input: $input) { __typename
  ... on ChargingSession { id paymentMode maxCost { amount } } ... on Error { message code } } }"""
PAY = """mutation($id: ID!, $method: PaymentMethod!, $key: String) {
  payBill(input: {billId: $id, method: $method, idempotencyKey: $key}) { __typename
    ... on Bill { status payments { amount { amount } method status providerReference } }
    ... on Error { message code } ... on InvalidInput { field } } }"""
TOP_UP = """mutation($amount: Decimal!, $key: String!) {
  topUpWallet(input: {amount: $amount, idempotencyKey: $key}) { __typename
    ... on Driver { wallet { amount } } ... on Error { message code } ... on InvalidInput { field } } }"""
CREDIT = "{ me { wallet { amount } credit { limit { amount } available { amount } } } }"


@pytest.fixture
async def bureau() -> AsyncIterator[CreditBureauSimulator]:
    async with CreditBureauSimulator(BureauConfig(api_key="test-bureau-key")) as sim:
        yield sim


@pytest.fixture
async def stack(stack_settings: Settings, bureau: CreditBureauSimulator) -> AsyncIterator[Stack]:
    settings = replace(
        stack_settings,
        auth=AuthSettings(jwt_key=JWT_KEY),
        credit=CreditSettings(bureau_url=bureau.base_url, bureau_api_key="test-bureau-key"),
    )
    async with running_stack(settings) as running:
        # carol's demo wallet (the stack runs in dev mode, which seeds nothing)
        store: Store = running.runtime.sessions.store
        await store.add_wallet_entry("carol", Decimal("200"), WalletEntryKind.TOPUP, "test-opening-carol")
        yield running


def idle_qr_codes(stack: Stack, count: int) -> list[str]:
    idle = [c for c in stack.sims[HZ].network.by_connector.values() if c.status == 1 and c.is_dc]
    assert len(idle) >= count
    return [f"hlht://{c.id}.{HZ}/" for c in idle[:count]]


async def start_in_parallel(driver: Driver, count: int, prefix: str) -> list[dict]:
    qr_codes = idle_qr_codes(driver.stack, count)
    results = await asyncio.gather(
        *(
            driver.gql(START, {"input": {"qrCode": qr, "idempotencyKey": f"{prefix}-{i}"}})
            for i, qr in enumerate(qr_codes)
        )
    )
    return [r["startCharging"] for r in results]


def promised(sessions: list[dict]) -> Decimal:
    return sum(
        (Decimal(s["maxCost"]["amount"]) for s in sessions if s["__typename"] == "ChargingSession"),
        Decimal(0),
    )


async def test_carols_parallel_prepaid_starts_never_promise_more_than_her_wallet(stack: Stack):
    carol = Driver(stack, "carol")
    sessions = await start_in_parallel(carol, 3, "carol")
    assert any(s["__typename"] == "ChargingSession" for s in sessions), sessions
    assert promised(sessions) <= Decimal("200"), sessions
    for s in sessions:
        assert s["__typename"] in ("ChargingSession", "CreditDenied"), s


async def test_alices_parallel_postpaid_starts_never_pass_her_limit(stack: Stack):
    alice = Driver(stack, "alice")
    before = (await alice.gql(CREDIT))["me"]["credit"]
    assert before == {"limit": {"amount": "500.00"}, "available": {"amount": "300.00"}}
    sessions = await start_in_parallel(alice, 4, "alice")
    assert promised(sessions) <= Decimal("500"), sessions
    after = (await alice.gql(CREDIT))["me"]["credit"]
    left = max(Decimal(0), min(Decimal(300), 500 - promised(sessions)))
    assert Decimal(after["available"]["amount"]) == left


async def make_bill(stack: Stack, driver_id: str, total: str, status: BillStatus = BillStatus.UNPAID) -> str:
    """A bill for a finished session of ``driver_id`` (the ledger as the session service leaves it)."""
    store: Store = stack.runtime.sessions.store
    session, _ = await store.create_session(
        driver_id=driver_id, idempotency_key=f"bill-{driver_id}-{total}-{status.value}",
        operator_id=HZ, connector_id="C1", payment_mode=PaymentMode.POSTPAID, currency="CNY",
    )  # fmt: skip
    line = BillLineInput(LineKind.ENERGY, Decimal(total), "Electricity")
    due = datetime.now(UTC) + timedelta(days=7)
    bill, _ = await store.create_bill(session.id, driver_id, "CNY", [line], Decimal(total), None, status, due)
    return ids.encode("Bill", bill.id)


def provider_charges(stack: Stack) -> int:
    return len(charges(stack.runtime.card))  # type: ignore[arg-type]


async def test_a_disputed_bill_never_reaches_the_card(stack: Stack):
    alice = Driver(stack, "alice")
    bill_id = await make_bill(stack, "alice", "12.40", BillStatus.DISPUTED)
    for key in ("d-1", "d-2"):
        answer = (await alice.gql(PAY, {"id": bill_id, "method": "PROVIDER", "key": key}))["payBill"]
        assert answer["__typename"] == "InvalidInput" and answer["field"] == "billId", answer
    assert provider_charges(stack) == 0


async def test_concurrent_card_payments_of_one_bill_charge_the_card_once(stack: Stack):
    alice = Driver(stack, "alice")
    bill_id = await make_bill(stack, "alice", "33.10")
    answers = await asyncio.gather(
        *(alice.gql(PAY, {"id": bill_id, "method": "PROVIDER", "key": f"c-{i}"}) for i in range(3))
    )
    assert provider_charges(stack) == 1
    final = (await alice.gql(PAY, {"id": bill_id, "method": "PROVIDER", "key": "c-0"}))["payBill"]
    assert final["status"] == "PAID", answers
    assert [p["status"] for p in final["payments"]] == ["SETTLED"]
    assert final["payments"][0]["amount"]["amount"] == "33.10" and final["payments"][0]["providerReference"]


async def test_a_top_up_key_is_bound_to_its_amount(stack: Stack):
    carol = Driver(stack, "carol")
    first = (await carol.gql(TOP_UP, {"amount": "10", "key": "K"}))["topUpWallet"]
    assert first == {"__typename": "Driver", "wallet": {"amount": "210.00"}}
    again = (await carol.gql(TOP_UP, {"amount": "10", "key": "K"}))["topUpWallet"]
    assert again == first
    other = (await carol.gql(TOP_UP, {"amount": "500", "key": "K"}))["topUpWallet"]
    assert other["__typename"] == "IdempotencyConflict" and other["code"] == "IDEMPOTENCY_CONFLICT", other
    assert provider_charges(stack) == 1
    assert (await carol.gql(CREDIT))["me"]["wallet"] == {"amount": "210.00"}


async def test_one_drivers_payment_key_does_not_touch_anothers(stack: Stack):
    alice, dave = Driver(stack, "alice"), Driver(stack, "dave")
    alices, daves = await make_bill(stack, "alice", "5.00"), await make_bill(stack, "dave", "6.00")
    paid = (await alice.gql(PAY, {"id": alices, "method": "PROVIDER", "key": "same"}))["payBill"]
    assert paid["status"] == "PAID"
    also = (await dave.gql(PAY, {"id": daves, "method": "PROVIDER", "key": "same"}))["payBill"]
    assert also["__typename"] == "Bill" and also["status"] == "PAID", also
    assert provider_charges(stack) == 2


@pytest.mark.parametrize("amount", ["١٢٣", "1_000", "1e3", " 5", "5.", "0", "-5", "10.001", "100000"])
async def test_amounts_no_accountant_writes_are_refused(stack: Stack, amount: str):
    carol = Driver(stack, "carol")
    answer = (await carol.gql(TOP_UP, {"amount": amount, "key": f"a-{amount}"}))["topUpWallet"]
    assert answer["__typename"] == "InvalidInput" and answer["field"] == "amount", answer
    assert provider_charges(stack) == 0
    assert (await carol.gql(CREDIT))["me"]["wallet"] == {"amount": "200.00"}
