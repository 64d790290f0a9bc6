"""Why a session ended, and a live stream that ends with the billed figures (or says they are late)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway.charging.service import order_raw
from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import AuthSettings, CreditSettings, Settings
from operators.domain import FinalOrder, OrderLine
from operators.tcec.sim.faults import Faults
from operators.tcec.sim.network import OFFLINE
from resolvers import ids
from tests.app.conftest import HZ, US, Stack, poll, running_stack
from tests.app.test_charging import JWT_KEY, STOP, Driver, idle_tcec_connector

FINAL_ORDER_WAIT_S = 1.0
FOLLOW = """subscription($id: ID!) { chargingSession(id: $id) {
  status endedAt endReason failure energyKwh cost { amount } } }"""
ENDED = """query($id: ID!) { node(id: $id) { ... on ChargingSession { status endedAt endReason failure
  energyKwh cost { amount } bill { total { amount } } } } }"""


@pytest.fixture
async def stack(stack_settings: Settings) -> AsyncIterator[Stack]:
    async with CreditBureauSimulator(BureauConfig(api_key="test-bureau-key")) as bureau:
        settings = replace(
            stack_settings,
            auth=AuthSettings(jwt_key=JWT_KEY),
            credit=CreditSettings(bureau_url=bureau.base_url, bureau_api_key="test-bureau-key"),
            ledger=replace(stack_settings.ledger, final_order_wait_s=FINAL_ORDER_WAIT_S, progress_poll_s=0.5),
        )
        async with running_stack(settings) as running:
            yield running


async def follow(driver: Driver, gid: str, on_update) -> list[dict]:
    """Every message of a chargingSession subscription until it completes (``errors`` kept)."""
    messages: list[dict] = []
    stack = driver.stack
    async with stack.http.ws_connect(f"{stack.url}/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": driver.headers})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        payload = {"query": FOLLOW, "variables": {"id": gid}}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        while (message := await ws.receive_json(timeout=30))["type"] != "complete":
            assert message["type"] == "next", message
            messages.append(message["payload"])
            if message["payload"].get("data"):
                await on_update(message["payload"]["data"]["chargingSession"])
    return messages


def when_charging(driver: Driver, gid: str, then=None):
    done = False

    async def on_update(update: dict) -> None:
        nonlocal done
        if not done and update["status"] == "CHARGING" and Decimal(update["energyKwh"]) > 0:
            done = True
            if then is not None:
                await then()
            assert (await driver.gql(STOP, {"id": gid}))["stopCharging"]["__typename"] == "ChargingSession"

    return on_update


async def test_the_stream_ends_with_the_billed_session(stack: Stack):
    """Red team: the last message said COMPLETED with stale energy and cost and no endedAt."""
    alice = Driver(stack, "alice")
    connector = idle_tcec_connector(stack, skip=5)
    started = await alice.start(qrCode=f"hlht://{connector.id}.{HZ}/", idempotencyKey="truth")
    assert started["__typename"] == "ChargingSession", started
    messages = await follow(alice, started["id"], when_charging(alice, started["id"]))
    assert all("errors" not in m for m in messages), messages
    last = messages[-1]["data"]["chargingSession"]
    node = (await alice.gql(ENDED, {"id": started["id"]}))["node"]
    order = stack.sims[HZ].sessions.get(f"{US}{ids.decode(started['id'])[1][0]}").order_body()
    assert last["status"] == "COMPLETED" and last["endedAt"] and last["endReason"] == "DRIVER_STOP"
    assert last["cost"]["amount"] == node["bill"]["total"]["amount"] == f"{order['TotalMoney']:.2f}"
    assert Decimal(last["energyKwh"]) == order["TotalPower"]
    assert [m["data"]["chargingSession"]["status"] for m in messages].count("COMPLETED") == 1


async def test_a_lost_final_order_ends_the_stream_with_a_typed_error(stack: Stack):
    alice = Driver(stack, "alice")
    sim = stack.sims[HZ]
    connector = idle_tcec_connector(stack, skip=6)
    started = await alice.start(qrCode=f"hlht://{connector.id}.{HZ}/", idempotencyKey="lost")

    async def lose_every_push() -> None:  # the stop result and the order re-pushes with it
        sim.faults = Faults(drop_push_rate=1.0)

    messages = await follow(alice, started["id"], when_charging(alice, started["id"], lose_every_push))
    *updates, late = messages
    assert [e["extensions"]["code"] for e in late["errors"]] == ["FINAL_ORDER_LATE"], late
    ended = updates[-1]["data"]["chargingSession"]
    assert ended["status"] == "STOPPING" and ended["endedAt"] and ended["endReason"] == "DRIVER_STOP"

    sim.faults = Faults()  # a later re-push of the order gets through: the session is billed then

    async def billed():
        node = (await alice.gql(ENDED, {"id": started["id"]}))["node"]
        return node if node["status"] == "COMPLETED" and node["bill"] else None

    node = await poll(billed, timeout_s=20, interval_s=0.2)
    assert node["cost"]["amount"] == node["bill"]["total"]["amount"]


async def test_an_energy_limit_and_a_refused_start_say_why(stack: Stack):
    alice = Driver(stack, "alice")
    limited = await alice.start(
        qrCode=f"hlht://{idle_tcec_connector(stack, skip=7).id}.{HZ}/",
        idempotencyKey="kwh",
        limit={"maxEnergyKwh": "2"},
    )
    done = await alice.until(limited["id"], lambda s: s["status"] == "COMPLETED" and s["bill"], 30)
    node = (await alice.gql(ENDED, {"id": done["id"]}))["node"]
    assert node["endReason"] == "ENERGY_LIMIT" and Decimal(node["energyKwh"]) <= 2 and node["failure"] is None

    # The gateway saw the connector available; the operator finds it offline and refuses.
    connector = idle_tcec_connector(stack, skip=8)
    station = ids.station_id(HZ, connector.station_id)
    await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Station { connectors { status } } } }", {"id": station}
    )
    connector.status = OFFLINE
    refused = await alice.start(qrCode=f"hlht://{connector.id}.{HZ}/", idempotencyKey="offline")
    assert refused["__typename"] == "ConnectorUnavailable", refused
    mine = (await alice.gql("{ me { sessions { nodes { id status } } } }"))["me"]["sessions"]["nodes"]
    failed = next(s for s in mine if s["status"] == "FAILED")
    node = (await alice.gql(ENDED, {"id": failed["id"]}))["node"]
    assert node["endReason"] == "START_FAILED" and node["failure"]


async def test_a_charger_fault_reported_in_the_final_order_is_a_fault_with_a_failure(stack: Stack):
    alice = Driver(stack, "alice")
    connector = idle_tcec_connector(stack, skip=9)
    started = await alice.start(qrCode=f"hlht://{connector.id}.{HZ}/", idempotencyKey="fault")
    charging = await alice.until(
        started["id"], lambda s: s["status"] == "CHARGING" and Decimal(s["energyKwh"]) > 0
    )
    # What the T/CEC adapter hands over for an order with StopReason 3 (the pile broke down).
    session_id = ids.decode(started["id"])[1][0]
    now = datetime.now(UTC)
    energy = Decimal(charging["energyKwh"])
    line = OrderLine("ENERGY", Decimal("1.00"))
    order = FinalOrder(
        session_id,
        connector.id,
        "CNY",
        now,
        now,
        energy,
        Decimal("1.00"),
        (line,),
        stop_reason="CHARGER_FAULT",
    )
    await stack.runtime.sessions.apply_order(HZ, order, order_raw(order))
    node = (await alice.gql(ENDED, {"id": started["id"]}))["node"]
    assert node["status"] == "COMPLETED" and node["endReason"] == "FAULT"
    assert "CHARGER_FAULT" in node["failure"]
