"""One operator failing: partial data, one error naming it, its reason; then the circuit breaker.

In-process over fake operators, whose faults are exact: every call fails, or only one method's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from operators.testing import Faults
from tests.inprocess import InProcess

NEAR = """query($first: Int!) { stations(near: {lat: 31.245, lon: 121.497}, radiusKm: 10, first: $first) {
  edges { node { operator { name } connectors { status currentPrice { totalPerKwh { amount } } } } } } }"""


def connectors_by_operator(body: dict) -> dict[str, list[dict]]:
    by_op: dict[str, list[dict]] = {}
    for edge in body["data"]["stations"]["edges"]:
        by_op.setdefault(edge["node"]["operator"]["name"], []).extend(edge["node"]["connectors"])
    return by_op


def operator_errors(body: dict) -> list[dict]:
    return [e for e in body.get("errors") or [] if e["extensions"]["code"] == "OPERATOR_UNAVAILABLE"]


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        (Faults(down=True), "OPERATOR_UNAVAILABLE"),
        (Faults(slow_s=30.0), "OPERATOR_TIMEOUT"),  # past the fake's 0.5 s timeout
        (Faults(malformed=True), "OPERATOR_PROTOCOL"),
    ],
)
async def test_one_failing_operator_gives_partial_data_and_one_error_naming_it(
    gateway: InProcess, faults: Faults, reason: str
):
    gateway.fake("FK2").faults = faults
    body = await gateway.graphql(NEAR, {"first": 100})
    [error] = operator_errors(body)
    assert error["extensions"]["operator"] == "FK2" and error["extensions"]["reason"] == reason
    assert "FK2" in error["message"]
    by_op = connectors_by_operator(body)
    assert by_op["Fake FK1"] and by_op["Fake FK2"]  # the catalogue still lists both
    assert all(c["status"] != "UNKNOWN" and c["currentPrice"] for c in by_op["Fake FK1"])
    assert all(c["status"] == "UNKNOWN" and c["currentPrice"] is None for c in by_op["Fake FK2"])


async def test_a_failing_method_spoils_only_the_fields_it_feeds(gateway: InProcess):
    gateway.fake("FK2").faults = Faults(down=True, methods=frozenset({"tariffs"}))
    body = await gateway.graphql(NEAR, {"first": 100})
    [error] = operator_errors(body)
    assert error["extensions"]["operator"] == "FK2"
    fk2 = connectors_by_operator(body)["Fake FK2"]
    assert all(c["status"] != "UNKNOWN" and c["currentPrice"] is None for c in fk2)


async def test_the_breaker_opens_and_the_operator_is_no_longer_called(gateway: InProcess):
    fake = gateway.fake("FK2")
    fake.faults = Faults(down=True)
    threshold = gateway.runtime.settings.breaker.failure_threshold
    for first in range(1, threshold + 1):  # distinct pages: no per-request cache in between
        assert operator_errors(await gateway.graphql(NEAR, {"first": first}))
    assert gateway.runtime.records["FK2"].breaker.state == "open"
    calls = sum(fake.calls.values())
    body = await gateway.graphql(NEAR, {"first": 50})
    [error] = operator_errors(body)
    assert error["extensions"]["operator"] == "FK2"
    assert sum(fake.calls.values()) == calls  # refused by the open circuit, not by the operator
    health = gateway.runtime.health("FK2")
    assert health.circuit_open and health.status.value == "DOWN"


async def test_an_operator_whose_catalogue_never_synced_is_reported(gateway: InProcess):
    catalogue = gateway.runtime.catalogue
    catalogue.sync_state["FK2"] = replace(catalogue.sync_state["FK2"], synced_at=None)
    body = await gateway.graphql(NEAR, {"first": 100})
    assert [e["extensions"]["operator"] for e in operator_errors(body)] == ["FK2"]
