"""Charging through the GraphQL app and the session service, in-process over a fake operator whose
sessions the test moves on exactly: start, progress, stop, the final order, the bill, the wallet."""

from __future__ import annotations

from decimal import Decimal

from operators.domain import ConnectorStatus
from operators.testing import Faults
from resolvers import ids
from tests.inprocess import InProcess

SESSION_FIELDS = "id status paymentMode energyKwh cost { amount currency } endReason failure"
START = f"""mutation($input: StartChargingInput!) {{ startCharging(input: $input) {{ __typename
  ... on ChargingSession {{ {SESSION_FIELDS} }}
  ... on Error {{ message code }} ... on OperatorUnavailable {{ operatorId }} }} }}"""
STOP = f"""mutation($id: ID!) {{ stopCharging(input: {{sessionId: $id}}) {{ __typename
  ... on ChargingSession {{ {SESSION_FIELDS} }} ... on Error {{ message code }} }} }}"""
SESSION = f"""query($id: ID!) {{ node(id: $id) {{ ... on ChargingSession {{ {SESSION_FIELDS}
  bill {{ status total {{ amount currency }} operatorTotal {{ amount }}
          lines {{ kind amount {{ amount }} }} }} }} }} }}"""
TOP_UP = """mutation($amount: Decimal!, $key: String!) {
  topUpWallet(input: {amount: $amount, idempotencyKey: $key}) { __typename
    ... on Driver { wallet { amount } } ... on Error { message code } } }"""
WALLET = "{ me { wallet { amount } } }"


async def wallet_of(gateway: InProcess, driver: str) -> Decimal:
    return Decimal((await gateway.data(WALLET, driver=driver))["me"]["wallet"]["amount"])


# The wallet is a prepaid session's cap. The fake reports energy as fast as a test asks, so the
# gateway sees a pace of kWh per millisecond and would stop a session on a small wallet at once,
# as it should: the wallet is large, each report small.
WALLET_TOP_UP = Decimal("5000.00")


async def funded(gateway: InProcess, driver: str, amount: Decimal = WALLET_TOP_UP) -> None:
    topped = (await gateway.data(TOP_UP, {"amount": str(amount), "key": f"{driver}-top-up"}, driver=driver))[
        "topUpWallet"
    ]
    assert topped["__typename"] == "Driver", topped


def idle_connector(gateway: InProcess, operator_id: str = "FK1", skip: int = 0) -> str:
    fake = gateway.fake(operator_id)
    idle = [cid for cid, status in fake.statuses.items() if status is ConnectorStatus.AVAILABLE]
    return idle[skip]


async def session(gateway: InProcess, gid: str, driver: str) -> dict:
    return (await gateway.data(SESSION, {"id": gid}, driver=driver))["node"]


async def test_a_prepaid_session_from_start_to_paid_bill(gateway: InProcess):
    fake = gateway.fake("FK1")
    await funded(gateway, "dora")
    connector = idle_connector(gateway)
    start = {"connectorId": ids.connector_id("FK1", connector), "idempotencyKey": "dora-1"}
    started = (await gateway.data(START, {"input": start}, driver="dora"))["startCharging"]
    assert started["__typename"] == "ChargingSession", started
    assert (started["status"], started["paymentMode"]) == ("STARTING", "PREPAID")
    again = (await gateway.data(START, {"input": start}, driver="dora"))["startCharging"]
    assert again["id"] == started["id"] and fake.calls["start_session"] == 1  # one key, one session
    held = fake.session_on(connector)
    assert held is not None and fake.statuses[connector] is ConnectorStatus.CHARGING

    await fake.charge(held.ref, Decimal("2.5"))
    charging = await session(gateway, started["id"], "dora")
    progress = await fake.session_status(held.ref)
    assert (charging["status"], Decimal(charging["energyKwh"])) == ("CHARGING", Decimal("2.5"))
    assert Decimal(charging["cost"]["amount"]) == progress.cost > 0

    stopped = (await gateway.data(STOP, {"id": started["id"]}, driver="dora"))["stopCharging"]
    assert (stopped["status"], stopped["endReason"]) == ("STOPPING", "DRIVER_STOP")
    order = await fake.finish(held.ref)
    done = await session(gateway, started["id"], "dora")
    assert (done["status"], done["endReason"]) == ("COMPLETED", "DRIVER_STOP")
    bill = done["bill"]
    assert Decimal(bill["total"]["amount"]) == Decimal(bill["operatorTotal"]["amount"]) == order.total
    assert {line["kind"] for line in bill["lines"]} == {"ENERGY", "SERVICE"}
    assert sum(Decimal(line["amount"]["amount"]) for line in bill["lines"]) == order.total
    assert bill["status"] == "PAID"  # prepaid: settled from the wallet
    assert await wallet_of(gateway, "dora") == WALLET_TOP_UP - order.total
    assert fake.statuses[connector] is ConnectorStatus.AVAILABLE


async def test_a_start_the_operator_refuses_is_a_typed_error_and_holds_nothing(gateway: InProcess):
    await funded(gateway, "erin")
    busy = next(cid for cid, s in gateway.fake("FK1").statuses.items() if s is ConnectorStatus.FAULTED)
    start = {"connectorId": ids.connector_id("FK1", busy), "idempotencyKey": "erin-1"}
    refused = (await gateway.data(START, {"input": start}, driver="erin"))["startCharging"]
    assert refused["__typename"] == "ConnectorUnavailable", refused
    assert await wallet_of(gateway, "erin") == WALLET_TOP_UP


async def test_an_operator_down_at_start_is_named_and_the_session_fails(gateway: InProcess):
    await funded(gateway, "finn")
    fake = gateway.fake("FK2")
    fake.faults = Faults(down=True, methods=frozenset({"start_session"}))
    start = {"connectorId": ids.connector_id("FK2", idle_connector(gateway, "FK2")), "idempotencyKey": "f1"}
    failed = (await gateway.data(START, {"input": start}, driver="finn"))["startCharging"]
    assert (failed["__typename"], failed["operatorId"]) == ("OperatorUnavailable", "FK2"), failed
    assert not fake.sessions
    assert await wallet_of(gateway, "finn") == WALLET_TOP_UP


async def test_a_start_that_does_not_take_ends_failed_with_the_operators_reason(gateway: InProcess):
    fake = gateway.fake("FK1")
    await funded(gateway, "gus")
    connector = idle_connector(gateway, skip=1)
    start = {"connectorId": ids.connector_id("FK1", connector), "idempotencyKey": "gus-1"}
    started = (await gateway.data(START, {"input": start}, driver="gus"))["startCharging"]
    held = fake.session_on(connector)
    assert held is not None
    await fake.fail(held.ref, "vehicle not responding")
    failed = await session(gateway, started["id"], "gus")
    assert failed["status"] == "FAILED" and failed["failure"] == "vehicle not responding"
    assert failed["bill"] is None
    assert await wallet_of(gateway, "gus") == WALLET_TOP_UP
