"""Binding quotes end to end on T/CEC and OCPI: quote, start with it, bill from it; refusals typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import Settings
from operators.ocpi import mapping as ocpi_mapping
from operators.ocpi.sim.server import OcpiSimulator
from resolvers import ids
from tests.app.conftest import CENTERS, HZ, OCPI, SH, Stack, running_stack
from tests.app.test_charging import (
    STOP,
    Driver,
    bill_adds_up,
    bureau,
    charging_settings,
    idle_tcec_connector,
    stack,
)

__all__ = ["bureau", "stack"]
QUOTE = """mutation($id: ID!, $energy: Decimal!) { quote(connectorId: $id, energyKwh: $energy) {
  __typename ... on Error { message code }
  ... on PriceQuote { id energyKwh powerKw validUntil total { amount currency } connector { id }
      lines { kind periodStart quantity unitPrice { amount } amount { amount } } } } }"""
START = """mutation($input: StartChargingInput!) { startCharging(input: $input) {
  __typename ... on ChargingSession { id status connector { id } } ... on Error { message code } } }"""
BILLED = """query($id: ID!) { node(id: $id) { ... on ChargingSession { status energyKwh
  bill { status total { amount } operatorTotal { amount } recomputedTotal { amount }
         lines { kind amount { amount } } } } } }"""


def ocpi_native(stack: Stack, skip: int = 0) -> str:
    """The native id of an AVAILABLE OCPI connector (the ``skip``-th one)."""
    assert stack.ocpi is not None
    available = [
        (lid, loc) for lid, loc in stack.ocpi.locations.items() if loc["evses"][0]["status"] == "AVAILABLE"
    ]
    location_id, location = available[skip]
    evse = location["evses"][0]
    return ocpi_mapping.connector_key(location_id, evse["uid"], evse["connectors"][0]["id"])


def ocpi_connector(stack: Stack, skip: int = 0) -> str:
    return ids.connector_id(OCPI, ocpi_native(stack, skip))


def idle_connector(stack: Stack, protocol: str, skip: int = 0) -> tuple[str, str]:
    """``(operator id, native connector id)`` of an idle connector of the ``protocol``'s operator."""
    if protocol == "ocpi":
        return OCPI, ocpi_native(stack, skip)
    return HZ, idle_tcec_connector(stack, skip=skip).id


def started_upstream(stack: Stack) -> int:
    """Sessions the operators were asked to start, on every simulator."""
    assert stack.ocpi is not None
    return sum(len(sim.sessions.active()) for sim in stack.sims.values()) + stack.ocpi.calls["commands"]


async def quote(driver: Driver, connector_id: str, energy: str = "5") -> dict:
    return (await driver.gql(QUOTE, {"id": connector_id, "energy": energy}))["quote"]


@pytest.mark.parametrize("protocol", ["tcec", "ocpi"])
async def test_a_quote_is_honoured_by_the_bill(stack: Stack, protocol: str):
    alice = Driver(stack, "alice")
    connector_id = (
        ocpi_connector(stack) if protocol == "ocpi" else ids.connector_id(HZ, idle_tcec_connector(stack).id)
    )
    priced = await quote(alice, connector_id)
    assert priced["__typename"] == "PriceQuote", priced
    assert priced["connector"]["id"] == connector_id and priced["energyKwh"] == "5"
    assert (
        Decimal(priced["total"]["amount"]) == sum(Decimal(x["amount"]["amount"]) for x in priced["lines"]) > 0
    )
    assert datetime.fromisoformat(priced["validUntil"]) > datetime.now(UTC)

    session = (await alice.gql(START, {"input": {"quoteId": priced["id"], "idempotencyKey": "q-1"}}))[
        "startCharging"
    ]
    assert session["__typename"] == "ChargingSession", session
    assert session["connector"]["id"] == connector_id
    again = (await alice.gql(START, {"input": {"quoteId": priced["id"], "idempotencyKey": "q-1"}}))[
        "startCharging"
    ]
    assert again["id"] == session["id"]  # a retry of the same start, not a second use
    reused = (await alice.gql(START, {"input": {"quoteId": priced["id"], "idempotencyKey": "q-2"}}))[
        "startCharging"
    ]
    assert (reused["__typename"], reused["code"]) == ("QuoteUnavailable", "QUOTE_USED")
    other = await quote(alice, connector_id)
    same_key = (await alice.gql(START, {"input": {"quoteId": other["id"], "idempotencyKey": "q-1"}}))[
        "startCharging"
    ]
    assert same_key["__typename"] == "IdempotencyConflict"  # the key named another quote's start

    await alice.until(session["id"], lambda s: s["status"] == "CHARGING" and Decimal(s["energyKwh"]) > 0)
    await alice.gql(STOP, {"id": session["id"]})
    await alice.until(session["id"], lambda s: s["status"] == "COMPLETED" and s["bill"])
    bill = (await alice.gql(BILLED, {"id": session["id"]}))["node"]["bill"]
    assert bill_adds_up(bill)
    linked = await stack.runtime.sessions.store.quote_for_session(ids.decode(session["id"])[1][0])
    assert linked is not None and ids.encode("PriceQuote", linked.id) == priced["id"]
    ours, theirs = Decimal(bill["total"]["amount"]), Decimal(bill["operatorTotal"]["amount"])
    assert Decimal(bill["recomputedTotal"]["amount"]) == ours > 0
    assert bill["status"] == ("DISPUTED" if abs(theirs - ours) > Decimal("0.05") else "UNPAID")
    assert {line["kind"] for line in bill["lines"]} <= {"ENERGY", "SERVICE", "FLAT", "TIME"}


