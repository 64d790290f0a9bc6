"""What the API shows of money and time: amounts at the currency's minor unit, times in UTC, none ahead."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import AuthSettings, CreditSettings, Settings
from gateway.store import BillStatus, PaymentMode
from operators.domain import OrderLine
from operators.ocpi import mapping as ocpi_mapping
from operators.ocpi.codec import parse_datetime
from resolvers import ids
from tests.app.conftest import OCPI, Stack, running_stack
from tests.app.test_charging import JWT_KEY, STOP, Driver

UTC_NOTATION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SESSION = """query($id: ID!) { node(id: $id) { ... on ChargingSession { status startedAt endedAt
  energyKwh cost { amount } maxCost { amount }
  bill { total { amount } createdAt dueAt lines { amount { amount } startsAt endsAt } } } } }"""
STATUS = """query($id: ID!) { node(id: $id) { ... on Station { connectors { statusUpdatedAt } } } }"""


@pytest.fixture
async def ocpi_stack(stack_settings: Settings, bureau: CreditBureauSimulator) -> AsyncIterator[Stack]:
    settings = replace(
        stack_settings,
        auth=AuthSettings(jwt_key=JWT_KEY),
        credit=CreditSettings(bureau_url=bureau.base_url, bureau_api_key="test-bureau-key"),
    )
    async with running_stack(settings, ocpi_stations=8) as running:
        yield running


@pytest.fixture
async def bureau() -> AsyncIterator[CreditBureauSimulator]:
    from gateway.rails.bureau.sim.config import BureauConfig

    async with CreditBureauSimulator(BureauConfig(api_key="test-bureau-key")) as sim:
        yield sim


async def an_unpaid_bill(stack: Stack, driver_id: str, total: Decimal) -> None:
    """An earlier session's bill with an operator's four-decimal total (OCPI amounts have four)."""
    store = stack.runtime.sessions.store
    session, _ = await store.create_session(
        driver_id=driver_id, idempotency_key="earlier", operator_id=OCPI, connector_id="x",
        payment_mode=PaymentMode.POSTPAID, currency="CNY",
    )  # fmt: skip
    now = datetime.now(UTC)
    await store.create_bill(
        session.id, driver_id, "CNY", [OrderLine("ENERGY", total)], total, None, BillStatus.UNPAID,
        now + timedelta(days=7),
    )  # fmt: skip


def times_in(value: object) -> list[str]:
    """Every DateTime-looking string in a response."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in times_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in times_in(v)]
    return [value] if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value) else []


def amounts_in(value: object) -> list[str]:
    if isinstance(value, dict):
        if isinstance(value.get("amount"), str):
            return [value["amount"]]
        return [a for v in value.values() for a in amounts_in(v)]
    if isinstance(value, list):
        return [a for v in value for a in amounts_in(v)]
    return []


async def test_an_ocpi_session_shows_cents_and_utc_times_none_ahead_of_the_gateway(ocpi_stack: Stack):
    """Red team: maxCost 240.8663 and a CNY cost with four decimals; an endedAt 30 minutes ahead
    (the simulator's fast clock); statusUpdatedAt in +08:00."""
    stack = ocpi_stack
    assert stack.ocpi is not None
    await an_unpaid_bill(stack, "alice", Decimal("259.1337"))  # alice's postpay band is ¥500
    alice = Driver(stack, "alice")
    location_id, location = next(
        (lid, loc) for lid, loc in stack.ocpi.locations.items() if loc["evses"][0]["status"] == "AVAILABLE"
    )
    evse = location["evses"][0]
    native = ocpi_mapping.connector_key(location_id, evse["uid"], evse["connectors"][0]["id"])
    session = await alice.start(connectorId=ids.connector_id(OCPI, native), idempotencyKey="scale")
    assert session["__typename"] == "ChargingSession", session
    assert session["maxCost"]["amount"] == "240.86"  # a cap is cut down, never rounded up

    # Several reports of the simulator's fast clock (two minutes per second) before the stop.
    await alice.until(session["id"], lambda s: s["status"] == "CHARGING" and Decimal(s["energyKwh"]) > 1)
    assert (await alice.gql(STOP, {"id": session["id"]}))["stopCharging"]["__typename"] == "ChargingSession"
    done = await alice.until(session["id"], lambda s: s["status"] == "COMPLETED" and s["bill"])
    node = (await alice.gql(SESSION, {"id": session["id"]}))["node"]
    gateway_now = datetime.now(UTC)

    amounts = amounts_in(node)
    assert len(amounts) >= 4 and all(re.fullmatch(r"\d+\.\d\d", a) for a in amounts), amounts
    times = times_in(node)
    assert len(times) >= 5 and all(UTC_NOTATION.match(t) for t in times), times
    due = node["bill"]["dueAt"]  # a deadline: the one time that lies ahead
    past = [datetime.fromisoformat(t) for t in times if t != due]
    assert max(past) <= gateway_now, (past, gateway_now)
    assert node["startedAt"] <= node["endedAt"] and done["status"] == "COMPLETED"
    # The simulator itself reports wall-clock times, however fast its sessions charge.
    cdr = stack.ocpi.sessions.cdrs[-1]
    reported = [cdr["start_date_time"], cdr["end_date_time"], cdr["last_updated"]]
    reported += [p["start_date_time"] for p in cdr["charging_periods"]]
    assert max(parse_datetime(t) for t in reported) <= gateway_now, reported

    station = (await alice.gql(STATUS, {"id": ids.station_id(OCPI, location_id)}))["node"]
    seen = times_in(station)
    assert seen and all(UTC_NOTATION.match(t) for t in seen), seen


async def test_tcec_status_times_are_utc(ocpi_stack: Stack):
    """T/CEC times are Asia/Shanghai on the wire; the API shows them in UTC with Z."""
    sim = next(iter(ocpi_stack.sims.values()))
    station = next(iter(sim.network.by_connector.values())).station_id
    op_id = next(iter(ocpi_stack.sims))
    body = await Driver(ocpi_stack, "alice").gql(STATUS, {"id": ids.station_id(op_id, station)})
    seen = times_in(body["node"])
    assert seen and all(UTC_NOTATION.match(t) for t in seen), seen
    assert max(datetime.fromisoformat(t) for t in seen) <= datetime.now(UTC)
