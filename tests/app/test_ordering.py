"""Ordered search, estimates and connector summaries end to end, on T/CEC and OCPI operators alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.settings.load import Settings
from tests.app.conftest import Stack, running_stack

ORDERED = """
query($by: StationOrder!, $first: Int!, $after: String, $energy: Decimal, $filter: StationFilter,
      $at: DateTime) {
  stations(near: {lat: 31.23, lon: 121.474}, radiusKm: 6, first: $first, after: $after, orderBy: $by,
           energyKwh: $energy, filter: $filter, startAt: $at) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor distanceKm node { id operator { protocol }
      connectors { id status type powerType maxPowerKw currentPrice { totalPerKwh { amount } } }
      estimate(energyKwh: 30, startAt: $at) { total { amount currency } connector { id } }
      connectorSummary { total available highestPowerKw lowestPrice { totalPerKwh { amount } }
        byPowerType { powerType total available } byConnectorType { connectorType total available } } } }
  }
}
"""

ESTIMATE_LINES = """
  energyKwh powerKw startAt endAt durationMinutes total { amount currency }
  lines { kind periodStart startAt endAt quantity unit unitPrice { amount } amount { amount } }
"""

TARIFFED = """
query($first: Int!) {
  stations(near: {lat: 31.23, lon: 121.474}, radiusKm: 6, first: $first) {
    edges { node { id operator { protocol } tariff { timezone
      periods { startTime energyPerKwh { amount } servicePerKwh { amount } }
      extras { kind amount { amount } unit } }
      connectors { id maxPowerKw } } } } }
"""

CONNECTOR_ESTIMATE = (
    """
