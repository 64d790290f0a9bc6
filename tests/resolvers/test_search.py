"""Station search and lookups through the GraphQL app, in-process over fake operators."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gateway.catalogue.geoindex import haversine_km
from operators.domain import ConnectorStatus
from resolvers import ids
from tests.inprocess import FAKES, InProcess

MIDDLE = {"lat": 31.245, "lon": 121.497}
SEARCH = """query($lat: Float!, $lon: Float!, $r: Float!, $first: Int!) {
  stations(near: {lat: $lat, lon: $lon}, radiusKm: $r, first: $first) {
    totalCount
    edges { distanceKm node { id name operator { name protocol }
      connectors { id status maxPowerKw currentPrice { totalPerKwh { amount currency } } } } } } }"""
NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on Station { name connectors { id status }
                   tariff { currency periods { startTime totalPerKwh { amount } } } }
  ... on Connector { status station { id name } currentPrice { totalPerKwh { amount currency } } }
  ... on Operator { name protocol } } }"""


def native(gid: str) -> tuple[str, str]:
    """(operator id, native id) of a station's or connector's global id."""
    decoded = ids.decode(gid)
    assert decoded is not None, gid
    operator_id, native_id = decoded[1]
    return operator_id, native_id


def price_now(gateway: InProcess, operator_id: str, connector_id: str) -> Decimal:
    tariff = gateway.fake(operator_id).tariff_of[connector_id]
    local = datetime.now(UTC).astimezone(ZoneInfo(tariff.timezone)).time()
    return tariff.price_at(local).total_per_kwh


async def test_nearest_stations_of_both_operators_with_live_status_and_price(gateway: InProcess):
    expected = {
        (op_id, s.id): haversine_km(MIDDLE["lat"], MIDDLE["lon"], s.location.lat, s.location.lon)
        for op_id in FAKES
        for s in gateway.fake(op_id).stations.values()
    }
    within = {key: d for key, d in expected.items() if d <= 4}
    prices_before = {
        (op_id, cid): price_now(gateway, op_id, cid)
        for op_id in FAKES
        for cid in gateway.fake(op_id).tariff_of
    }
    data = await gateway.data(SEARCH, MIDDLE | {"r": 4, "first": 100})
    found = data["stations"]
    assert found["totalCount"] == len(within) > 10
    assert [native(e["node"]["id"]) for e in found["edges"]] == sorted(within, key=lambda k: (within[k], k))
    assert {e["node"]["operator"]["name"] for e in found["edges"]} == {f"Fake {op}" for op in FAKES}
    for edge in found["edges"]:
        op_id, _ = native(edge["node"]["id"])
        fake = gateway.fake(op_id)
        for c in edge["node"]["connectors"]:
            _, cid = native(c["id"])
            assert c["status"] == fake.statuses[cid].value
            price = c["currentPrice"]["totalPerKwh"]
            assert price["currency"] == "CNY"
            # Read now, or just before the query should a time-of-use period have changed in between.
            assert Decimal(price["amount"]) in (prices_before[op_id, cid], price_now(gateway, op_id, cid))
    for op_id in FAKES:  # the loaders' batches: one call per operator for each kind of data
        calls = gateway.fake(op_id).calls
        assert (calls["connector_statuses"], calls["tariffs"]) == (1, 1)


async def test_a_pushed_status_is_what_the_next_query_shows_without_asking_again(gateway: InProcess):
    fake = gateway.fake("FK1")
    station = next(iter(fake.stations.values()))
    gid = ids.station_id("FK1", station.id)
    before = (await gateway.data(NODE, {"id": gid}))["node"]["connectors"]
    polls = fake.calls["connector_statuses"]
    await fake.set_status(station.connectors[0].id, ConnectorStatus.OFFLINE)
    after = (await gateway.data(NODE, {"id": gid}))["node"]["connectors"]
    assert after[0]["status"] == "OFFLINE" and after[1:] == before[1:]
    assert fake.calls["connector_statuses"] == polls  # the push went to the cache, no poll needed


async def test_nodes_are_keyed_by_operator_and_native_id(gateway: InProcess):
    """Both fakes have a station S0001: each global id names its own."""
    for op_id in FAKES:
        fake = gateway.fake(op_id)
        station = fake.stations["S0001"]
        gid = ids.station_id(op_id, "S0001")
        node = (await gateway.data(NODE, {"id": gid}))["node"]
        assert (node["__typename"], node["name"]) == ("Station", station.name)
        assert [native(c["id"]) for c in node["connectors"]] == [(op_id, c.id) for c in station.connectors]
        tariff = fake.tariff_of[station.connectors[0].id]
        assert [p["startTime"] for p in node["tariff"]["periods"]] == [
            p.start.isoformat() for p in tariff.periods
        ]
        connector = (await gateway.data(NODE, {"id": node["connectors"][0]["id"]}))["node"]
        assert connector["__typename"] == "Connector"
        assert connector["station"] == {"id": gid, "name": station.name}
    operators = (await gateway.data("{ operators { id name protocol } }"))["operators"]
    for op in operators:
        node = (await gateway.data(NODE, {"id": op["id"]}))["node"]
        assert node == {"id": op["id"], "__typename": "Operator", "name": op["name"], "protocol": "fake"}


@pytest.mark.parametrize(
    "gid", ["nonsense", ids.station_id("FK1", "NOPE"), ids.station_id("NOBODY", "S0001")]
)
async def test_unknown_nodes_are_null(gateway: InProcess, gid: str):
    assert (await gateway.data(NODE, {"id": gid}))["node"] is None


async def test_a_names_only_query_makes_no_upstream_call(gateway: InProcess):
    before = {op_id: sum(gateway.fake(op_id).calls.values()) for op_id in FAKES}
    names = "query($lat: Float!, $lon: Float!) {stations(near: {lat: $lat, lon: $lon}) {edges {node {name}}}}"
    assert (await gateway.data(names, MIDDLE))["stations"]["edges"]
    assert {op_id: sum(gateway.fake(op_id).calls.values()) for op_id in FAKES} == before


async def test_a_resynced_station_shows_its_new_connectors_and_place(gateway: InProcess):
    """Ids and locations are built once per catalogue entry: a station the operator changed (a new
    entry under the same key) is shown as it is now, not as it was first hydrated."""
    station = gateway.fake("FK1").stations["S0001"]
    query = """query($id: ID!) { node(id: $id) { ... on Station {
        name location { lat lon } connectors { id maxPowerKw } } } }"""
    gid = ids.station_id("FK1", "S0001")
    before = (await gateway.data(query, {"id": gid}))["node"]
    assert [native(c["id"]) for c in before["connectors"]] == [("FK1", c.id) for c in station.connectors]
    changed = replace(
        station,
        name="Renamed",
        location=replace(station.location, lat=station.location.lat + 0.01),
        connectors=tuple(
            replace(c, id=f"{c.id}-NEW", max_power_kw=c.max_power_kw + 1) for c in station.connectors
        ),
    )
    gateway.runtime.catalogue.upsert([changed])
    after = (await gateway.data(query, {"id": gid}))["node"]
    assert after["name"] == "Renamed"
    assert after["location"] == {"lat": changed.location.lat, "lon": changed.location.lon}
    assert [native(c["id"]) for c in after["connectors"]] == [("FK1", c.id) for c in changed.connectors]
    assert [c["maxPowerKw"] for c in after["connectors"]] == [c.max_power_kw for c in changed.connectors]