@pytest.mark.parametrize("protocol", ["tcec", "ocpi"])
async def test_foreign_expired_and_mismatched_quotes_are_typed_errors(stack: Stack, protocol: str):
    alice, bob = Driver(stack, "alice"), Driver(stack, "bob")
    (op_id, first), (_, second) = idle_connector(stack, protocol), idle_connector(stack, protocol, skip=1)
    priced = await quote(alice, ids.connector_id(op_id, first))
    assert priced["__typename"] == "PriceQuote", priced
    before = started_upstream(stack)
    cases = [
        (bob, {"quoteId": priced["id"]}, "QUOTE_NOT_FOUND"),  # another driver's quote
        (
            alice,
            {"quoteId": priced["id"], "connectorId": ids.connector_id(op_id, second)},
            "QUOTE_OTHER_CONNECTOR",
        ),
        (alice, {"quoteId": ids.encode("PriceQuote", "nope")}, "QUOTE_NOT_FOUND"),
        (alice, {"quoteId": "not-an-id"}, "QUOTE_NOT_FOUND"),
    ]
    # An expired quote: issued as the clock stood 20 minutes ago.
    quoting = stack.runtime.quoting
    assert quoting is not None
    old, _ = await quoting.issue(
        "alice", op_id, first, Decimal(5), Decimal(0), datetime.now(UTC) - timedelta(minutes=20)
    )
    cases.append((alice, {"quoteId": ids.encode("PriceQuote", old.id)}, "QUOTE_EXPIRED"))
    for i, (driver, fields, code) in enumerate(cases):
        got = (await driver.gql(START, {"input": {**fields, "idempotencyKey": f"bad-{i}"}}))["startCharging"]
        assert (got["__typename"], got["code"]) == ("QuoteUnavailable", code), (fields, got)
    assert started_upstream(stack) == before  # nothing was started
    # The refusals spent nothing: the quote still starts its own connector for its driver.
    good = (await alice.gql(START, {"input": {"quoteId": priced["id"], "idempotencyKey": "good"}}))[
        "startCharging"
    ]
    assert good["__typename"] == "ChargingSession"
    assert good["connector"]["id"] == ids.connector_id(op_id, first)


@pytest.mark.parametrize("protocol", ["tcec", "ocpi"])
async def test_a_quote_survives_a_restart_of_the_gateway(
    stack_settings: Settings, bureau: CreditBureauSimulator, protocol: str
):
    """Quoted by one gateway process, started on the next one over the same ledger: the quote is
    found, binds the session, and its total is the one first promised."""
    settings = charging_settings(stack_settings, bureau)
    # The CPO would push to the first process's address (another port): no pushes, the session is
    # only started here (the honoured test follows one to its bill).
    async with OcpiSimulator(stations=6, seed=9, center=CENTERS[SH], command_delay_s=0.1, push=False) as cpo:
        async with running_stack(settings, ocpi_sim=cpo) as first:
            op_id, native = idle_connector(first, protocol)
            priced = await quote(Driver(first, "alice"), ids.connector_id(op_id, native))
            assert priced["__typename"] == "PriceQuote", priced
        async with running_stack(settings, ocpi_sim=cpo) as again:  # same ledger file, new process state
            alice = Driver(again, "alice")
            got = (await alice.gql(START, {"input": {"quoteId": priced["id"], "idempotencyKey": "after"}}))[
                "startCharging"
            ]
            assert got["__typename"] == "ChargingSession", got
            assert got["connector"]["id"] == ids.connector_id(op_id, native)
            linked = await again.runtime.sessions.store.quote_for_session(ids.decode(got["id"])[1][0])
            assert linked is not None and ids.encode("PriceQuote", linked.id) == priced["id"]
            assert linked.total == Decimal(priced["total"]["amount"])
            bob = Driver(again, "bob")
            foreign = (await bob.gql(START, {"input": {"quoteId": priced["id"], "idempotencyKey": "b"}}))[
                "startCharging"
            ]
            assert (foreign["__typename"], foreign["code"]) == ("QuoteUnavailable", "QUOTE_NOT_FOUND")


async def test_quote_input_and_sign_in_are_checked(stack: Stack):
    alice = Driver(stack, "alice")
    cid = ids.connector_id(HZ, idle_tcec_connector(stack).id)
    for variables, expected in (
        ({"id": cid, "energy": "0"}, ("InvalidInput", "INVALID_INPUT")),
        ({"id": cid, "energy": "100000"}, ("InvalidInput", "INVALID_INPUT")),
        ({"id": "bm9wZQ", "energy": "5"}, ("InvalidInput", "INVALID_INPUT")),
        ({"id": ids.connector_id(HZ, "no-such-connector"), "energy": "5"}, ("NotFound", "NOT_FOUND")),
    ):
        got = (await alice.gql(QUOTE, variables))["quote"]
        assert (got["__typename"], got["code"]) == expected, variables
    body = await stack.graphql(QUOTE, {"id": cid, "energy": "5"})
    assert body["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