query($id: ID!, $energy: Decimal!, $at: DateTime, $vehicle: Float) {
  node(id: $id) { ... on Connector {
    estimate(energyKwh: $energy, startAt: $at, vehicleMaxPowerKw: $vehicle) {"""
    + ESTIMATE_LINES
    + "} } } }"
)

D = Decimal
CENT = D("0.01")


@pytest.fixture
async def stack(stack_settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings, ocpi_stations=60) as running:
        yield running


def value(node: dict[str, Any], by: str) -> Decimal | float | None:
    """What ``by`` orders on, read back from the fields the client sees."""
    prices = [D(c["currentPrice"]["totalPerKwh"]["amount"]) for c in node["connectors"] if c["currentPrice"]]
    if by == "PRICE":
        return min(prices, default=None)
    if by == "POWER":
        return -max(c["maxPowerKw"] for c in node["connectors"])
    if by == "ESTIMATED_COST":
        return D(node["estimate"]["total"]["amount"]) if node["estimate"] else None
    return 0


async def walk(stack: Stack, variables: dict[str, Any], first: int) -> list[dict[str, Any]]:
    edges, after = [], None
    while True:
        page = (await stack.data(ORDERED, {**variables, "first": first, "after": after}))["stations"]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return edges
        after = page["pageInfo"]["endCursor"]


AT = "2026-01-05T13:30:00Z"  # 21:30 in Shanghai: many 30 kWh charges run past 22:00


@pytest.mark.parametrize("by", ["DISTANCE", "PRICE", "POWER", "ESTIMATED_COST"])
async def test_every_ordering_agrees_with_the_fields_and_pages_stably(stack: Stack, by: str):
    variables = {"by": by, "energy": "30", "at": AT}
    nearest = (await stack.data(ORDERED, {"by": "DISTANCE", "first": 1}))["stations"]
    for _ in range(3):  # PRICE uses the prices in force now: a period may begin while we page
        whole = (await stack.data(ORDERED, {**variables, "first": 100}))["stations"]
        paged = await walk(stack, variables, 7)
        again = (await stack.data(ORDERED, {**variables, "first": 100}))["stations"]
        if ids(again) == ids(whole):
            break
    else:
        raise AssertionError("the ordering kept changing")
    assert whole["totalCount"] == nearest["totalCount"] == len(whole["edges"]) > 20
    assert {e["node"]["operator"]["protocol"] for e in whole["edges"]} == {"tcec", "ocpi"}
    keys = []
    for e in whole["edges"]:
        v = value(e["node"], by)
        keys.append((v is None, v if v is not None else 0, e["distanceKm"]))
    assert keys == sorted(keys)
    if by != "DISTANCE":
        assert [k[2] for k in keys] != sorted(k[2] for k in keys)  # it really reordered
    assert [e["node"]["id"] for e in paged] == ids(whole)


def ids(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in connection["edges"]]


async def test_cursors_and_arguments_are_checked(stack: Stack):
    page = (await stack.data(ORDERED, {"by": "POWER", "first": 2}))["stations"]
    for variables, field in (
        ({"by": "PRICE", "first": 2, "after": page["pageInfo"]["endCursor"]}, "after"),
        ({"by": "PRICE", "first": 2, "after": "bm9wZQ"}, "after"),
        ({"by": "ESTIMATED_COST", "first": 2}, "energyKwh"),
        ({"by": "ESTIMATED_COST", "first": 2, "energy": "-1"}, "energyKwh"),
    ):
        body = await stack.graphql(ORDERED, variables)
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, variables


async def test_summaries_count_what_the_connectors_show_and_follow_the_filter(stack: Stack):
    for flt in (None, {"powerTypes": ["DC"]}, {"powerTypes": ["DC"], "availableOnly": True}):
        data = await stack.data(ORDERED, {"by": "DISTANCE", "first": 40, "filter": flt, "at": AT})
        assert {e["node"]["operator"]["protocol"] for e in data["stations"]["edges"]} == {"tcec", "ocpi"}
        for e in data["stations"]["edges"]:
            node, summary = e["node"], e["node"]["connectorSummary"]
            shown = [
                c
                for c in node["connectors"]
                if (flt is None or c["powerType"] == "DC")
                and (flt is None or not flt.get("availableOnly") or c["status"] == "AVAILABLE")
            ]
            if flt and flt.get("availableOnly"):  # only what a driver can use now
                assert summary["available"] == summary["total"] > 0
                chosen = node["estimate"]["connector"]["id"]
                assert chosen in {c["id"] for c in shown}
            assert summary["total"] == len(shown)
            assert summary["available"] == sum(c["status"] == "AVAILABLE" for c in shown)
            assert summary["highestPowerKw"] == max(c["maxPowerKw"] for c in shown)
            prices = [D(c["currentPrice"]["totalPerKwh"]["amount"]) for c in shown]
            assert D(summary["lowestPrice"]["totalPerKwh"]["amount"]) == min(prices)
            for group, field in (("byPowerType", "powerType"), ("byConnectorType", "type")):
                counts = {g[field if group == "byPowerType" else "connectorType"]: g for g in summary[group]}
                assert sum(g["total"] for g in counts.values()) == len(shown)
                for kind, g in counts.items():
                    mine = [c for c in shown if c[field] == kind]
                    assert g["total"] == len(mine)
                    assert g["available"] == sum(c["status"] == "AVAILABLE" for c in mine)


async def test_a_station_estimate_is_its_cheapest_matching_connector(stack: Stack):
    data = await stack.data(ORDERED, {"by": "ESTIMATED_COST", "first": 40, "energy": "30", "at": AT})
    edges = data["stations"]["edges"]
    edges = [e for e in edges if e["node"]["operator"]["protocol"] == "tcec"][:6] + [
        e for e in edges if e["node"]["operator"]["protocol"] == "ocpi"
    ][:6]
    assert {e["node"]["operator"]["protocol"] for e in edges} == {"tcec", "ocpi"}
    for e in edges:
        node = e["node"]
        totals = {}
        for c in node["connectors"]:
            got = await stack.data(CONNECTOR_ESTIMATE, {"id": c["id"], "energy": "30", "at": AT})
            totals[c["id"]] = D(got["node"]["estimate"]["total"]["amount"])
        assert D(node["estimate"]["total"]["amount"]) == min(totals.values())
        assert totals[node["estimate"]["connector"]["id"]] == min(totals.values())


def boundary_start(tariff: dict[str, Any]) -> tuple[datetime, dict[str, Any], dict[str, Any]]:
    """Half an hour before a period that is not the first begins, and the two periods around it."""
    periods = tariff["periods"]
    i = next(
        i for i in range(1, len(periods)) if periods[i]["energyPerKwh"] != periods[i - 1]["energyPerKwh"]
    )
    hh, mm, _ = (int(x) for x in periods[i]["startTime"].split(":"))
    local = datetime(2026, 1, 5, hh, mm, tzinfo=ZoneInfo(tariff["timezone"]))
    return (local - timedelta(minutes=30)).astimezone(UTC), periods[i - 1], periods[i]


@pytest.mark.parametrize("protocol", ["tcec", "ocpi"])
async def test_an_estimate_across_a_time_of_use_boundary(stack: Stack, protocol: str):
    edges = (await stack.data(TARIFFED, {"first": 100}))["stations"]["edges"]
    node = next(
        e["node"]
        for e in edges
        if e["node"]["operator"]["protocol"] == protocol and e["node"]["connectors"][0]["maxPowerKw"] >= 7
    )
    tariff, connector = node["tariff"], node["connectors"][0]
    start, before, after = boundary_start(tariff)
    power = D(str(min(connector["maxPowerKw"], 7.0)))  # a vehicle limited to 7 kW (or a slower pile)
    energy = power  # one hour: half before the boundary, half after
    got = await stack.data(
        CONNECTOR_ESTIMATE,
        {"id": connector["id"], "energy": str(energy), "at": start.isoformat(), "vehicle": 7.0},
    )
    est = got["node"]["estimate"]
    assert est["durationMinutes"] == 60 and D(str(est["powerKw"])) == power
    assert datetime.fromisoformat(est["startAt"]) == start
    per_kwh = [line for line in est["lines"] if line["unit"] == "kWh"]
    energy_lines = [line for line in per_kwh if line["kind"] == "ENERGY"]
    assert [line["periodStart"] for line in energy_lines] == [before["startTime"], after["startTime"]]
    assert [D(line["quantity"]) for line in energy_lines] == [energy / 2, energy / 2]
    assert datetime.fromisoformat(energy_lines[1]["startAt"]) == start + timedelta(minutes=30)
    for line, period in zip(energy_lines, (before, after), strict=True):
        assert D(line["unitPrice"]["amount"]) == D(period["energyPerKwh"]["amount"])
    for line in est["lines"]:
        expected = (D(line["quantity"]) * D(line["unitPrice"]["amount"])).quantize(CENT, ROUND_HALF_UP)
        assert D(line["amount"]["amount"]) == expected
        assert line["amount"]["amount"] == str(expected)  # two places, always
    assert D(est["total"]["amount"]) == sum(D(line["amount"]["amount"]) for line in est["lines"])
    assert est["total"]["currency"] == "CNY"
    kinds = {line["kind"] for line in est["lines"]}
    extras = {x["kind"] for x in tariff["extras"]}
    assert ("FLAT" in kinds) == ("FLAT" in extras)
    assert "PARKING" not in kinds
    if protocol == "tcec":
        assert kinds == {"ENERGY", "SERVICE"}
    else:  # priced by the CPO's rules: the DC tariff's TIME fee only starts after 90 minutes
        assert "TIME" not in kinds


async def test_an_estimate_without_start_begins_now_and_bad_input_is_typed(stack: Stack):
    edges = (await stack.data(TARIFFED, {"first": 1}))["stations"]["edges"]
    cid = edges[0]["node"]["connectors"][0]["id"]
    before = datetime.now(UTC).replace(microsecond=0)
    est = (await stack.data(CONNECTOR_ESTIMATE, {"id": cid, "energy": "20"}))["node"]["estimate"]
    assert before <= datetime.fromisoformat(est["startAt"]) <= datetime.now(UTC)
    for energy, vehicle, field in (
        ("0", None, "energyKwh"),
        ("5000", None, "energyKwh"),
        ("20", -3, "vehicleMaxPowerKw"),
    ):
        body = await stack.graphql(CONNECTOR_ESTIMATE, {"id": cid, "energy": energy, "vehicle": vehicle})
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
