"""Station search end to end: GraphQL over HTTP → gateway → T/CEC simulators on loopback."""

from __future__ import annotations

import math
from decimal import Decimal

from gateway.catalogue.geoindex import haversine_km
from tests.app.conftest import CENTERS, HZ, SH, Stack

SEARCH = """
query($lat: Float!, $lon: Float!, $r: Float!, $first: Int!, $after: String, $filter: StationFilter) {
  stations(near: {lat: $lat, lon: $lon}, radiusKm: $r, first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor distanceKm node { id name operator { id name protocol } location { lat lon }
      connectors { id status type powerType maxPowerKw qrCode
        currentPrice { energyPerKwh { amount currency } servicePerKwh { amount }
                       totalPerKwh { amount currency } } } } }
  }
}
"""


def sim_stations_within(stack: Stack, op_id: str, lat: float, lon: float, r: float):
    return {
        s.id: haversine_km(lat, lon, s.lat, s.lon)
        for s in stack.sims[op_id].network.stations
        if haversine_km(lat, lon, s.lat, s.lon) <= r
    }


async def test_nearest_stations_with_status_and_price(stack: Stack):
    lat, lon = CENTERS[HZ]
    data = await stack.data(SEARCH, {"lat": lat, "lon": lon, "r": 5, "first": 10})
    result = data["stations"]
    expected = sim_stations_within(stack, HZ, lat, lon, 5)
    assert result["totalCount"] == len(expected) > 10
    edges = result["edges"]
    assert len(edges) == 10
    distances = [e["distanceKm"] for e in edges]
    assert distances == sorted(distances)
    assert distances == sorted(round(d, 3) for d in expected.values())[:10]
    for edge in edges:
        node = edge["node"]
        assert node["operator"]["protocol"] == "tcec"
        assert node["connectors"]
        for c in node["connectors"]:
            assert c["status"] != "UNKNOWN"
            price = c["currentPrice"]
            assert price["totalPerKwh"]["currency"] == "CNY"
            total = Decimal(price["totalPerKwh"]["amount"])
            assert total == Decimal(price["energyPerKwh"]["amount"]) + Decimal(
                price["servicePerKwh"]["amount"]
            )
            assert 0 < total < 5
            assert c["qrCode"].startswith("hlht://") and c["qrCode"].endswith(f".{HZ}/")


async def test_pagination_walks_every_station_once(stack: Stack):
    lat, lon = CENTERS[SH]
    whole = (await stack.data(SEARCH, {"lat": lat, "lon": lon, "r": 8, "first": 100}))["stations"]
    seen, after, pages = [], None, 0
    while True:
        page = (await stack.data(SEARCH, {"lat": lat, "lon": lon, "r": 8, "first": 7, "after": after}))[
            "stations"
        ]
        assert page["totalCount"] == whole["totalCount"]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [e["node"]["id"] for e in whole["edges"]]
    assert pages == math.ceil(whole["totalCount"] / 7)


async def test_filters(stack: Stack):
    lat, lon = CENTERS[HZ]

    async def search(flt):
        return (await stack.data(SEARCH, {"lat": lat, "lon": lon, "r": 15, "first": 100, "filter": flt}))[
            "stations"
        ]

    everything = await search(None)
    dc = await search({"powerTypes": ["DC"], "minPowerKw": 100})
    assert 0 < dc["totalCount"] < everything["totalCount"]
    for e in dc["edges"]:
        assert any(c["powerType"] == "DC" and c["maxPowerKw"] >= 100 for c in e["node"]["connectors"])
    ac = await search({"connectorTypes": ["GBT_AC"]})
    for e in ac["edges"]:
        assert any(c["type"] == "GBT_AC" for c in e["node"]["connectors"])
    available = await search({"availableOnly": True})
    assert 0 < available["totalCount"] <= everything["totalCount"]
    for e in available["edges"]:
        assert any(c["status"] == "AVAILABLE" for c in e["node"]["connectors"])
    op = everything["edges"][0]["node"]["operator"]["id"]
    only = await search({"operatorIds": [op]})
    assert only["totalCount"] == everything["totalCount"]  # Hangzhou holds only the HZ operator
    other = await search({"operatorIds": [SH]})  # raw operator ids work too
    assert other["totalCount"] == 0


SPAN = """
query($lat: Float!, $lon: Float!, $r: Float!, $first: Int!) {
  stations(near: {lat: $lat, lon: $lon}, radiusKm: $r, first: $first) {
    totalCount edges { node { operator { name } } }
  }
}
"""


async def test_a_query_spanning_both_cities(stack: Stack):
    # Catalogue only: a hundred stations' live prices are hundreds of upstream tariff calls, which
    # a loaded test machine can push past the stack's operator timeout; prices are tested above.
    data = await stack.data(SPAN, {"lat": 30.75, "lon": 120.8, "r": 120, "first": 100})
    ops = {e["node"]["operator"]["name"] for e in data["stations"]["edges"]}
    assert ops == {f"Test {HZ}", f"Test {SH}"}
    assert data["stations"]["totalCount"] == 160
