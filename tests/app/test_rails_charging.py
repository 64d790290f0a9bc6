"""Charging on the credit rails end to end: alice on Alipay pay-after-use and erin on WeChat Pay score
start postpaid (the rail authorises the cap), stop, and their bills are collected by the rails —
notified to the gateway's own endpoints and counted in the simulators' books."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import pytest

from gateway.identity.demo import seed_identities
from gateway.identity.store import IdentityStore
from gateway.rails import demo as rails_demo
from gateway.rails.bureau.demo import demo_scores
from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import AuthSettings, CreditSettings, Settings
from tests.app.conftest import HZ, Stack, poll, running_stack
from tests.app.test_charging import JWT_KEY, STOP, Driver, idle_tcec_connector

BILL = """query($id: ID!) { node(id: $id) { ... on ChargingSession { status maxCost { amount }
  bill { status total { amount } payments { method status amount { amount } providerReference } } } } }"""


@pytest.fixture
async def stack(stack_settings: Settings) -> AsyncIterator[tuple[Stack, Settings]]:
    async with (
        CreditBureauSimulator(
            BureauConfig(api_key="test-bureau-key", scores=demo_scores() | rails_demo.SCORES)
        ) as bureau,
        rails_demo.running(stack_settings) as settings,
    ):
        settings = replace(
            settings,
            auth=AuthSettings(jwt_key=JWT_KEY),
            credit=CreditSettings(bureau_url=bureau.base_url, bureau_api_key="test-bureau-key"),
        )
        async with running_stack(settings) as running:
            assert running.runtime.sessions is not None
            # As in demo mode: alice signs in as the Alipay user of her agreement, erin with her openid.
            await seed_identities(IdentityStore(running.runtime.sessions.store.database))
            yield running, settings


async def books(stack: Stack, ledger_url: str) -> dict:
    async with stack.http.get(ledger_url) as r:
        return await r.json()


@pytest.mark.parametrize(
    ("driver", "rail"), [("alice", "alipay"), ("erin", "wechatpay")], ids=["alipay", "wechatpay"]
)
async def test_a_session_on_a_credit_rail_is_authorised_completed_and_collected(
    stack: tuple[Stack, Settings], driver: str, rail: str
) -> None:
    running, settings = stack
    base = (
        settings.alipay.gateway_url.removesuffix("/gateway.do")
        if rail == "alipay"
        else settings.wechatpay.base_url
    )
    ledger_url = f"{base}/_sim/ledger"
    who = Driver(running, driver)
    connector = idle_tcec_connector(running)
    session = await who.start(qrCode=f"hlht://{connector.id}.{HZ}/", idempotencyKey=f"{driver}-1")
    assert session["__typename"] == "ChargingSession" and session["paymentMode"] == "POSTPAID", session
    orders = (await books(running, ledger_url))["orders"]
    assert len(orders) == 1  # authorised on the rail for the session's cap
    risk = orders[0]["order_amount"] if rail == "alipay" else str(Decimal(orders[0]["risk_fen"]) / 100)
    assert Decimal(risk) == Decimal(session["maxCost"]["amount"])

    await who.until(session["id"], lambda s: s["status"] == "CHARGING" and Decimal(s["energyKwh"]) > 0)
    await who.gql(STOP, {"id": session["id"]})

    async def collected():
        node = (await who.gql(BILL, {"id": session["id"]}))["node"]
        return node if node["bill"] and node["bill"]["status"] == "PAID" else None

    node = await poll(collected, timeout_s=30, interval_s=0.1)
    bill = node["bill"]
    [payment] = bill["payments"]
    assert payment["method"] == "PROVIDER" and payment["status"] == "SETTLED" and payment["providerReference"]
    ledger = await books(running, ledger_url)
    assert Decimal(ledger["collected"]) == Decimal(bill["total"]["amount"]) > 0

    async def acknowledged():
        async with running.http.get(f"{base}/_sim/notifications") as r:
            deliveries = await r.json()
        return deliveries if any(d["acknowledged"] for d in deliveries) else None

    # The collection was notified to the gateway's endpoint, verified there and acknowledged.
    assert all(
        d["url"] == f"{running.url}/payments/{rail}/notify" for d in await poll(acknowledged, timeout_s=10)
    )
    kind = "application/x-www-form-urlencoded" if rail == "alipay" else "application/json"
    forged = b"notify_id=1&trade_status=TRADE_SUCCESS" if rail == "alipay" else b'{"id":"1"}'
    async with running.http.post(
        f"{running.url}/payments/{rail}/notify", data=forged, headers={"Content-Type": kind}
    ) as r:
        assert (r.status, await r.text()) == (400, "invalid notification")
    # A rail that is not configured has no endpoint: 404, nothing applied.
    async with running.http.post(f"{running.url}/payments/paypal/notify", data=forged) as r:
        assert (r.status, await r.text()) == (404, "no such payment rail")
