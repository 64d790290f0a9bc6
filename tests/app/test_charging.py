"""Charge first, pay later, end to end: drivers, credit, sessions on T/CEC and OCPI, bills, payment."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from gateway.identity.bearer import issue_token
from gateway.rails.bureau.sim.config import BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import AuthSettings, CreditSettings, Settings
from gateway.store import WalletEntryKind
from operators.domain import OrderSummary, Reconciliation
from operators.ocpi import mapping as ocpi_mapping
from operators.tcec.codec import SHANGHAI
from resolvers import ids
from tests.app.conftest import HZ, OCPI, US, Stack, poll, running_stack

JWT_KEY = "test-jwt-key-0123456789-0123456789-abcdef"
SESSION_FIELDS = "id status paymentMode energyKwh cost { amount currency } maxCost { amount } failure"
START = f"""mutation($input: StartChargingInput!) {{ startCharging(input: $input) {{
  __typename ... on ChargingSession {{ {SESSION_FIELDS} connector {{ id }} }}
  ... on Error {{ message code }} ... on CreditDenied {{ score unlock topUp {{ amount }} }} }} }}"""
STOP = f"""mutation($id: ID!) {{ stopCharging(input: {{sessionId: $id}}) {{
  __typename ... on ChargingSession {{ {SESSION_FIELDS} }} ... on Error {{ message code }} }} }}"""
SESSION = f"""query($id: ID!) {{ node(id: $id) {{ ... on ChargingSession {{ {SESSION_FIELDS}
  bill {{ id status total {{ amount currency }} operatorTotal {{ amount }} recomputedTotal {{ amount }}
         lines {{ kind description amount {{ amount }} }} }} }} }} }}"""
PAY = """mutation($id: ID!, $method: PaymentMethod! = WALLET) {
  payBill(input: {billId: $id, method: $method}) { __typename
    ... on Bill { id status paidAt total { amount } } ... on Error { message code }
    ... on InsufficientFunds { balance { amount } required { amount } } } }"""


class Driver:
    def __init__(self, stack: Stack, name: str) -> None:
        self.stack = stack
        self.headers = {"Authorization": f"Bearer {issue_token(name, JWT_KEY)}"}

    async def gql(self, query: str, variables: dict | None = None) -> dict:
        async with self.stack.http.post(
            f"{self.stack.url}/graphql", json={"query": query, "variables": variables}, headers=self.headers
        ) as r:
            body = await r.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def start(self, **fields) -> dict:
        return (await self.gql(START, {"input": fields}))["startCharging"]

    async def session(self, gid: str) -> dict | None:
        return (await self.gql(SESSION, {"id": gid}))["node"]

    async def until(self, gid: str, check, timeout_s: float = 20) -> dict:
        async def ready():
            s = await self.session(gid)
            return s if s and check(s) else None

        return await poll(ready, timeout_s=timeout_s, interval_s=0.1)


@pytest.fixture
async def bureau() -> AsyncIterator[CreditBureauSimulator]:
    async with CreditBureauSimulator(BureauConfig(api_key="test-bureau-key")) as sim:
        yield sim


def charging_settings(stack_settings: Settings, bureau: CreditBureauSimulator) -> Settings:
    """The stack's settings with drivers' tokens and the credit bureau, so drivers can charge."""
    return replace(
        stack_settings,
        auth=AuthSettings(jwt_key=JWT_KEY),
        credit=CreditSettings(bureau_url=bureau.base_url, bureau_api_key="test-bureau-key"),
    )


@pytest.fixture
async def stack(stack_settings: Settings, bureau: CreditBureauSimulator) -> AsyncIterator[Stack]:
    async with running_stack(charging_settings(stack_settings, bureau), ocpi_stations=20) as running:
        yield running


def idle_tcec_connector(stack: Stack, op_id: str = HZ, skip: int = 0):
    idle = [c for c in stack.sims[op_id].network.by_connector.values() if c.status == 1 and c.is_dc]
    return idle[skip]


def bill_adds_up(bill: dict) -> bool:
    return sum(Decimal(line["amount"]["amount"]) for line in bill["lines"]) == Decimal(
        bill["total"]["amount"]
    )


async def test_alice_charges_by_qr_code_postpaid_and_pays(stack: Stack):
    alice = Driver(stack, "alice")
    connector = idle_tcec_connector(stack)
    qr = f"hlht://{connector.id}.{HZ}/"
    session = await alice.start(qrCode=qr, idempotencyKey="alice-1")
    assert session["__typename"] == "ChargingSession", session
    assert session["paymentMode"] == "POSTPAID"
    assert session["connector"]["id"] == ids.connector_id(HZ, connector.id)
    again = await alice.start(qrCode=qr, idempotencyKey="alice-1")
    assert again["id"] == session["id"]  # the same key never starts a second session
    assert len(stack.sims[HZ].sessions.active()) == 1
    assert stack.sims[HZ].calls["query_start_charge"] == 1

    charging = await alice.until(
        session["id"], lambda s: s["status"] == "CHARGING" and Decimal(s["energyKwh"]) > 0
    )
    assert Decimal(charging["cost"]["amount"]) > 0 and charging["cost"]["currency"] == "CNY"
    stopped = (await alice.gql(STOP, {"id": session["id"]}))["stopCharging"]
    assert stopped["__typename"] == "ChargingSession" and stopped["status"] in ("STOPPING", "COMPLETED")

    done = await alice.until(session["id"], lambda s: s["status"] == "COMPLETED" and s["bill"])
    bill = done["bill"]
    assert bill_adds_up(bill) and bill["status"] == "UNPAID"
    assert Decimal(bill["total"]["amount"]) == Decimal(done["cost"]["amount"]) > 0
    assert bill["recomputedTotal"] is not None
    assert {line["kind"] for line in bill["lines"]} == {"ENERGY", "SERVICE"}

    short = (await alice.gql(PAY, {"id": bill["id"]}))["payBill"]  # alice's wallet is empty
    assert short["__typename"] == "InsufficientFunds"
    assert short["balance"]["amount"] == "0.00" and short["required"]["amount"] == bill["total"]["amount"]
    paid = (await alice.gql(PAY, {"id": bill["id"], "method": "PROVIDER"}))["payBill"]
    assert paid["__typename"] == "Bill" and paid["status"] == "PAID"
    twice = (await alice.gql(PAY, {"id": bill["id"], "method": "PROVIDER"}))["payBill"]
    assert twice == paid  # paying again charges nothing more
    # Daily reconciliation (T/CEC check_charge_orders): the operator's orders agree with our bills.
    day = datetime.now(SHANGHAI).date()
    assert len(stack.sims[HZ].sessions.ended_on(day)) == 1  # alice's order is in the day's list
    answer = await stack.sims[HZ].send_check_charge_orders(day)
    assert answer is not None and answer["TotalDisputeOrder"] == 0, answer
    native_id = ids.decode(session["id"])[1][0]
    seq = f"{US}{native_id}"
    disputes = await stack.runtime.sessions.check_orders(
        HZ,
        Reconciliation(None, None, (
            OrderSummary(native_id, seq, Decimal(done["energyKwh"]), Decimal(bill["total"]["amount"]) + 1),
            OrderSummary(None, "MA1ZZZZZZ000000000000000001", Decimal(1), Decimal(1)),
        )),
    )  # fmt: skip
    assert [(d.operator_ref, d.reason) for d in disputes] == [
        (seq, "MONEY"),
        ("MA1ZZZZZZ000000000000000001", "NOT_FOUND"),
    ]
    me = await alice.gql("{ me { sessions { nodes { id } } bills { nodes { id status } } } }")
    assert [s["id"] for s in me["me"]["sessions"]["nodes"]] == [session["id"]]
    assert me["me"]["bills"]["nodes"] == [{"id": bill["id"], "status": "PAID"}]


async def test_alice_charges_an_ocpi_connector_by_id(stack: Stack):
    alice = Driver(stack, "alice")
    assert stack.ocpi is not None
    location_id, location = next(
        (lid, loc) for lid, loc in stack.ocpi.locations.items() if loc["evses"][0]["status"] == "AVAILABLE"
    )
    evse = location["evses"][0]
    native = ocpi_mapping.connector_key(location_id, evse["uid"], evse["connectors"][0]["id"])
    session = await alice.start(connectorId=ids.connector_id(OCPI, native), idempotencyKey="alice-ocpi")
    assert session["__typename"] == "ChargingSession", session
    await alice.until(session["id"], lambda s: s["status"] == "CHARGING" and Decimal(s["energyKwh"]) > 0)
    stopped = (await alice.gql(STOP, {"id": session["id"]}))["stopCharging"]
    assert stopped["__typename"] == "ChargingSession"
    done = await alice.until(session["id"], lambda s: s["status"] == "COMPLETED" and s["bill"])
    assert bill_adds_up(done["bill"])


async def test_bob_is_denied_with_a_reason(stack: Stack):
    bob = Driver(stack, "bob")
    result = await bob.start(qrCode=f"hlht://{idle_tcec_connector(stack).id}.{HZ}/", idempotencyKey="bob-1")
    assert result["__typename"] == "CreditDenied"
    assert result["score"] == 480 and result["message"] and result["unlock"]
    assert Decimal(result["topUp"]["amount"]) >= 20
    assert stack.sims[HZ].calls["query_start_charge"] == 0  # denied before the operator was asked


async def test_carol_charges_prepaid_and_is_stopped_at_her_balance(stack: Stack):
    store = stack.runtime.sessions.store
    await store.add_wallet_entry("carol", Decimal("25"), WalletEntryKind.TOPUP, "test-opening")
    carol = Driver(stack, "carol")
    session = await carol.start(
        qrCode=f"hlht://{idle_tcec_connector(stack, skip=1).id}.{HZ}/", idempotencyKey="c1"
    )
    assert session["__typename"] == "ChargingSession", session
    assert session["paymentMode"] == "PREPAID" and Decimal(session["maxCost"]["amount"]) == 25
    done = await carol.until(
        session["id"],
        lambda s: s["status"] == "COMPLETED" and s["bill"] and s["bill"]["status"] == "PAID",
        30,
    )
    # Charged until the next report would have passed her balance, then the gateway stopped it,
    # and the bill was settled from the wallet.
    assert Decimal("12.5") <= Decimal(done["cost"]["amount"]) <= 25
    events = [
        e.kind for e in await store.session_events(done["id"].encode() and ids.decode(done["id"])[1][0])
    ]
    assert "LIMIT_REACHED" in events
    assert bill_adds_up(done["bill"])


async def test_another_drivers_sessions_are_invisible(stack: Stack):
    alice, dave = Driver(stack, "alice"), Driver(stack, "dave")
    session = await alice.start(
        qrCode=f"hlht://{idle_tcec_connector(stack, skip=2).id}.{HZ}/", idempotencyKey="a"
    )
    assert session["__typename"] == "ChargingSession"
    assert await dave.session(session["id"]) is None
    assert (await dave.gql(STOP, {"id": session["id"]}))["stopCharging"]["__typename"] == "NotFound"
    assert (await dave.gql("{ me { sessions { nodes { id } } } }"))["me"]["sessions"]["nodes"] == []
    await alice.gql(STOP, {"id": session["id"]})


@pytest.mark.parametrize(
    ("fields", "typename"),
    [
        ({"idempotencyKey": "k"}, "InvalidInput"),
        ({"idempotencyKey": "", "qrCode": "hlht://x.y/"}, "InvalidInput"),
        ({"idempotencyKey": "k", "qrCode": "hlht://nothing.here/"}, "NotFound"),
        ({"idempotencyKey": "k", "connectorId": "bogus"}, "InvalidInput"),
        ({"idempotencyKey": "k", "connectorId": ids.connector_id(HZ, "404")}, "NotFound"),
        ({"idempotencyKey": "k", "qrCode": "hlht://x.y/", "limit": {"maxCost": "-1"}}, "InvalidInput"),
    ],
)
async def test_bad_start_input_gets_a_typed_error(stack: Stack, fields, typename):
    result = await Driver(stack, "alice").start(**fields)
    assert result["__typename"] == typename and result["code"] and result["message"]


async def test_mutations_need_a_valid_driver_token(stack: Stack):
    query = START.replace("$input: StartChargingInput!", "$input: StartChargingInput!")
    variables = {"input": {"idempotencyKey": "x", "qrCode": "hlht://a.b/"}}
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        async with stack.http.post(
            f"{stack.url}/graphql", json={"query": query, "variables": variables}, headers=headers
        ) as r:
            body = await r.json()
        codes = {e["extensions"]["code"] for e in body.get("errors") or []}
        assert codes & {"UNAUTHENTICATED", "FORBIDDEN"}, body
    assert "not-a-token" not in json.dumps(body)


SUBSCRIBE = """subscription($id: ID!) { chargingSession(id: $id) {
  status energyKwh powerKw soc cost { amount } } }"""


async def test_progress_streams_over_a_subscription_until_the_end(stack: Stack):
    alice = Driver(stack, "alice")
    session = await alice.start(
        qrCode=f"hlht://{idle_tcec_connector(stack, skip=3).id}.{HZ}/", idempotencyKey="ws"
    )
    updates: list[dict] = []
    async with stack.http.ws_connect(f"{stack.url}/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": alice.headers})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"id": session["id"]}},
            }
        )
        stopped = False
        while True:
            message = await ws.receive_json(timeout=20)
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            update = message["payload"]["data"]["chargingSession"]
            updates.append(update)
            if update["status"] == "CHARGING" and Decimal(update["energyKwh"]) > 0 and not stopped:
                assert (await alice.gql(STOP, {"id": session["id"]}))["stopCharging"][
                    "__typename"
                ] == "ChargingSession"
                stopped = True
    assert updates[-1]["status"] == "COMPLETED"
    energies = [Decimal(u["energyKwh"]) for u in updates]
    costs = [Decimal(u["cost"]["amount"]) for u in updates]
    assert energies == sorted(energies) and costs == sorted(costs)  # never backwards
    assert any(u["powerKw"] for u in updates) and any(u["soc"] for u in updates)
    assert len(updates) >= 3


async def test_a_subscription_to_someone_elses_session_is_refused(stack: Stack):
    alice, dave = Driver(stack, "alice"), Driver(stack, "dave")
    session = await alice.start(
        qrCode=f"hlht://{idle_tcec_connector(stack, skip=4).id}.{HZ}/", idempotencyKey="x"
    )
    async with stack.http.ws_connect(f"{stack.url}/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": dave.headers})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"id": session["id"]}},
            }
        )
        message = await ws.receive_json(timeout=5)
    assert message["type"] in ("error", "next")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    await alice.gql(STOP, {"id": session["id"]})


class TestOverdue:
    @pytest.fixture
    def stack_settings(self, stack_settings: Settings) -> Settings:
        ledger = replace(stack_settings.ledger, bill_due_days=1e-6, overdue_sweep_s=0.1, progress_poll_s=0.1)
        return replace(stack_settings, ledger=ledger)

    async def test_an_overdue_bill_blocks_postpay_until_paid(self, stack: Stack):
        alice = Driver(stack, "alice")
        first = await alice.start(
            qrCode=f"hlht://{idle_tcec_connector(stack).id}.{HZ}/", idempotencyKey="o-1"
        )
        await alice.until(first["id"], lambda s: s["status"] == "CHARGING")
        await alice.gql(STOP, {"id": first["id"]})
        done = await alice.until(first["id"], lambda s: s["bill"] and s["bill"]["status"] == "OVERDUE")
        denied = await alice.start(
            qrCode=f"hlht://{idle_tcec_connector(stack, skip=1).id}.{HZ}/", idempotencyKey="o-2"
        )
        assert denied["__typename"] == "CreditDenied" and denied["code"] == "OVERDUE_BILL", denied
        paid = (await alice.gql(PAY, {"id": done["bill"]["id"], "method": "PROVIDER"}))["payBill"]
        assert paid["status"] == "PAID"
        allowed = await alice.start(
            qrCode=f"hlht://{idle_tcec_connector(stack, skip=1).id}.{HZ}/", idempotencyKey="o-3"
        )
        assert allowed["__typename"] == "ChargingSession" and allowed["paymentMode"] == "POSTPAID"
        await alice.gql(STOP, {"id": allowed["id"]})


async def test_an_unknown_qr_code_answers_with_the_accepted_formats(stack: Stack):
    bad = await Driver(stack, "alice").start(qrCode="https://elsewhere.example/1", idempotencyKey="qr-bad")
    assert bad["__typename"] == "NotFound"
    assert "hlht://{ConnectorID}.{OperatorID}/" in bad["message"]
    assert f"https://scan.{HZ.lower()}.example/pile/{{ConnectorID}}" in bad["message"]
