"""Caps hold: the gateway stops a session before its next progress report could pass its cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import pytest

from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import AuthSettings, CreditSettings, Settings
from gateway.store import WalletEntryKind
from operators.ocpi import mapping as ocpi_mapping
from resolvers import ids
from tests.app.conftest import DEMO_CLOCK, HZ, OCPI, SimClock, Stack, running_stack
from tests.app.test_charging import JWT_KEY, Driver

BILLED = """query($id: ID!) { node(id: $id) { ... on ChargingSession { status maxCost { amount }
  cost { amount } endReason bill { total { amount } } } } }"""


@pytest.fixture(params=[SimClock(), DEMO_CLOCK], ids=["test-clock", "demo-clock"])
async def capped_stack(request, stack_settings: Settings) -> AsyncIterator[Stack]:
    async with CreditBureauSimulator(BureauConfig(api_key="test-bureau-key")) as bureau:
        settings = replace(
            stack_settings,
            auth=AuthSettings(jwt_key=JWT_KEY),
            credit=CreditSettings(bureau_url=bureau.base_url, bureau_api_key="test-bureau-key"),
        )
        async with running_stack(settings, ocpi_stations=6, clock=request.param) as running:
            yield running


def connector_of(stack: Stack, protocol: str) -> str:
    if protocol == "ocpi":
        assert stack.ocpi is not None
        location_id, location = next(
            (lid, loc)
            for lid, loc in stack.ocpi.locations.items()
            if loc["evses"][0]["status"] == "AVAILABLE"
        )
        evse = location["evses"][0]
        return ids.connector_id(
            OCPI, ocpi_mapping.connector_key(location_id, evse["uid"], evse["connectors"][0]["id"])
        )
    fastest = max(
        (c for c in stack.sims[HZ].network.by_connector.values() if c.status == 1 and c.is_dc),
        key=lambda c: c.power,
    )
    return ids.connector_id(HZ, fastest.id)


async def billed(driver: Driver, gid: str) -> dict:
    return await driver.until(gid, lambda s: s["status"] == "COMPLETED" and s["bill"], timeout_s=60)


@pytest.mark.parametrize("protocol", ["tcec", "ocpi"])
async def test_a_cost_cap_holds(capped_stack: Stack, protocol: str):
    """Red team: a session with a cap of ¥6.48 was billed ¥11.20 on the demo clock."""
    alice = Driver(capped_stack, "alice")
    started = await alice.start(
        connectorId=connector_of(capped_stack, protocol), idempotencyKey="cap", limit={"maxCost": "6.48"}
    )
    assert started["__typename"] == "ChargingSession", started
    await billed(alice, started["id"])
    node = (await alice.gql(BILLED, {"id": started["id"]}))["node"]
    assert Decimal(node["bill"]["total"]["amount"]) <= Decimal("6.48"), node
    assert node["endReason"] == "COST_CAP", node


async def test_a_prepaid_balance_holds(capped_stack: Stack):
    store = capped_stack.runtime.sessions.store
    await store.add_wallet_entry("carol", Decimal("25"), WalletEntryKind.TOPUP, "test-opening")
    carol = Driver(capped_stack, "carol")
    started = await carol.start(connectorId=connector_of(capped_stack, "tcec"), idempotencyKey="c")
    assert started["__typename"] == "ChargingSession", started
    await billed(carol, started["id"])
    node = (await carol.gql(BILLED, {"id": started["id"]}))["node"]
    assert Decimal(node["bill"]["total"]["amount"]) <= Decimal("25"), node
    assert node["endReason"] == "BALANCE", node
