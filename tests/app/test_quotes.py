"""Binding quotes end to end on T/CEC and OCPI: quote, start with it, bill from it; refusals typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.quoting import Quoting
from operators.ocpi import mapping as ocpi_mapping
from resolvers import ids
from tests.app.conftest import HZ, OCPI, Stack
from tests.app.test_charging import STOP, Driver, bill_adds_up, bureau, idle_tcec_connector, stack

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


def ocpi_connector(stack: Stack) -> str:
    assert stack.ocpi is not None
    location_id, location = next(
        (lid, loc) for lid, loc in stack.ocpi.locations.items() if loc["evses"][0]["status"] == "AVAILABLE"
    )
    evse = location["evses"][0]
    return ids.connector_id(
        OCPI, ocpi_mapping.connector_key(location_id, evse["uid"], evse["connectors"][0]["id"])
    )


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


async def test_foreign_expired_and_mismatched_quotes_are_typed_errors(stack: Stack):
    alice, bob = Driver(stack, "alice"), Driver(stack, "bob")
    first, second = idle_tcec_connector(stack), idle_tcec_connector(stack, skip=1)
    priced = await quote(alice, ids.connector_id(HZ, first.id))
    cases = [
        (bob, {"quoteId": priced["id"]}, "QUOTE_NOT_FOUND"),
        (
            alice,
            {"quoteId": priced["id"], "connectorId": ids.connector_id(HZ, second.id)},
            "QUOTE_OTHER_CONNECTOR",
        ),
        (alice, {"quoteId": ids.encode("PriceQuote", "nope")}, "QUOTE_NOT_FOUND"),
        (alice, {"quoteId": "not-an-id"}, "QUOTE_NOT_FOUND"),
    ]
    # An expired quote: issued as the clock stood 20 minutes ago.
    quoting = Quoting(stack.runtime.sessions.store, stack.runtime.catalogue, dict(stack.runtime.operators))
    old, _ = await quoting.issue(
        "alice", HZ, first.id, Decimal(5), Decimal(0), datetime.now(UTC) - timedelta(minutes=20)
    )
    cases.append((alice, {"quoteId": ids.encode("PriceQuote", old.id)}, "QUOTE_EXPIRED"))
    for i, (driver, fields, code) in enumerate(cases):
        got = (await driver.gql(START, {"input": {**fields, "idempotencyKey": f"bad-{i}"}}))["startCharging"]
        assert (got["__typename"], got["code"]) == ("QuoteUnavailable", code), (fields, got)
    assert not stack.sims[HZ].sessions.active()  # nothing was started


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
